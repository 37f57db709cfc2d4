"""The checks of the option types: each lets a deploy-time value (a token) pass.

A value that CloudFormation resolves at deploy time (``CfnParameter(...).value_as_number``, a
``Duration`` or ``Size`` made from one) is a token at synth: there is nothing to check yet, so
every check skips it, as aws-cdk's own do (``Token.isUnresolved``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from aws_cdk import Duration, Size, Token
from aws_cdk import aws_logs as logs


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


def check_kms_key(name: str, key: object) -> None:
    """``key`` is none or a KMS key (a jsii interface: told by its members)."""
    if key is not None and not hasattr(key, "key_arn"):
        raise ValueError(f"{name} must be a KMS key (kms.Key(...) or kms.Key.from_key_arn(...)), got {key!r}")


def check_redact(redact: Sequence[str]) -> None:
    """The constructs' ``redact``: attribute names or dotted paths, none of them empty."""
    if isinstance(redact, str) or not all(isinstance(p, str) and all(p.split(".")) for p in redact):
        raise ValueError(
            f"redact must be a list of attribute names or dotted paths (no empty name: 'card.number', "
            f"not 'card..number'), got {redact!r}"
        )


def check_options(**options: tuple[object, type]) -> None:
    """Each option is of its type or none: ``archive=True`` of the old API gets a clear error."""
    for name, (value, kind) in options.items():
        if value is not None and not isinstance(value, kind):
            raise ValueError(f"{name} takes {kind.__name__}(...), got {value!r}")


def is_bucket(destination: object) -> bool:
    # jsii interfaces are not runtime-checkable protocols: tell them apart by their members.
    return hasattr(destination, "bucket_arn") and hasattr(destination, "arn_for_objects")


def is_queue(destination: object) -> bool:
    return hasattr(destination, "queue_arn") and hasattr(destination, "queue_url")


def check_log_group_class(log_group_class: logs.LogGroupClass, *, archive: bool, dashboard: bool) -> None:
    """Refuse, at synth, what the logger's log group class cannot do.

    An INFREQUENT_ACCESS group feeds no subscription filter and extracts no embedded metrics
    (CloudWatch Logs user guide, "Log classes"; DescribeSubscriptionFilters answers "This
    operation is only supported on the Standard log class").
    """
    if log_group_class != logs.LogGroupClass.INFREQUENT_ACCESS:
        return
    if archive:
        raise ValueError(
            "archive needs log.group_class=STANDARD: CloudWatch Logs sends no log line of an "
            "INFREQUENT_ACCESS log group to a subscription filter, so nothing would reach the archive."
        )
    if dashboard:
        raise ValueError(
            "log.group_class=INFREQUENT_ACCESS extracts no embedded metrics, so the dashboard's graphs of the "
            "handler's metrics (InsertRecords, ...) would stay empty: give dashboard=False, or keep STANDARD."
        )
