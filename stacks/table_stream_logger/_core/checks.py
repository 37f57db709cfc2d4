"""The checks of the option types: each lets a deploy-time value (a token) pass.

A value that CloudFormation resolves at deploy time (``CfnParameter(...).value_as_number``, a
``Duration`` or ``Size`` made from one) is a token at synth: there is nothing to check yet, so
every check skips it, as aws-cdk's own do (``Token.isUnresolved``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aws_cdk import Duration, Size, Token


def is_unresolved(value: Any) -> bool:
    """Whether ``value`` is, or holds, a token that only deployment resolves."""
    if isinstance(value, Duration | Size):
        return bool(value.is_unresolved())
    return bool(Token.is_unresolved(value))


def check_range(name: str, value: float, low: float, high: float) -> None:
    """``low <= value <= high``, unless ``value`` is a token."""
    if is_unresolved(value):
        return
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def check_seconds(name: str, duration: Duration, low: float, high: float) -> None:
    """A duration between ``low`` and ``high`` seconds, unless it is a token."""
    if is_unresolved(duration):
        return
    check_range(f"{name} (seconds)", duration.to_seconds(), low, high)


def is_whole_days(duration: Duration) -> bool:
    """A whole number of days, at least 1 (a token passes)."""
    if is_unresolved(duration):
        return True
    days = duration.to_days(integral=False)
    return days >= 1 and days == int(days)


def check_one_of(name: str, value: object, choices: Collection[object]) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
