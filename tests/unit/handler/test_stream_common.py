"""The helpers both handlers share (lambda/stream_common.py), and that both use them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import change_alerts
import line_render
import oversized
import stream_logger
from stream_common import (
    RecordError,
    choice_env,
    failure_entry,
    identifier,
    json_env,
    key_text,
    names_env,
    sequence_number_of,
    table_name,
    user_log_level,
)

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{}/stream/2023-07-16T09:00:05.000"


def test_both_handlers_fail_records_with_the_one_record_error() -> None:
    # The handlers tell their own errors from bugs by `type(error) is RecordError`.
    for handler_module in (stream_logger, line_render, oversized, change_alerts):
        assert vars(handler_module)["RecordError"] is RecordError, handler_module.__name__
    assert issubclass(RecordError, ValueError)


@pytest.mark.parametrize(("raw", "expected"), [("", []), ("  ", []), ("[]", []), ('["PK", "SK"]', ["PK", "SK"])])
def test_names_come_from_a_json_array_and_default_to_none(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("KEY_ATTRIBUTES", raw)

    assert names_env("KEY_ATTRIBUTES") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[PK]", r"^KEY_ATTRIBUTES is not JSON: '\[PK\]'$"),
        ('"PK"', r"^KEY_ATTRIBUTES must be a JSON array of non-empty strings, got 'PK'$"),
        ('["PK", ""]', r"^KEY_ATTRIBUTES must be a JSON array of non-empty strings, got \['PK', ''\]$"),
        ('["PK", 1]', r"^KEY_ATTRIBUTES must be a JSON array of non-empty strings, got \['PK', 1\]$"),
    ],
)
def test_names_that_are_not_a_json_array_of_names_are_refused(
    monkeypatch: pytest.MonkeyPatch, raw: str, message: str
) -> None:
    monkeypatch.setenv("KEY_ATTRIBUTES", raw)

    with pytest.raises(ValueError, match=message):
        names_env("KEY_ATTRIBUTES")


def test_json_setting_falls_back_to_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERT_RULES", raising=False)
    assert json_env("ALERT_RULES", "[]") == []
    monkeypatch.setenv("ALERT_RULES", ' [{"kind": "expires"}] ')
    assert json_env("ALERT_RULES", "[]") == [{"kind": "expires"}]


def test_a_choice_is_read_in_any_case_and_defaults_to_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    choices = ("ONCE", "EVERY_LINE")
    monkeypatch.delenv("LOG_CONTEXT_KEYS", raising=False)
    assert choice_env("LOG_CONTEXT_KEYS", choices) == "ONCE"
    monkeypatch.setenv("LOG_CONTEXT_KEYS", " every_line ")
    assert choice_env("LOG_CONTEXT_KEYS", choices) == "EVERY_LINE"
    monkeypatch.setenv("LOG_CONTEXT_KEYS", "always")
    with pytest.raises(ValueError, match=r"^LOG_CONTEXT_KEYS must be one of ONCE, EVERY_LINE, got 'ALWAYS'$"):
        choice_env("LOG_CONTEXT_KEYS", choices)


@pytest.mark.parametrize(("level", "library_level"), [("DEBUG", "WARN"), ("ERROR", "ERROR")])
def test_the_users_log_level_is_set_on_the_logger_and_the_sdks_loggers(
    monkeypatch: pytest.MonkeyPatch, level: str, library_level: str
) -> None:
    names = ("a-service", "botocore", "boto3", "urllib3", "s3transfer")
    saved = [logging.getLogger(name).level for name in names]
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", level.lower())
    try:
        assert user_log_level("a-service") == logging.getLevelName(level)
        assert logging.getLevelName(logging.getLogger("a-service").level) == level
        assert {logging.getLevelName(logging.getLogger(name).level) for name in names[1:]} == {library_level}
    finally:
        for name, value in zip(names, saved, strict=True):
            logging.getLogger(name).setLevel(value)


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")

    with pytest.raises(ValueError, match=r"^POWERTOOLS_LOG_LEVEL must be one of INFO, DEBUG, WARN, ERROR"):
        user_log_level("a-service")


def test_python_warnings_are_named_as_lambda_knows_them() -> None:
    assert logging.getLevelName(logging.WARNING) == "WARN"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4421584500000000017450439091", "4421584500000000017450439091"),
        ("c81e728d9d4c2f636f067f89cc14862c", "c81e728d9d4c2f636f067f89cc14862c"),
        ("1" * 64, "1" * 64),
        ("1" * 65, None),
        ("", None),
        ("a\nb", None),
        ("caf\u00e9", None),
        (12, None),
        (None, None),
    ],
)
def test_an_identifier_is_shown_only_when_it_looks_like_one(value: Any, expected: str | None) -> None:
    assert identifier(value) == expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"dynamodb": {"SequenceNumber": "100"}}, "100"),
        ({"dynamodb": {"SequenceNumber": 100}}, 100),
        ({"dynamodb": {}}, None),
        ({"dynamodb": "100"}, None),
        ([], None),
    ],
)
def test_the_sequence_number_is_read_as_sent(record: Any, expected: Any) -> None:
    assert sequence_number_of(record) == expected


def test_the_failure_entry_checkpoints_at_the_record_or_fails_the_batch() -> None:
    assert failure_entry("100") == {"itemIdentifier": "100"}
    # Without a string to checkpoint at, the whole batch fails: retried, not lost.
    assert failure_entry(100) == failure_entry(None) == {"itemIdentifier": ""}


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (ARN.format("Cloud9"), "Cloud9"),
        (ARN.format("my.table_name-1"), "my.table_name-1"),
        (ARN.format("T"), None),  # shorter than DynamoDB allows
        (ARN.format("a b"), None),
        (ARN.format("caf\ud800"), None),
        (ARN.format("T" * 256), None),
        ("arn:aws:dynamodb:us-east-1:123456789012:stream/Cloud9", None),
        (None, None),
    ],
)
def test_the_table_name_comes_from_the_stream_arn_when_it_is_one(arn: Any, expected: str | None) -> None:
    assert table_name(arn) == expected


def test_both_handlers_read_the_table_and_the_log_level_the_same_way() -> None:
    for name, shared in (("table_name", table_name), ("user_log_level", user_log_level)):
        assert vars(stream_logger)[name] is vars(change_alerts)[name] is shared


@pytest.mark.parametrize(
    ("attribute", "redact", "expected"),
    [
        ({"S": "FRUIT"}, {}, "FRUIT"),
        ({"N": "42"}, {}, "42"),
        ({"B": "AAE="}, {}, "AAE="),
        ({"S": "ada@example.com"}, {"PK": True}, "[REDACTED]"),
        ({"S": "ada@example.com"}, {"PK": {"inner": True}}, "[REDACTED]"),  # a path into a key hides it whole
        ({"S": "FRUIT"}, {"SK": True}, "FRUIT"),
    ],
)
def test_a_key_reads_as_its_raw_text_unless_redacted(
    attribute: dict[str, Any], redact: dict[str, Any], expected: str
) -> None:
    assert key_text("PK", attribute, redact) == expected
