"""The alerts handler: which records fire which rule, the message they publish, and failures."""

from __future__ import annotations

import copy
import io
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from rfc3339_validator import validate_rfc3339

# The function's environment, as the ChangeAlerts construct sets it (read at import).
os.environ.update(
    ALERT_RULES=json.dumps(
        [{"name": "back-in-stock", "kind": "rises_above", "attribute": "Stocks", "threshold": "0", "title": "Back"}]
    ),
    TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:alerts",
    KEY_ATTRIBUTES='["PK","SK"]',
    REDACT_ATTRIBUTES="[]",
)

import change_alerts
import dynamo_json
import stream_common
from change_alerts import Rule
from local.lambda_context import LambdaContext
from tests.unit.handler.conftest import DeadlineContext, connections, load_event

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Cloud9/stream/2023-07-16T09:00:05.000"
CHAIR = {"PK": {"S": "FURNITURE"}, "SK": {"S": "CHAIR#ERGONOMIC"}}


def rule(kind: str = "rises_above", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": f"test-{kind}", "kind": kind, "title": "Alert"}
    if kind != "expires":
        base["attribute"] = "Stocks"
    if kind in ("rises_above", "falls_to_or_below"):
        base["threshold"] = "0"
    return {**base, **fields}


def record(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    event_name: str | None = None,
    sequence_number: str = "100",
    keys: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stream record whose images are the chair's keys plus the given attributes."""
    keys = keys or CHAIR
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": 1689508624,
        "Keys": keys,
        "SequenceNumber": sequence_number,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        stream["OldImage"] = {**keys, **old}
    if new is not None:
        stream["NewImage"] = {**keys, **new}
    if event_name is None:
        event_name = "MODIFY" if old is not None and new is not None else "INSERT" if new is not None else "REMOVE"
    return {
        "eventID": f"event-{sequence_number}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": stream,
        "eventSourceARN": STREAM_ARN,
    }


def n(text: str) -> dict[str, str]:
    return {"N": text}


def stocks(old: str | None, new: str | None) -> dict[str, Any]:
    """A MODIFY of the chair's Stocks; None leaves the attribute out of that image."""
    return record({} if old is None else {"Stocks": n(old)}, {} if new is None else {"Stocks": n(new)})


class FakeSns:
    """Records each Publish; raises for the sequence numbers in ``failing``."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.published: list[dict[str, Any]] = []
        self.failing = failing or set()

    def publish(self, **arguments: Any) -> dict[str, Any]:
        body = json.loads(arguments["Message"], parse_float=Decimal)
        if body["sequence_number"] in self.failing:
            raise RuntimeError("SNS is down")
        self.published.append(arguments)
        return {"MessageId": f"message-{len(self.published)}"}

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(arguments["Message"], parse_float=Decimal) for arguments in self.published]


@contextmanager
def configured(
    rules: list[dict[str, Any]], redact: list[str] | None = None, include_image: bool = False
) -> Iterator[None]:
    saved = (change_alerts.RULES, change_alerts.REDACT, change_alerts.INCLUDE_IMAGE)
    change_alerts.RULES = [Rule.parse(item) for item in rules]
    change_alerts.REDACT = dynamo_json.redaction_tree(redact or [])
    change_alerts.INCLUDE_IMAGE = include_image
    try:
        yield
    finally:
        change_alerts.RULES, change_alerts.REDACT, change_alerts.INCLUDE_IMAGE = saved


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> FakeSns:
    fake = FakeSns()
    monkeypatch.setattr(change_alerts, "sns", lambda: fake)
    return fake


class LogLines:
    """The lines the handler's Logger writes."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def level(self, level: str) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.buffer.getvalue().splitlines()]
        return [line for line in lines if line["level"] == level]


@pytest.fixture
def log() -> Iterator[LogLines]:
    lines = LogLines()
    handler = change_alerts.logger.registered_handler
    previous = handler.setStream(lines.buffer)  # type: ignore[attr-defined]
    try:
        yield lines
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


def fires(rule_fields: dict[str, Any], event: dict[str, Any]) -> bool:
    return Rule.parse(rule_fields).fires(event)


# --- rises above -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("0", "5", True),  # back in stock
        ("0", "1", True),
        ("0", "0", False),  # exactly the threshold is not above it
        ("-3", "1", True),
        ("-1", "0", False),
        ("2", "5", False),  # it was in stock already
        ("5", "0", False),
        (None, "5", True),  # absent before
        ("0", None, False),  # absent after
        ("0", "0.0000000001", True),
        ("0", "-0", False),
        ("0E+5", "1E-130", True),
    ],
)
def test_rises_above_zero(old: str | None, new: str | None, expected: bool) -> None:
    assert fires(rule(), stocks(old, new)) is expected


def test_rises_above_compares_38_digit_numbers_exactly() -> None:
    # As floats all three are the same number: 1.2345678901234568e+37.
    threshold = "12345678901234567890123456789012345678"
    above = "12345678901234567890123456789012345679"

    assert fires(rule(threshold=threshold), stocks(threshold, above)) is True
    assert fires(rule(threshold=threshold), stocks("12345678901234567890123456789012345677", threshold)) is False
    assert float(threshold) == float(above)


def test_rises_above_a_decimal_threshold_is_exact() -> None:
    # 0.1 + 0.2 as a float is above 0.3; as a number it equals it.
    assert fires(rule(threshold="0.3"), stocks("0.1", "0.3")) is False
    assert fires(rule(threshold="0.3"), stocks("0.1", "0.30000000000000000000000000000000001")) is True


def test_rises_above_ignores_values_that_are_not_numbers() -> None:
    as_text = record({"Stocks": n("0")}, {"Stocks": {"S": "5"}})
    was_text = record({"Stocks": {"S": "SOLD OUT"}}, {"Stocks": n("5")})

    assert fires(rule(), as_text) is False
    # A value that was not a number was not above the threshold: now it is.
    assert fires(rule(), was_text) is True


def test_rises_above_fires_for_an_insert_unless_only_modify_is_asked_for() -> None:
    insert = record(None, {"Stocks": n("5")})

    assert fires(rule(), insert) is True
    assert fires(rule(event_names=["MODIFY"]), insert) is False
    assert fires(rule(event_names=["MODIFY"]), stocks("0", "5")) is True


def test_rises_above_never_fires_for_a_remove() -> None:
    assert fires(rule(), record({"Stocks": n("0")}, None)) is False


def test_rises_above_at_a_dotted_path() -> None:
    price = {"Price": {"M": {"USD": n("0.8"), "INR": n("50")}}}
    raised = {"Price": {"M": {"USD": n("1.2"), "INR": n("50")}}}

    assert fires(rule(attribute="Price.USD", threshold="1"), record(price, raised)) is True
    assert fires(rule(attribute="Price.INR", threshold="1"), record(price, raised)) is False
    # A path through something that is not a map is absent.
    assert fires(rule(attribute="Price.USD", threshold="1"), record({"Price": n("1")}, raised)) is True


# --- falls to or below -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("5", "0", True),  # exactly the threshold counts
        ("1", "-2", True),
        ("5", "1", False),
        ("0", "-1", False),  # it was at or below already
        (None, "0", True),  # absent before
        ("5", None, False),  # absent after
    ],
)
def test_falls_to_or_below_zero(old: str | None, new: str | None, expected: bool) -> None:
    assert fires(rule("falls_to_or_below"), stocks(old, new)) is expected


def test_falls_to_or_below_a_low_stock_threshold() -> None:
    low = rule("falls_to_or_below", threshold="10")

    assert fires(low, stocks("11", "10")) is True
    assert fires(low, stocks("11", "10.000000000000000000000000000000001")) is False


# --- becomes ------------------------------------------------------------------------------


def test_becomes_a_string() -> None:
    leaving = rule("becomes", attribute="Status", value={"S": "LEAVING_SOON"})

    assert fires(leaving, record({"Status": {"S": "ACTIVE"}}, {"Status": {"S": "LEAVING_SOON"}})) is True
    assert fires(leaving, record({"Status": {"S": "LEAVING_SOON"}}, {"Status": {"S": "LEAVING_SOON"}})) is False
    assert fires(leaving, record({}, {"Status": {"S": "LEAVING_SOON"}})) is True
    assert fires(leaving, record({"Status": {"S": "ACTIVE"}}, {"Status": {"S": "leaving_soon"}})) is False


def test_becomes_a_number_compares_numbers_not_text() -> None:
    five = rule("becomes", value={"N": "5"})

    assert fires(five, stocks("4", "5.0")) is True
    assert fires(five, stocks("5", "5.00")) is False  # it was 5 already
    assert fires(five, record({"Stocks": n("4")}, {"Stocks": {"S": "5"}})) is False


def test_becomes_a_boolean() -> None:
    hidden = rule("becomes", attribute="Hidden", value={"BOOL": True})

    assert fires(hidden, record({"Hidden": {"BOOL": False}}, {"Hidden": {"BOOL": True}})) is True
    assert fires(hidden, record({"Hidden": {"BOOL": True}}, {"Hidden": {"BOOL": True}})) is False


# --- expires ------------------------------------------------------------------------------


def test_expires_fires_for_a_ttl_remove_only() -> None:
    (ttl_remove,) = load_event("ttl_remove")["Records"]
    deleted = copy.deepcopy(ttl_remove)
    del deleted["userIdentity"]
    by_someone = copy.deepcopy(ttl_remove)
    by_someone["userIdentity"] = {"type": "Service", "principalId": "someone.amazonaws.com"}

    assert fires(rule("expires"), ttl_remove) is True
    assert fires(rule("expires"), deleted) is False
    assert fires(rule("expires"), by_someone) is False
    assert fires(rule("rises_above", attribute="ExpiresAt"), ttl_remove) is False


# --- the message --------------------------------------------------------------------------


def test_back_in_stock_message(sns: FakeSns) -> None:
    event = {"Records": [record({"Stocks": n("0")}, {"Stocks": n("5"), "Price": {"M": {"USD": n("129.99")}}})]}

    with configured([rule(name="back-in-stock", title="Back in stock")], include_image=True):
        response = change_alerts.handler(event, LambdaContext())

    assert response == {"batchItemFailures": []}
    (published,) = sns.published
    assert published["TopicArn"] == TOPIC
    assert published["Subject"] == "Back in stock: FURNITURE / CHAIR#ERGONOMIC"
    assert published["MessageAttributes"] == {
        "rule": {"DataType": "String", "StringValue": "back-in-stock"},
        "event_name": {"DataType": "String", "StringValue": "MODIFY"},
        "table": {"DataType": "String", "StringValue": "Cloud9"},
    }
    # Numbers are exact JSON numbers, in this order.
    assert published["Message"] == (
        '{"rule":"back-in-stock","summary":"Stocks 0 → 5","table":"Cloud9","event_name":"MODIFY",'
        '"keys":{"PK":"FURNITURE","SK":"CHAIR#ERGONOMIC"},"attribute":"Stocks","old":0,"new":5,'
        '"event_id":"event-100","sequence_number":"100","approximate_creation_time":"2023-07-16T11:57:04Z",'
        '"new_image":{"PK":"FURNITURE","SK":"CHAIR#ERGONOMIC","Stocks":5,"Price":{"USD":129.99}}}'
    )


def test_by_default_a_message_carries_the_keys_and_the_change_not_the_image(sns: FakeSns) -> None:
    # GIVEN an item with an attribute the rule does not read
    event = {"Records": [record({"Stocks": n("0")}, {"Stocks": n("5"), "Owner": {"S": "ada@example.com"}})]}

    with configured([rule(name="back-in-stock", title="Back in stock")]):
        change_alerts.handler(event, LambdaContext())

    (published,) = sns.published
    assert published["Message"] == (
        '{"rule":"back-in-stock","summary":"Stocks 0 → 5","table":"Cloud9","event_name":"MODIFY",'
        '"keys":{"PK":"FURNITURE","SK":"CHAIR#ERGONOMIC"},"attribute":"Stocks","old":0,"new":5,'
        '"event_id":"event-100","sequence_number":"100","approximate_creation_time":"2023-07-16T11:57:04Z"}'
    )
    assert "ada@example.com" not in json.dumps(published)


def test_include_image_comes_from_the_environment_and_refuses_anything_but_true_or_false(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value, expected in (("", "FALSE"), ("true", "TRUE"), ("False", "FALSE")):
        monkeypatch.setenv("INCLUDE_IMAGE", value)
        assert stream_common.choice_env("INCLUDE_IMAGE", ("FALSE", "TRUE")) == expected
    monkeypatch.setenv("INCLUDE_IMAGE", "yes")
    with pytest.raises(ValueError, match=r"^INCLUDE_IMAGE must be one of FALSE, TRUE, got 'YES'$"):
        stream_common.choice_env("INCLUDE_IMAGE", ("FALSE", "TRUE"))


def test_message_of_an_attribute_absent_before(sns: FakeSns) -> None:
    with configured([rule()]):
        change_alerts.handler({"Records": [stocks(None, "3")]}, LambdaContext())

    (body,) = sns.bodies
    assert body["summary"] == "Stocks (none) → 3"
    assert "old" not in body
    assert body["new"] == 3


def test_message_of_a_string_rule_shows_the_strings_unquoted(sns: FakeSns) -> None:
    leaving = rule("becomes", attribute="Status", value={"S": "LEAVING_SOON"}, title="Leaving soon")
    with configured([leaving]):
        change_alerts.handler(
            {"Records": [record({"Status": {"S": "ACTIVE"}}, {"Status": {"S": "LEAVING_SOON"}})]}, LambdaContext()
        )

    (body,) = sns.bodies
    assert body["summary"] == "Status ACTIVE → LEAVING_SOON"
    assert (body["old"], body["new"]) == ("ACTIVE", "LEAVING_SOON")
    assert sns.published[0]["Subject"] == "Leaving soon: FURNITURE / CHAIR#ERGONOMIC"


def test_message_of_an_expiry_carries_the_last_image(sns: FakeSns) -> None:
    with configured([rule("expires", name="expired", title="Session expired")], include_image=True):
        change_alerts.handler(load_event("ttl_remove"), LambdaContext())

    (body,) = sns.bodies
    assert sns.published[0]["Subject"] == "Session expired: SESSION / user#42"
    assert body["summary"] == "expired (TTL)"
    assert body["event_name"] == "REMOVE"
    assert body["old_image"] == {"PK": "SESSION", "SK": "user#42", "ExpiresAt": 1689508000}
    assert "new_image" not in body and "attribute" not in body


def test_a_redacted_attribute_is_compared_but_never_shown(sns: FakeSns) -> None:
    event = {
        "Records": [
            record({"Stocks": n("0"), "Supplier": {"S": "ACME"}}, {"Stocks": n("7"), "Supplier": {"S": "ACME"}})
        ]
    }

    with configured([rule()], redact=["Stocks", "Supplier", "PK"], include_image=True):
        change_alerts.handler(event, LambdaContext())

    (published,) = sns.published
    body = json.loads(published["Message"])
    assert body["summary"] == "Stocks [REDACTED] → [REDACTED]"
    assert (body["old"], body["new"]) == ("[REDACTED]", "[REDACTED]")
    assert body["new_image"] == {
        "PK": "[REDACTED]",
        "SK": "CHAIR#ERGONOMIC",
        "Stocks": "[REDACTED]",
        "Supplier": "[REDACTED]",
    }
    assert body["keys"] == {"PK": "[REDACTED]", "SK": "CHAIR#ERGONOMIC"}
    assert published["Subject"] == "Alert: [REDACTED] / CHAIR#ERGONOMIC"
    assert "ACME" not in published["Message"] and "FURNITURE" not in published["Message"] + published["Subject"]


def test_a_redacted_path_inside_the_rule_attribute(sns: FakeSns) -> None:
    old = {"Price": {"M": {"USD": n("1"), "Cost": n("0.4")}}}
    new = {"Price": {"M": {"USD": n("2"), "Cost": n("0.4")}}}

    with configured([rule(attribute="Price.USD", threshold="1")], redact=["Price.Cost"], include_image=True):
        change_alerts.handler({"Records": [record(old, new)]}, LambdaContext())

    (body,) = sns.bodies
    assert body["summary"] == "Price.USD 1 → 2"
    assert body["new_image"]["Price"] == {"USD": 2, "Cost": "[REDACTED]"}


def test_subject_is_ascii_and_shorter_than_100_characters(sns: FakeSns) -> None:
    keys = {"PK": {"S": "MÖBEL"}, "SK": {"S": "STUHL#" + "X" * 200}}

    with configured([rule(title="Wieder da")]):
        change_alerts.handler({"Records": [record({"Stocks": n("0")}, {"Stocks": n("1")}, keys=keys)]}, LambdaContext())

    subject = sns.published[0]["Subject"]
    assert subject.startswith("Wieder da: M?BEL / STUHL#XXX")
    assert subject.endswith("...") and len(subject) == 99 and subject.isascii()
    assert sns.bodies[0]["keys"]["PK"] == "MÖBEL"


def test_an_image_too_large_for_sns_is_left_out(sns: FakeSns) -> None:
    big = {"Stocks": n("5"), "Notes": {"S": "x" * 300_000}}

    with configured([rule()], include_image=True):
        change_alerts.handler({"Records": [record({"Stocks": n("0")}, big)]}, LambdaContext())

    (body,) = sns.bodies
    assert "new_image" not in body
    assert body["new_image_left_out"] is True
    assert body["new"] == 5


def test_one_record_publishes_once_per_rule_it_fires_in_rule_order(sns: FakeSns) -> None:
    rules = [rule(name="above-0"), rule(name="above-3", threshold="3"), rule(name="above-9", threshold="9")]

    with configured(rules):
        change_alerts.handler({"Records": [stocks("0", "5")]}, LambdaContext())

    assert [body["rule"] for body in sns.bodies] == ["above-0", "above-3"]


def test_records_that_fire_nothing_publish_nothing(sns: FakeSns) -> None:
    with configured([rule()]):
        response = change_alerts.handler(load_event("tutorial_modify"), LambdaContext())

    assert response == {"batchItemFailures": []}
    assert sns.published == []


# --- failures -----------------------------------------------------------------------------


def test_a_failed_publish_is_reported_and_the_batch_stops_there(monkeypatch: pytest.MonkeyPatch, log: LogLines) -> None:
    fake = FakeSns(failing={"200"})
    monkeypatch.setattr(change_alerts, "sns", lambda: fake)
    event = {
        "Records": [
            record({"Stocks": n("0")}, {"Stocks": n(str(count))}, sequence_number=str(100 * count))
            for count in (1, 2, 3)
        ]
    }

    with configured([rule()]):
        response = change_alerts.handler(event, LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    # The record before it is published, the one after it is left for Lambda's retry.
    assert [body["sequence_number"] for body in fake.bodies] == ["100"]
    assert [(line["event_id"], line["sequence_number"], line["reason"]) for line in log.level("ERROR")] == [
        ("event-200", "200", "publish failed: RuntimeError")
    ]
    assert [(line["rule"], line["message_id"]) for line in log.level("INFO")] == [("test-rises_above", "message-1")]
    # RFC 3339, so that Lambda's log-level filter reads the lines' levels.
    assert all(validate_rfc3339(line["timestamp"]) for line in log.level("INFO") + log.level("ERROR"))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionClosedError(endpoint_url="https://sns"), "publish failed: ConnectionClosedError"),
        (ReadTimeoutError(endpoint_url="https://sns"), "publish failed: ReadTimeoutError"),
        (
            ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish"),
            "publish failed: ClientError (Throttling)",
        ),
    ],
)
def test_a_publish_that_fails_on_the_connection_is_reported(
    monkeypatch: pytest.MonkeyPatch, log: LogLines, error: Exception, reason: str
) -> None:
    # GIVEN SNS that fails with a connection's error (its response is None) or a service's
    class FailingSns:
        def publish(self, **arguments: Any) -> dict[str, Any]:
            raise error

    monkeypatch.setattr(change_alerts, "sns", FailingSns)

    with configured([rule()]):
        response = change_alerts.handler({"Records": [stocks("0", "1")]}, LambdaContext())

    # THEN the record is reported, with the error's type (and a service's code)
    assert response == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert [line["reason"] for line in log.level("ERROR")] == [reason]


def test_a_malformed_number_is_reported_without_its_value(sns: FakeSns, log: LogLines) -> None:
    event = {
        "Records": [stocks("0", "1"), record({"Stocks": n("0")}, {"Stocks": n("12secret")}, sequence_number="200")]
    }

    with configured([rule()]):
        response = change_alerts.handler(event, LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert len(sns.published) == 1
    assert "12secret" not in log.buffer.getvalue()
    assert [line["reason"] for line in log.level("ERROR")] == [
        "N value of the rule's attribute: N value is not a number"
    ]


def test_a_record_without_a_sequence_number_fails_the_whole_batch(sns: FakeSns) -> None:
    with configured([rule()]):
        response = change_alerts.handler({"Records": [{"eventName": "MODIFY"}]}, LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": ""}]}


def test_an_event_without_records_publishes_nothing(sns: FakeSns) -> None:
    assert change_alerts.handler({}, LambdaContext()) == {"batchItemFailures": []}
    assert sns.published == []


# --- a publish ends before the function's time does -----------------------------------------


@pytest.fixture
def stalled_sns(stalled_server: socket.socket, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """The real SNS client, at a socket that the kernel connects and nobody ever reads; a publish may take 2 s."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL_SNS": f"http://127.0.0.1:{stalled_server.getsockname()[1]}",
    }.items():
        monkeypatch.setenv(name, value)
    # Shorter than the handler's limits, so that the test takes seconds; a test below checks the real ones.
    monkeypatch.setattr(change_alerts, "PUBLISH_CONNECT_TIMEOUT", 1)
    monkeypatch.setattr(change_alerts, "PUBLISH_READ_TIMEOUT", 1)
    client = change_alerts.sns  # a test may put a stand-in in its place
    client.cache_clear()
    yield stalled_server
    client.cache_clear()


class AnswersOnceThenStalls:
    """SNS that answers the first publish (a FakeSns) and then stalls (the real client)."""

    def __init__(self) -> None:
        self.fake = FakeSns()
        self.stalled = change_alerts.sns()

    def publish(self, **arguments: Any) -> dict[str, Any]:
        return (self.stalled if self.fake.published else self.fake).publish(**arguments)


def _back_in_stock(*sequence_numbers: str) -> list[dict[str, Any]]:
    return [record({"Stocks": n("0")}, {"Stocks": n("5")}, sequence_number=number) for number in sequence_numbers]


def test_a_stalled_publish_fails_the_record_in_time_and_the_retry_publishes_nothing_twice(
    stalled_sns: socket.socket, monkeypatch: pytest.MonkeyPatch, log: LogLines
) -> None:
    # GIVEN two records that fire, SNS that stalls after the first publish, and 4 s left
    sns = AnswersOnceThenStalls()
    monkeypatch.setattr(change_alerts, "sns", lambda: sns)
    records = _back_in_stock("100", "200")

    # WHEN the handler runs
    started = time.monotonic()
    with configured([rule()]):
        response = change_alerts.handler({"Records": records}, DeadlineContext(seconds=4))
    elapsed = time.monotonic() - started

    # THEN it returns before the function's time is up, the second publish tried and given up
    assert 1 <= elapsed < 3
    assert connections(stalled_sns) == 1
    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert [line["reason"] for line in log.level("ERROR")] == ["publish failed: ReadTimeoutError"]

    # WHEN Lambda redelivers from that record, and SNS answers
    monkeypatch.setattr(change_alerts, "sns", lambda: sns.fake)
    with configured([rule()]):
        retry = change_alerts.handler({"Records": records[1:]}, DeadlineContext())

    # THEN each record is published, and logged, once across the two invocations
    assert retry == {"batchItemFailures": []}
    assert [body["sequence_number"] for body in sns.fake.bodies] == ["100", "200"]
    assert [line["sequence_number"] for line in log.level("INFO")] == ["100", "200"]


def test_a_publish_that_cannot_end_in_time_is_not_started(stalled_sns: socket.socket, log: LogLines) -> None:
    # GIVEN 2.5 s left: less than a publish may take (2 s) and the margin after it (1 s)
    started = time.monotonic()
    with configured([rule()]):
        response = change_alerts.handler({"Records": _back_in_stock("100")}, DeadlineContext(seconds=2.5))

    # THEN the record fails at once, without a connection to SNS
    assert time.monotonic() - started < 1
    assert connections(stalled_sns) == 0
    assert response == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    (error,) = log.level("ERROR")
    assert error["reason"].startswith("not published in the time left")


def test_a_publish_ends_well_within_the_default_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # The construct's default timeout is 30 s; a publish and the margin after it take at most 8 s.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    change_alerts.sns.cache_clear()
    assert change_alerts._publish_ms() + change_alerts.PUBLISH_MARGIN_MS <= 8_000
    config = change_alerts.sns().meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries["total_max_attempts"] == 1
    change_alerts.sns.cache_clear()


# --- the configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "grows"}, "needs a kind among rises_above"),
        ({"kind": "expires", "name": "x"}, "needs a name and a title"),
        ({"kind": "rises_above", "name": "x", "title": "X", "attribute": "a..b", "threshold": "0"}, "dotted path"),
        (
            {"kind": "rises_above", "name": "x", "title": "X", "attribute": "a", "threshold": "zero"},
            "invalid threshold",
        ),
        ({"kind": "becomes", "name": "x", "title": "X", "attribute": "a", "value": {"Q": 1}}, "invalid value"),
        (
            {
                "kind": "becomes",
                "name": "x",
                "title": "X",
                "attribute": "a",
                "value": {"S": "A"},
                "event_names": ["REMOVE"],
            },
            "event_names other than",
        ),
    ],
)
def test_a_bad_rule_fails_the_function_init_with_a_clear_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rule.parse(raw)


def test_no_rules_fail_the_function_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_RULES", "[]")

    with pytest.raises(ValueError, match="non-empty JSON array"):
        change_alerts.load_rules()


@pytest.mark.parametrize(
    ("redact", "new", "reason"),
    [
        (["emails"], {"emails": {"M": {"E1_erraddr@x.com": {"N": "x"}}}}, "emails.[REDACTED]: N value is not a number"),
        ([], {"Stocks": n("1"), "Notes": {"secret@x.com": "1"}}, "Notes: unknown type tag (not one of DynamoDB's ten)"),
    ],
)
def test_an_error_reason_of_the_image_names_no_data(
    sns: FakeSns, log: LogLines, redact: list[str], new: dict[str, Any], reason: str
) -> None:
    # GIVEN a record that fires the rule, with a malformed value elsewhere in its new image
    event = {"Records": [record({"Stocks": n("0")}, {"Stocks": n("1"), **new}, sequence_number="200")]}

    with configured([rule()], redact=redact, include_image=True):
        response = change_alerts.handler(event, LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert [line["reason"] for line in log.level("ERROR")] == [reason]
    assert "@x" not in log.buffer.getvalue()


def test_a_path_whose_parent_is_not_a_map_hides_the_parent_whole(sns: FakeSns) -> None:
    # GIVEN rules that name paths into a string attribute and into a key, and one escaped name
    new = {"Stocks": n("7"), "card": {"S": "4111-flat"}, "card.cvv": {"S": "123-dotted"}}
    event = {"Records": [record({"Stocks": n("0")}, new)]}

    with configured([rule()], redact=["card.number", "PK.part", "card\\.cvv"], include_image=True):
        change_alerts.handler(event, LambdaContext())

    (published,) = sns.published
    body = json.loads(published["Message"])
    assert body["new_image"]["card"] == "[REDACTED]" and body["new_image"]["card.cvv"] == "[REDACTED]"
    assert body["keys"]["PK"] == "[REDACTED]"
    assert "4111" not in published["Message"] and "123-dotted" not in published["Message"]
    assert "FURNITURE" not in published["Message"] + published["Subject"]
