"""Publish an SNS notification when a DynamoDB stream record matches an alert rule.

Configuration (the function's environment, set by the ChangeAlerts construct):
- ``ALERT_RULES``: JSON array of rules, each ``{"name", "kind", "title", ...}``:
  - ``{"kind": "rises_above", "attribute": "Stocks", "threshold": "0"}``: the attribute is a
    number above the threshold now and was not before (absent, not a number, or at or below it);
  - ``{"kind": "falls_to_or_below", ...}``: the same, the other way;
  - ``{"kind": "becomes", "attribute": "Status", "value": {"S": "LEAVING_SOON"}}``: the
    attribute equals the value (DynamoDB JSON) now and did not before;
  - ``{"kind": "expires"}``: a REMOVE made by DynamoDB's TTL process, not by a delete.
  ``attribute`` may be a dotted path into maps (``"Price.USD"``). Numbers compare exactly.
- ``TOPIC_ARN``: the SNS topic to publish to.
- ``REDACT_ATTRIBUTES``, ``KEY_ATTRIBUTES``: as for the logger (JSON arrays of names).
- ``INCLUDE_IMAGE``: ``true`` puts the item's image (redacted) in each message; by default
  (``false``) a message carries the keys, the rule and the attribute's old and new value only.
- ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``.

Delivery is at least once: a batch that Lambda retries may publish again, so each message
carries the record's ``event_id`` for subscribers to drop duplicates.

On the first record that cannot be processed (its publish failed or could not end before the
function's time does, or it is malformed) the handler reports it in ``batchItemFailures`` and
stops: Lambda retries from that record, so the records after it are not published twice and
stay in order.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring as _json_string
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

import dynamo_json
from dynamo_json import InvalidValue
from stream_common import (
    TIMESTAMP_FORMAT,
    RecordError,
    choice_env,
    failure_entry,
    json_env,
    key_text,
    names_env,
    sequence_number_of,
    table_name,
    user_log_level,
)

KINDS = ("rises_above", "falls_to_or_below", "becomes", "expires")
ABSENT = "(none)"
# SNS: a subject is ASCII, without control characters, shorter than 100 characters; a message
# (body and attributes) is at most 256 KiB. A body above this leaves out the item image.
SUBJECT_LIMIT = 99
BODY_LIMIT = 250_000


@dataclass(frozen=True)
class Rule:
    """One alert rule, as the construct writes it into ``ALERT_RULES``."""

    name: str
    kind: str
    title: str
    path: tuple[str, ...] = ()
    threshold: Decimal | None = None
    value: dict[str, Any] | None = None
    # The events a change rule considers; an expires rule considers TTL REMOVEs only.
    event_names: tuple[str, ...] = ("INSERT", "MODIFY")

    @classmethod
    def parse(cls, raw: Any) -> Rule:
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            raise ValueError(f"each rule of ALERT_RULES needs a kind among {', '.join(KINDS)}, got {raw!r}")
        kind = raw["kind"]
        name, title = raw.get("name"), raw.get("title")
        if not isinstance(name, str) or not name or not isinstance(title, str) or not title:
            raise ValueError(f"each rule of ALERT_RULES needs a name and a title, got {raw!r}")
        if kind == "expires":
            return cls(name, kind, title, event_names=("REMOVE",))
        event_names = tuple(raw.get("event_names") or ("INSERT", "MODIFY"))
        if not set(event_names) <= {"INSERT", "MODIFY"}:
            raise ValueError(f"rule {name!r} has event_names other than INSERT and MODIFY: {event_names!r}")
        attribute = raw.get("attribute")
        if not isinstance(attribute, str) or not all(attribute.split(".")):
            raise ValueError(f"rule {name!r} needs an attribute name or dotted path, got {attribute!r}")
        if kind == "becomes":
            value = raw.get("value")
            try:
                dynamo_json.render(value)
            except InvalidValue as error:
                raise ValueError(f"rule {name!r} has an invalid value: {error}") from None
            return cls(name, kind, title, tuple(attribute.split(".")), value=value, event_names=event_names)
        try:
            threshold = Decimal(dynamo_json.number(raw.get("threshold")))
        except InvalidValue as error:
            raise ValueError(f"rule {name!r} has an invalid threshold: {error}") from None
        return cls(name, kind, title, tuple(attribute.split(".")), threshold=threshold, event_names=event_names)

    @property
    def attribute(self) -> str:
        return ".".join(self.path)

    def fires(self, record: dict[str, Any]) -> bool:
        """Whether this record is what the rule watches for."""
        if self.kind == "expires":
            return dynamo_json.is_ttl_deletion(record)
        if record.get("eventName") not in self.event_names:
            return False
        stream = record["dynamodb"]
        new = value_at(stream.get("NewImage"), self.path)
        old = value_at(stream.get("OldImage"), self.path)
        return self._holds(new) and not self._holds(old)

    def _holds(self, attribute: dict[str, Any] | None) -> bool:
        if attribute is None:
            return False
        if self.kind == "becomes":
            return same_value(attribute, self.value)
        number = number_of(attribute)
        if number is None:
            return False
        assert self.threshold is not None
        return number > self.threshold if self.kind == "rises_above" else number <= self.threshold


def value_at(image: Any, path: tuple[str, ...]) -> dict[str, Any] | None:
    """The attribute value at a dotted path of an image, or None when absent."""
    value: Any = {"M": image} if type(image) is dict else None
    for name in path:
        if type(value) is not dict or type(value.get("M")) is not dict:
            return None
        value = value["M"].get(name)
    return value if type(value) is dict else None


def number_of(attribute: dict[str, Any]) -> Decimal | None:
    """The exact value of an ``N`` attribute; None for any other type."""
    if set(attribute) != {"N"}:
        return None
    try:
        return Decimal(dynamo_json.number(attribute["N"]))
    except InvalidValue as error:
        raise RecordError(f"N value of the rule's attribute: {error.reason}") from None


def same_value(attribute: dict[str, Any], expected: Any) -> bool:
    """DynamoDB values equal as values: numbers exactly (``5`` equals ``5.0``), the rest as given."""
    if type(expected) is dict and set(expected) == {"N"}:
        number = number_of(attribute)
        return number is not None and number == Decimal(expected["N"])
    return bool(attribute == expected)


# --- configuration, read once per execution environment -----------------------------------
def load_rules() -> list[Rule]:
    raw = json_env("ALERT_RULES", "[]")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"ALERT_RULES must be a non-empty JSON array of rules, got {raw!r}")
    return [Rule.parse(item) for item in raw]


RULES = load_rules()
REDACT = dynamo_json.redaction_tree(names_env("REDACT_ATTRIBUTES"))
KEY_ATTRIBUTES = names_env("KEY_ATTRIBUTES")
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
# The item's image in each message (redacted), or its keys and the changed value only.
INCLUDE_IMAGE = choice_env("INCLUDE_IMAGE", ("FALSE", "TRUE")) == "TRUE"

# In UTC with a Z, as the logger's lines; the user's log_level on it and on the AWS SDK's loggers.
logger = Logger(utc=True, datefmt=TIMESTAMP_FORMAT)
LOG_LEVEL = user_log_level(logger.name)


# A publish's limits. With botocore's defaults (60 s to connect, 60 s for each read, retries) a
# stalled publish outlasts the function's timeout (30 s by default): the invocation times out and
# Lambda retries the whole batch, which publishes and logs again what was published before it.
# With these, a stalled publish gives up within _publish_ms(); one that might not end
# PUBLISH_MARGIN_MS before the function's time is up is not started. Either way the record fails,
# and Lambda retries from it.
PUBLISH_CONNECT_TIMEOUT = 2  # seconds, also for each write of the request; SNS connects in milliseconds
PUBLISH_READ_TIMEOUT = 5  # seconds, for each read of the answer
PUBLISH_ATTEMPTS = 1  # no retry inside the invocation: Lambda's retry of the record is the retry
PUBLISH_MARGIN_MS = 1_000  # for what follows a publish: its line, the response


def _publish_ms() -> int:
    """The longest a publish can take, in milliseconds."""
    return (PUBLISH_CONNECT_TIMEOUT + PUBLISH_READ_TIMEOUT) * PUBLISH_ATTEMPTS * 1000


@functools.cache
def sns() -> Any:
    """The SNS client, made on first use and kept for the execution environment's life."""
    config = Config(
        connect_timeout=PUBLISH_CONNECT_TIMEOUT,
        read_timeout=PUBLISH_READ_TIMEOUT,
        retries={"total_max_attempts": PUBLISH_ATTEMPTS},
    )
    return boto3.client("sns", config=config)


def _check_time_to_publish(context: Any) -> None:
    # Lambda's context always has it; a caller's stand-in may not (then a publish is not timed).
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    left = remaining_ms() if remaining_ms else None
    if left is not None and left < _publish_ms() + PUBLISH_MARGIN_MS:
        raise RecordError(f"not published in the time left ({left} ms; a publish may take {_publish_ms()} ms)")


# --- the message ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notification:
    """One SNS message: what ``Publish`` takes."""

    subject: str
    body: str
    attributes: dict[str, str]

    def publish_arguments(self, topic_arn: str) -> dict[str, Any]:
        return {
            "TopicArn": topic_arn,
            "Subject": self.subject,
            "Message": self.body,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value} for name, value in self.attributes.items()
            },
        }


def _redaction_at(path: tuple[str, ...]) -> Any:
    """The redaction rule for the value at a path: True, a subtree, or None."""
    node: Any = REDACT
    for name in path:
        if node is True:
            return True
        node = node.get(name)
        if node is None:
            return None
    return node


def _shown(attribute: dict[str, Any], path: tuple[str, ...]) -> str:
    """An attribute value as JSON text, exact, and redacted where configured."""
    try:
        text = dynamo_json.render(attribute)
    except InvalidValue as error:
        raise RecordError(error.describe(REDACT, path)) from None
    rule = _redaction_at(path)
    return text if rule is None else dynamo_json.render_redacted(attribute, rule)


def _image(image: Any, label: str) -> str:
    if type(image) is not dict:
        raise RecordError(f"{label} is not an object")
    return _shown({"M": image}, ())


def _keys(keys: Any) -> tuple[list[str], str]:
    """The key names, partition key first, and the keys object as JSON text."""
    if type(keys) is not dict or not keys:
        raise RecordError("Keys is missing or empty")
    order = [name for name in KEY_ATTRIBUTES if name in keys] + sorted(set(keys) - set(KEY_ATTRIBUTES))
    members = [dynamo_json.member(name) + _shown(keys[name], (name,)) for name in order]
    return order, "{" + ",".join(members) + "}"


def subject(title: str, key_text: str) -> str:
    """``Back in stock: FRUIT / APPLE#WASHINGTON``, made acceptable to SNS."""
    text = f"{title}: {key_text}"
    text = "".join(char if " " <= char <= "~" else "?" for char in text)
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."


def _time(seconds: Any) -> str | None:
    if type(seconds) not in (int, float):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def notification(rule: Rule, record: dict[str, Any]) -> Notification:
    """The message for a record that fires a rule."""
    stream = record["dynamodb"]
    key_order, keys = _keys(stream.get("Keys"))
    named_by = " / ".join(key_text(name, stream["Keys"][name], REDACT) for name in key_order)
    table = table_name(record.get("eventSourceARN"))
    event_name = record["eventName"]

    fields = [f'"rule":{_json_string(rule.name)}']
    changed: list[str] = []
    if rule.kind == "expires":
        summary = "expired (TTL)"
    else:
        sides = []
        for side, image in (("old", stream.get("OldImage")), ("new", stream.get("NewImage"))):
            value = value_at(image, rule.path)
            text = None if value is None else _shown(value, rule.path)
            sides.append(ABSENT if text is None else _summary_value(text))
            if text is not None:
                changed.append(f'"{side}":{text}')
        summary = f"{rule.attribute} {sides[0]} → {sides[1]}"
    fields.append(f'"summary":{_json_string(summary)}')
    fields.append(f'"table":{json.dumps(table)}')
    fields.append(f'"event_name":"{event_name}"')
    fields.append(f'"keys":{keys}')
    if rule.kind != "expires":
        fields.append(f'"attribute":{_json_string(rule.attribute)}')
        fields.extend(changed)
    fields.append(f'"event_id":{json.dumps(record.get("eventID"))}')
    fields.append(f'"sequence_number":{json.dumps(stream.get("SequenceNumber"))}')
    fields.append(f'"approximate_creation_time":{json.dumps(_time(stream.get("ApproximateCreationDateTime")))}')
    # The item as it is now; an expired item has only its last image.
    label, image = (
        ("old_image", stream.get("OldImage")) if rule.kind == "expires" else ("new_image", stream.get("NewImage"))
    )
    body = "{" + ",".join(fields) + "}"
    if image is not None and INCLUDE_IMAGE:
        with_image = body[:-1] + f',"{label}":{_image(image, label)}}}'
        body = with_image if len(with_image.encode()) <= BODY_LIMIT else body[:-1] + f',"{label}_left_out":true}}'

    attributes = {"rule": rule.name, "event_name": event_name}
    if table:
        attributes["table"] = table
    return Notification(subject(rule.title, named_by), body, attributes)


def _summary_value(text: str) -> str:
    """A value's JSON text as the summary shows it: a string without its quotes."""
    value = json.loads(text) if text.startswith('"') else None
    return value if isinstance(value, str) else text


def notifications(record: Any) -> list[Notification]:
    """The messages one record causes: one per rule it fires, in the order of the rules."""
    if type(record) is not dict or type(record.get("dynamodb")) is not dict:
        raise RecordError("record has no dynamodb section")
    if record.get("eventName") not in ("INSERT", "MODIFY", "REMOVE"):
        raise RecordError("eventName is not INSERT, MODIFY or REMOVE")
    return [notification(rule, record) for rule in RULES if rule.fires(record)]


# --- the handler ------------------------------------------------------------------------------
@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") if type(event) is dict else None
    if type(records) is not list:
        logger.warning("Event has no Records: nothing to check", extra={"event_type": type(event).__name__})
        records = []
    for record in records:
        sequence_number = sequence_number_of(record)
        event_id = record.get("eventID") if type(record) is dict else None
        try:
            for message in notifications(record):
                _check_time_to_publish(context)
                response = sns().publish(**message.publish_arguments(TOPIC_ARN))
                logger.info(
                    f"Published: {message.subject}",
                    extra={
                        "rule": message.attributes["rule"],
                        "event_id": event_id,
                        "sequence_number": sequence_number,
                        "message_id": response.get("MessageId"),
                    },
                )
        except Exception as error:
            # A RecordError names no value; anything else (a failed publish) is named by its type
            # and, for a service error, its code.
            reason = str(error) if type(error) is RecordError else _failure_reason(error)
            logger.error(
                f"Record cannot be processed: {reason}",
                extra={"event_id": event_id, "sequence_number": sequence_number, "reason": reason},
            )
            # Fail fast: Lambda retries from this record; the later ones are not published twice.
            return {"batchItemFailures": [failure_entry(sequence_number)]}
    return {"batchItemFailures": []}


def _failure_reason(error: Exception) -> str:
    # A service's error has a response; one of the connection's (a timeout, a closed connection)
    # may have it as None.
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"publish failed: {type(error).__name__}" + (f" ({code})" if code else "")
