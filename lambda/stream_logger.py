"""Log every DynamoDB stream record as one exact, readable JSON line.

Configuration (the function's environment, set by the TableStreamLogger construct):
- ``LOG_IMAGES``: ``NEW_AND_OLD`` (default), ``NEW`` or ``CHANGES``.
- ``REDACT_ATTRIBUTES``: JSON array of attribute names or dotted paths whose values never
  appear in a log line, e.g. ``["email", "card.number"]``.
- ``KEY_ATTRIBUTES``: JSON array of the table's key names, partition key first. Without
  it, key names are taken in sorted order.
- ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_METRICS_NAMESPACE``.

A record that cannot be processed is logged at ERROR and reported in
``batchItemFailures``, so Lambda retries it, bisects the batch, and finally parks it in
the failure destination: nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
import sys
import time
from json.encoder import encode_basestring as _json_string
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

import dynamo_json
from dynamo_json import InvalidValue

LOG_IMAGES_MODES = ("NEW_AND_OLD", "NEW", "CHANGES")
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
METRIC_NAMES = {"INSERT": "InsertRecords", "MODIFY": "ModifyRecords", "REMOVE": "RemoveRecords"}
FAILED_METRIC = "FailedRecords"


class RecordError(ValueError):
    """A stream record that cannot be processed; the reason never contains a value."""


def _json_list_env(name: str) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return []
    value = json.loads(raw)
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{name} must be a JSON array of non-empty strings, got {raw!r}")
    return value


def _load_mode() -> str:
    mode = os.environ.get("LOG_IMAGES", "NEW_AND_OLD").strip().upper() or "NEW_AND_OLD"
    if mode not in LOG_IMAGES_MODES:
        raise ValueError(f"LOG_IMAGES must be one of {', '.join(LOG_IMAGES_MODES)}, got {mode!r}")
    return mode


# Read once per execution environment: a bad setting fails the function's init loudly.
LOG_IMAGES = _load_mode()
REDACT = dynamo_json.redaction_tree(_json_list_env("REDACT_ATTRIBUTES"))
KEY_ATTRIBUTES = _json_list_env("KEY_ATTRIBUTES")

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "TableStreamLogger")


# --- one record -> the record's own keys of the log line ---------------------------
# An image is kept as its attributes' JSON fragments, '"name":value', in the record's order.
Fragments = dict[str, str]


def _render_image(image: Any, label: str, twin: Any = None, twin_fragments: Fragments | None = None) -> Fragments:
    """Render each attribute of an image to its JSON fragment.

    ``twin`` is the record's other image and ``twin_fragments`` its fragments: an attribute
    a MODIFY left unchanged is equal there, and comparing is much cheaper than rendering.
    """
    if type(image) is not dict:
        raise RecordError(f"{label} is not an object")
    try:
        if twin_fragments is None:
            return dynamo_json.render_members(image)
        fragments = {}
        for name, attribute in image.items():
            fragment = twin_fragments.get(name)
            if fragment is None or twin[name] != attribute:
                try:
                    fragment = dynamo_json.member(name) + dynamo_json.render(attribute)
                except InvalidValue as error:
                    raise error.at(name) from None
            fragments[name] = fragment
        return fragments
    except InvalidValue as error:
        raise RecordError(f"{label}: {error}") from None


def _shown(image: Any, fragments: Fragments) -> Fragments:
    """The attributes as they may be logged: redacted where configured."""
    if not REDACT or REDACT.keys().isdisjoint(fragments):
        return fragments
    shown = dict(fragments)
    for name in REDACT.keys() & fragments.keys():
        shown[name] = dynamo_json.member(name) + dynamo_json.render_redacted(image[name], REDACT[name])
    return shown


def _value(name: str, fragment: str) -> str:
    """The value's JSON text of a fragment."""
    return fragment[len(dynamo_json.member(name)) :]


def _ordered(names: Any, key_order: list[str]) -> list[str]:
    """Key attributes first (partition, sort), then the rest in the record's order."""
    first = [name for name in key_order if name in names]
    return first + [name for name in names if name not in first]


def _key_order(keys: Fragments) -> list[str]:
    """The record's key names, partition key first."""
    if KEY_ATTRIBUTES and keys.keys() == set(KEY_ATTRIBUTES):  # the usual case, cheaply
        return KEY_ATTRIBUTES
    # Without the table's key schema, sorted names are at least stable (PK before SK).
    return _ordered(keys, KEY_ATTRIBUTES or sorted(keys))


def _member_object(label: str, fragments: Fragments, key_order: list[str]) -> str:
    """``"label":{...}``: key attributes first (partition, sort), then the rest in the record's order."""
    rest = dict(fragments)
    first = [rest.pop(name) for name in key_order if name in rest]
    first += rest.values()
    return f'"{label}":{{{",".join(first)}}}'


# The caches below start from a value no input equals: -1 and "" are inputs too.
_NOTHING = object()
_last_creation: tuple[object, str] = (_NOTHING, "")  # the last value and its text


def _iso_utc(seconds: Any) -> str:
    global _last_creation
    if type(seconds) not in (int, float):
        raise RecordError("ApproximateCreationDateTime is not a number")
    if seconds == _last_creation[0]:  # the records of a batch mostly share it
        return _last_creation[1]
    # Streams send whole seconds since 1970. A time before 1970 or after 9999 (the last year
    # an ISO 8601 time has four digits for) is one no stream can send: most likely milliseconds
    # (1480642020000 would be the year 48889; any time in milliseconds since 1978 is past 9999
    # read as seconds). Guessing the unit could log a wrong time, so the record is refused like
    # a malformed value and parked whole.
    if not 0 <= seconds < 253_402_300_800:  # 10000-01-01T00:00:00Z
        raise RecordError(
            "ApproximateCreationDateTime is out of range: seconds since 1970 expected, before the year 10000"
            " (milliseconds?)"
        )
    try:
        whole, fraction = divmod(seconds, 1)
        micros = round(fraction * 1_000_000)
        if micros == 1_000_000:
            whole, micros = whole + 1, 0
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    except (OverflowError, OSError, ValueError):
        raise RecordError("ApproximateCreationDateTime is out of range") from None
    text = f"{text}.{micros:06d}Z" if micros else f"{text}Z"
    _last_creation = (seconds, text)
    return text


_last_table: tuple[object, str] = (_NOTHING, "")  # the last ARN and its text


def _table(arn: Any) -> str:
    """``"table":`` JSON text, with the name parsed from the record's stream ARN."""
    # arn:aws:dynamodb:us-east-1:123456789012:table/Cloud9/stream/2023-07-16T09:00:05.000
    global _last_table
    if arn == _last_table[0]:  # all records of a batch come from one stream
        return _last_table[1]
    name = None
    if type(arn) is str:
        _, found, rest = arn.partition(":table/")
        if found:
            name = rest.split("/", 1)[0]
    text = '"table":' + _json_value(name)
    if type(arn) is str:
        _last_table = (arn, text)
    return text


def _key_text(name: str, attribute: dict[str, Any]) -> str:
    """A key's value as a person reads it: the raw S, N or B text, unless redacted."""
    if REDACT.get(name) is True:
        return "[REDACTED]"
    (value,) = attribute.values()
    return str(value)


def render_record(record: Any) -> tuple[str, str]:
    """Return ``(message, fields)``: the human message and the record's JSON keys."""
    if type(record) is not dict:
        raise RecordError("record is not an object")
    event_name = record.get("eventName")
    if event_name not in EVENT_NAMES:
        raise RecordError("eventName is not INSERT, MODIFY or REMOVE")
    stream = record.get("dynamodb")
    if type(stream) is not dict:
        raise RecordError("record has no dynamodb section")

    raw_keys: Any = stream.get("Keys")  # a dict, once _render_image accepts it
    keys = _render_image(raw_keys, "Keys")
    if not keys:
        raise RecordError("Keys is empty")
    raw_new = stream.get("NewImage")
    raw_old = stream.get("OldImage")
    new = _render_image(raw_new, "NewImage") if "NewImage" in stream else None
    old = _render_image(raw_old, "OldImage", raw_new, new) if "OldImage" in stream else None

    fields = [
        '"event_name":"' + event_name + '"',
        '"event_id":' + _json_value(record.get("eventID")),
        '"sequence_number":' + _json_value(stream.get("SequenceNumber")),
    ]
    if "ApproximateCreationDateTime" in stream:
        fields.append('"approximate_creation_time":"' + _iso_utc(stream["ApproximateCreationDateTime"]) + '"')
    fields.append(_table(record.get("eventSourceARN")))

    key_order = _key_order(keys)
    shown_keys = _shown(raw_keys, keys)
    fields.append(_member_object("keys", shown_keys, key_order))

    changed = None
    if new is not None and old is not None:
        if event_name == "MODIFY":
            changed = sorted(name for name in new.keys() | old.keys() if new.get(name) != old.get(name))
        if LOG_IMAGES == "CHANGES" and changed is not None:
            fields.append('"changes":' + _changes(changed, _shown(raw_old, old), _shown(raw_new, new)))
            new = old = None  # logged as changes
    # NEW, and CHANGES without both images, log one image: the new one, else the old one.
    if new is not None:
        fields.append(_member_object("new_image", _shown(raw_new, new), key_order))
    if old is not None and (LOG_IMAGES == "NEW_AND_OLD" or new is None):
        fields.append(_member_object("old_image", _shown(raw_old, old), key_order))
    if changed is not None:
        fields.append('"changed":[' + ",".join([_json_string(name) for name in changed]) + "]")
    if "userIdentity" in record:
        fields.append('"user_identity":' + _json_value(record["userIdentity"]))

    message = event_name + " " + " / ".join([_key_text(name, raw_keys[name]) for name in key_order])
    if changed:
        message += ": " + ", ".join(changed)
    return message, ",".join(fields)


def _changes(changed: list[str], old: Fragments, new: Fragments) -> str:
    """``{"attr": {"old": ..., "new": ...}}``; a side is absent when the attribute was added or removed."""
    parts = []
    for name in changed:
        sides = []
        if name in old:
            sides.append('"old":' + _value(name, old[name]))
        if name in new:
            sides.append('"new":' + _value(name, new[name]))
        parts.append(dynamo_json.member(name) + "{" + ",".join(sides) + "}")
    return "{" + ",".join(parts) + "}"


def _json_value(value: Any) -> str:
    if type(value) is str:  # the common case, without json.dumps' overhead
        return _json_string(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- the writer -----------------------------------------------------------------
# One INFO line per record, with the keys Powertools' Logger writes (level, location,
# message, timestamp, service, cold_start, function_*, xray_trace_id) followed by the
# record's keys. Writing the line ourselves keeps numbers exact (the Logger's
# serializer would turn them into strings) and is several times cheaper per record.
_INFO = 20
_last_timestamp: tuple[object, str] = (_NOTHING, "")  # the last millisecond and its text


def _timestamp() -> str:
    """Now, in the Logger's format: ``2026-11-23 15:33:15,166+0000``."""
    global _last_timestamp
    millis = int(time.time() * 1000)
    if millis != _last_timestamp[0]:  # dozens of records share a millisecond
        second, milli = divmod(millis, 1000)
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second)) + f",{milli:03d}+0000"
        _last_timestamp = (millis, text)
    return _last_timestamp[1]


def _invocation_keys() -> str:
    """The Logger's per-invocation keys, as JSON text to put behind each record line."""
    keys = {
        name: value
        for name, value in logger.get_current_keys().items()
        if value is not None and name not in ("level", "location", "message", "timestamp")
    }
    trace_id = os.environ.get("_X_AMZN_TRACE_ID")
    if trace_id:
        keys["xray_trace_id"] = trace_id.split(";", 1)[0].replace("Root=", "")
    return _json_value(keys)[1:-1]


# JSON allows these raw inside strings, but many readers break lines at them.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _one_line(line: str) -> str:
    # str.translate is slow on long lines; these characters are rare, so look first.
    if "\x85" in line or "\u2028" in line or "\u2029" in line:
        return line.translate(_LINE_BREAKS)
    return line


class _Lines:
    """Record lines on their way to stdout, written about 64 KiB at a time.

    Lambda's runtime flushes stdout at every write: a write per line would cost a system
    call per record (about a tenth of the handler's time). The handler flushes before an
    ERROR line and when it ends, so the log keeps the records' order.
    """

    SIZE = 64 * 1024

    def __init__(self, write: Any) -> None:
        self._write = write
        self._lines: list[str] = []
        self._size = 0

    def add(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.SIZE:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._write("".join(self._lines))
            self._lines.clear()
            self._size = 0


def _report_failure(record: Any, reason: str) -> dict[str, str]:
    """Log one ERROR line for a record and return its ``batchItemFailures`` entry."""
    reason = _one_line(reason)  # it may quote an attribute name
    stream = record.get("dynamodb") if type(record) is dict else None
    sequence_number = stream.get("SequenceNumber") if type(stream) is dict else None
    event_id = record.get("eventID") if type(record) is dict else None
    logger.error(
        f"Record cannot be processed: {reason}",
        extra={"event_id": event_id, "sequence_number": sequence_number, "reason": reason},
    )
    # Without a sequence number there is nothing to checkpoint at: an empty identifier
    # makes Lambda treat the whole batch as failed, so the record is retried, not lost.
    return {"itemIdentifier": sequence_number if type(sequence_number) is str else ""}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") if type(event) is dict else None
    counts = dict.fromkeys(EVENT_NAMES, 0)
    failures: list[dict[str, str]] = []
    if type(records) is not list or not records:
        logger.warning("Event has no Records: nothing to log", extra={"event_type": type(event).__name__})
        records = []

    info = logger.log_level <= _INFO
    tail = "," + _invocation_keys() + ","
    lines = _Lines(sys.stdout.write)
    try:
        for record in records:
            event_name = record.get("eventName") if type(record) is dict else None
            if type(event_name) is str and event_name in counts:
                counts[event_name] += 1
            try:
                message, fields = render_record(record)
            except Exception as error:
                lines.flush()  # the ERROR line goes after the lines of the records before it
                # Anything but a RecordError is a bug of ours: still report the record, never lose it.
                reason = str(error) if type(error) is RecordError else f"unexpected {type(error).__name__}"
                failures.append(_report_failure(record, reason))
                continue
            if info:
                # One f-string: the line is built once, not copied at every "+".
                line = (
                    f'{{"level":"INFO","location":"handler","message":{_json_string(message)},'
                    f'"timestamp":"{_timestamp()}"{tail}{fields}}}\n'
                )
                lines.add(line if line.isascii() else _one_line(line))
    finally:
        lines.flush()

    for event_name, count in counts.items():
        metrics.add_metric(name=METRIC_NAMES[event_name], unit=MetricUnit.Count, value=count)
    metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": failures}
