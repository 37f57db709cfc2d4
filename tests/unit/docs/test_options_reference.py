"""The options reference of the docs is generated from the code (tools/options_reference.py), never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import options_reference


@pytest.mark.parametrize("page", sorted(options_reference.PAGES), ids=lambda page: page.name)
def test_the_page_holds_the_reference_the_code_writes(page: Path) -> None:
    # Run `python tools/options_reference.py` after changing an option or its docstring.
    assert options_reference.rewrite(page) == page.read_text()


def test_every_argument_and_field_is_in_the_reference() -> None:
    logger = options_reference.reference(options_reference.ROOT / "docs" / "logger.md")

    for row in ("| `reading` | `StreamReading()` |", "| `batch_size` | `100` | Most records per invocation"):
        assert row in logger
    assert "| `partition_key` | required |" in logger
    assert "|  |" not in logger  # an argument without its :param, or a field without its docstring
