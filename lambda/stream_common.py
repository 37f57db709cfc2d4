"""What both stream handlers (the logger's ``stream_logger``, the alerts' ``change_alerts``) share.

The error of a record that cannot be processed, the reading of the function's environment, the
log level, and what a record says about itself: its identifiers, its table, its keys as text, and
the ``batchItemFailures`` entry that checkpoints at it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

# Lambda's log-level filtering knows TRACE, DEBUG, INFO, WARN, ERROR and FATAL; an unknown
# level such as Python's "WARNING" counts as INFO and would be dropped at log_level WARN.
logging.addLevelName(logging.WARNING, "WARN")
# RFC 3339 in UTC with milliseconds (%F: Powertools' milliseconds): Lambda's log-level filter
# (the function's ApplicationLogLevel) reads a JSON line's level only when its timestamp is one.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%FZ"
LOG_LEVELS = ("INFO", "DEBUG", "WARN", "ERROR")


class RecordError(ValueError):
    """A stream record that cannot be processed; the reason never contains a value."""


# --- the function's environment, read once per execution environment -------------------------
def json_env(name: str, default: str) -> Any:
    raw = os.environ.get(name, "").strip() or default
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(f"{name} is not JSON: {raw!r}") from None


def names_env(name: str) -> list[str]:
    """A JSON array of names (``REDACT_ATTRIBUTES``, ``KEY_ATTRIBUTES``); empty when unset."""
    value = json_env(name, "[]")
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{name} must be a JSON array of non-empty strings, got {value!r}")
    return value


def choice_env(name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``, in any case; the first when unset."""
    value = os.environ.get(name, "").strip().upper() or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def user_log_level(logger_name: str) -> int:
    """The user's log_level, applied to the handler's Logger and to the AWS SDK's loggers.

    Read from POWERTOOLS_LOG_LEVEL itself and not from the Logger's ``log_level``: in Lambda,
    the function's application log level sets AWS_LAMBDA_LOG_LEVEL, which Powertools (its
    setLevel() too) obeys over POWERTOOLS_LOG_LEVEL, and the constructs keep that at INFO
    (DEBUG for DEBUG). So the level is set on the Logger's standard logger.
    """
    level: int = logging.getLevelName(choice_env("POWERTOOLS_LOG_LEVEL", LOG_LEVELS))
    logging.getLogger(logger_name).setLevel(level)
    # Lambda's runtime sets the root logger to the function's application log level (DEBUG at
    # log_level=DEBUG): botocore would log every request, an SNS message with the item in it, and
    # urllib3 every connection. The AWS SDK and its HTTP client keep their warnings, unless
    # log_level is ERROR.
    for library in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(library).setLevel(max(logging.WARNING, level))
    return level


# --- what a record says about itself -------------------------------------------------------------
# A sequence number or event ID is logged as sent only when it looks like one (DynamoDB's are 21 to
# 40 digits, and 32 hexadecimal digits): a record of another shape is still identified, but its
# huge, non-text or not-Unicode value never makes its ERROR line too long or not JSON.
MAX_IDENTIFIER_CHARS = 64


def identifier(value: Any) -> str | None:
    """A record's sequence number or event ID as it may appear in a line, or None."""
    if type(value) is str and 0 < len(value) <= MAX_IDENTIFIER_CHARS and value.isascii() and value.isprintable():
        return value
    return None


def sequence_number_of(record: Any) -> Any:
    """The record's ``dynamodb.SequenceNumber`` as sent, or None."""
    stream = record.get("dynamodb") if type(record) is dict else None
    return stream.get("SequenceNumber") if type(stream) is dict else None


def failure_entry(sequence_number: Any) -> dict[str, str]:
    """The ``batchItemFailures`` entry of the record a handler stops at (fail fast).

    Lambda retries from that record, so the ones after it are handled then, once, rather than
    now and again on every retry. Without a sequence number there is nothing to checkpoint at:
    an empty identifier makes Lambda treat the whole batch as failed, so the record is retried,
    not lost.
    """
    return {"itemIdentifier": sequence_number if type(sequence_number) is str else ""}


_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}").fullmatch  # DynamoDB's rule for a table's name


def table_name(arn: Any) -> str | None:
    """The table's name, from a record's stream ARN."""
    # arn:aws:dynamodb:us-east-1:123456789012:table/Cloud9/stream/2023-07-16T09:00:05.000
    if type(arn) is str:
        _, found, rest = arn.partition(":table/")
        name = rest.split("/", 1)[0]
        if found and _TABLE_NAME(name):  # it goes into lines, messages and the copies' S3 keys
            return name
    return None


def key_text(name: str, attribute: dict[str, Any], redact: dict[str, Any]) -> str:
    """A key's value as a person reads it: the raw S, N or B text, unless redacted."""
    if redact.get(name) is not None:  # a path into a key, which is never a map, hides it whole
        return "[REDACTED]"
    (value,) = attribute.values()
    return str(value)
