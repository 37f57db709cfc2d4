"""What some tests need from outside the repository: without it they skip, with the reason shown.

The project's own CI (`.ci/run`) sets TSL_REQUIRE_ALL=1, which turns those skips into failures, so
that it can never silently stop running them. `CI=true` alone does not: GitHub Actions sets it on
every fork, whose clone has no ../shared/fixtures beside it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

STRICT = "TSL_REQUIRE_ALL"


def skip_or_fail(missing: str) -> NoReturn:
    """Skip with one line saying what is missing; under TSL_REQUIRE_ALL=1 fail instead."""
    if os.environ.get(STRICT, "") == "1":
        pytest.fail(f"{STRICT}=1: {missing}", pytrace=False)
    pytest.skip(missing)
