"""Log every DynamoDB stream record as one exact, readable JSON line.

Configuration (the function's environment, set by the TableStreamLogger construct):
- ``LOG_IMAGES``: ``NEW_AND_CHANGES`` (default), ``NEW_AND_OLD``, ``NEW`` or ``CHANGES``.
- ``LOG_CONTEXT_KEYS``: ``ONCE`` (default: the Lambda context keys go on one line per
  invocation) or ``EVERY_LINE`` (Powertools' full key set on every record line too).
- ``REDACT_ATTRIBUTES``: JSON array of attribute names or dotted paths whose values never
  appear in a log line, e.g. ``["email", "card.number"]``.
- ``KEY_ATTRIBUTES``: JSON array of the table's key names, partition key first. Without
  it, key names are taken in sorted order.
- ``FAILURE_BUCKET``: the S3 failure destination, where a record too big for one log line
  is copied whole (``oversized/...``). Without it the shortened line says so. A copy that
  fails, or could not end before the function's time does, fails the record.
- ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_METRICS_NAMESPACE``.

A record that cannot be processed is logged at ERROR and reported in
``batchItemFailures``, and the handler stops there: Lambda redelivers the records after
it from that checkpoint, so logging them now would log them again on every retry. Lambda
then retries, bisects, and finally parks the record: nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from json.encoder import encode_basestring as _json_string
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

import dynamo_json
from dynamo_json import InvalidValue

LOG_IMAGES_MODES = ("NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES")
LOG_CONTEXT_KEYS_CHOICES = ("ONCE", "EVERY_LINE")
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
METRIC_NAMES = {"INSERT": "InsertRecords", "MODIFY": "ModifyRecords", "REMOVE": "RemoveRecords"}
FAILED_METRIC = "FailedRecords"
# No line is longer than this many bytes of UTF-8: Lambda's log delivery has been seen to cut
# lines at 256 KiB, and a cut line is no longer JSON. 256,000 leaves room for what Lambda adds.
MAX_LINE_BYTES = 256_000
OVERSIZED_PREFIX = "oversized"
# A record line carries the change's time (``approximate_creation_time``) only when it is
# logged this many seconds or more after the change (a backlog, a retry, a redrive; or a clock
# that disagrees): otherwise the line's own timestamp already places the change within a
# minute, and the 51 bytes would be on every line (the log's bytes are what this stack costs).
LATE_SECONDS = 60

# Lambda's log-level filtering knows TRACE, DEBUG, INFO, WARN, ERROR and FATAL; an unknown
# level such as Python's "WARNING" counts as INFO and would be dropped at log_level WARN.
logging.addLevelName(logging.WARNING, "WARN")
# RFC 3339 in UTC with milliseconds, as Lambda needs it to keep a line's level and timestamp.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%FZ"


class RecordError(ValueError):
    """A stream record that cannot be processed; the reason never contains a value."""


# A sequence number or event ID is logged as sent only when it looks like one (DynamoDB's are 21 to
# 40 digits, and 32 hexadecimal digits): a record of another shape is still identified, but its
# huge, non-text or not-Unicode value never makes its ERROR line too long or not JSON.
MAX_IDENTIFIER_CHARS = 64


def identifier(value: Any) -> str | None:
    """A record's sequence number or event ID as it may appear in a line, or None."""
    if type(value) is str and 0 < len(value) <= MAX_IDENTIFIER_CHARS and value.isascii() and value.isprintable():
        return value
    return None


def _json_list_env(name: str) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return []
    value = json.loads(raw)
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{name} must be a JSON array of non-empty strings, got {raw!r}")
    return value


def _choice_env(name: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().upper() or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


# Read once per execution environment: a bad setting fails the function's init loudly.
LOG_IMAGES = _choice_env("LOG_IMAGES", LOG_IMAGES_MODES)
LOG_CONTEXT_KEYS = _choice_env("LOG_CONTEXT_KEYS", LOG_CONTEXT_KEYS_CHOICES)
REDACT = dynamo_json.redaction_tree(_json_list_env("REDACT_ATTRIBUTES"))
KEY_ATTRIBUTES = _json_list_env("KEY_ATTRIBUTES")
FAILURE_BUCKET = os.environ.get("FAILURE_BUCKET", "").strip()

logger = Logger(utc=True, datefmt=TIMESTAMP_FORMAT)
# The user's log_level, read from POWERTOOLS_LOG_LEVEL itself and not from ``logger.log_level``:
# in Lambda, the function's application log level sets AWS_LAMBDA_LOG_LEVEL, which Powertools
# obeys over POWERTOOLS_LOG_LEVEL, and the construct keeps that at INFO for the metrics line.
LOG_LEVEL = logging.getLevelName(_choice_env("POWERTOOLS_LOG_LEVEL", ("INFO", "DEBUG", "WARN", "ERROR")))
# The Logger's own lines (a warning, the ERROR lines) follow it too; set on its standard logger,
# as the Logger's setLevel() would obey AWS_LAMBDA_LOG_LEVEL again.
logging.getLogger(logger.name).setLevel(LOG_LEVEL)
# Lambda's runtime sets the root logger to the function's application log level (DEBUG at
# log_level=DEBUG): botocore would log every request, an SNS message with the item in it, and
# urllib3 every connection. The AWS SDK and its HTTP client keep their warnings, unless
# log_level is ERROR.
for _library in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_library).setLevel(max(logging.WARNING, LOG_LEVEL))
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
        raise RecordError(f"{label}: {error.describe(REDACT)}") from None


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


def _object(fragments: Fragments, key_order: list[str]) -> str:
    """``{...}``: key attributes first (partition, sort), then the rest in the record's order."""
    rest = dict(fragments)
    first = [rest.pop(name) for name in key_order if name in rest]
    first += rest.values()
    return f"{{{','.join(first)}}}"


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


_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}").fullmatch  # DynamoDB's rule for a table's name


def table_name(arn: Any) -> str | None:
    """The table's name, from a record's stream ARN."""
    # arn:aws:dynamodb:us-east-1:123456789012:table/Cloud9/stream/2023-07-16T09:00:05.000
    if type(arn) is str:
        _, found, rest = arn.partition(":table/")
        name = rest.split("/", 1)[0]
        if found and _TABLE_NAME(name):  # it goes into every line's keys and the copies' S3 keys
            return name
    return None


def _key_text(name: str, attribute: dict[str, Any]) -> str:
    """A key's value as a person reads it: the raw S, N or B text, unless redacted."""
    if REDACT.get(name) is not None:  # a path into a key, which is never a map, hides it whole
        return "[REDACTED]"
    (value,) = attribute.values()
    return str(value)


class Rendered:
    """A record's part of the log line, in pieces, so that an oversized line can be shortened."""

    __slots__ = ("changed", "changes", "head", "images", "key_order", "message", "raw", "tail")

    def __init__(self, message: str, head: str, key_order: list[str]) -> None:
        self.message = message
        self.head = head  # event_name ... keys, as JSON members
        self.key_order = key_order
        self.images: list[tuple[str, Fragments, Any]] = []  # (label, shown fragments, raw image)
        self.changes: dict[str, tuple[str | None, str | None]] | None = None  # name -> (old, new) JSON
        self.raw: tuple[Any, Any] = (None, None)  # the raw (old, new) images, for the changes' types
        self.changed: list[str] | None = None
        self.tail = ""  # the members after the payload

    def fields(self) -> str:
        """The record's JSON members, comma-separated."""
        parts = [self.head]
        for label, fragments, _ in self.images:
            parts.append(f'"{label}":{_object(fragments, self.key_order)}')
        if self.changes is not None:
            parts.append('"changes":' + _changes_text(self.changes))
        if self.changed is not None:
            parts.append('"changed":[' + ",".join([_json_string(name) for name in self.changed]) + "]")
        if self.tail:
            parts.append(self.tail)
        return ",".join(parts)


def _changes_text(changes: dict[str, tuple[str | None, str | None]]) -> str:
    """``{"attr": {"old": ..., "new": ...}}``; a side is absent when the attribute was added or removed."""
    parts = []
    for name, (old, new) in changes.items():
        sides = []
        if old is not None:
            sides.append('"old":' + old)
        if new is not None:
            sides.append('"new":' + new)
        parts.append(dynamo_json.member(name) + "{" + ",".join(sides) + "}")
    return "{" + ",".join(parts) + "}"


def _changes(changed: list[str], old: Fragments, new: Fragments) -> dict[str, tuple[str | None, str | None]]:
    return {
        name: (
            _value(name, old[name]) if name in old else None,
            _value(name, new[name]) if name in new else None,
        )
        for name in changed
    }


def render_record(record: Any) -> Rendered:  # noqa: C901 (hot path: split with an A/B of the handler time, #25)
    """The human message and the record's JSON members, in pieces."""
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

    sequence_number = stream.get("SequenceNumber")
    if sequence_number is not None and identifier(sequence_number) is None:
        raise RecordError(f"SequenceNumber is not a string of 1 to {MAX_IDENTIFIER_CHARS} ASCII characters")
    head = ['"event_name":"' + event_name + '"', '"sequence_number":' + _json_value(sequence_number)]
    if "ApproximateCreationDateTime" in stream:
        created = _iso_utc(stream["ApproximateCreationDateTime"])  # checked on every record
        if abs(time.time() - stream["ApproximateCreationDateTime"]) >= LATE_SECONDS:
            head.append('"approximate_creation_time":"' + created + '"')
    key_order = _key_order(keys)
    head.append('"keys":' + _object(_shown(raw_keys, keys), key_order))

    message = event_name + " " + " / ".join([_key_text(name, raw_keys[name]) for name in key_order])
    identity = record.get("userIdentity")
    expired = dynamo_json.is_ttl_deletion(record)
    if expired:
        message += " (expired by TTL)"
    changed = None
    if new is not None and old is not None and event_name == "MODIFY":
        changed = sorted(name for name in new.keys() | old.keys() if new.get(name) != old.get(name))

    rendered = Rendered(message, ",".join(head), key_order)
    rendered.raw = (raw_old, raw_new)
    rendered.changed = changed
    shown_new = _shown(raw_new, new) if new is not None else None
    shown_old = _shown(raw_old, old) if old is not None else None
    if changed is not None and shown_new is not None and shown_old is not None:  # a MODIFY with both images
        if LOG_IMAGES in ("NEW_AND_CHANGES", "CHANGES"):
            rendered.changes = _changes(changed, shown_old, shown_new)
        if LOG_IMAGES != "CHANGES":
            rendered.images.append(("new_image", shown_new, raw_new))
        if LOG_IMAGES == "NEW_AND_OLD":
            rendered.images.append(("old_image", shown_old, raw_old))
    elif shown_new is not None:  # an INSERT, or any record of a stream without old images
        rendered.images.append(("new_image", shown_new, raw_new))
    elif shown_old is not None:  # a REMOVE: its last state
        rendered.images.append(("old_image", shown_old, raw_old))

    tail = []
    if expired:
        tail.append('"ttl_expired":true')
    if identity is not None and not (expired and identity == dynamo_json.TTL_IDENTITY):  # nothing unsaid
        try:
            tail.append(
                '"user_identity":' + json.dumps(identity, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            )
        except ValueError:  # NaN or Infinity: not JSON
            raise RecordError("userIdentity is not JSON (NaN or Infinity)") from None
    rendered.tail = ",".join(tail)
    return rendered


def _json_value(value: Any) -> str:
    if type(value) is str:  # the common case, without json.dumps' overhead
        return _json_string(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- lines that would be too long ---------------------------------------------------
def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _marker(value: str, type_tag: str) -> str:
    """What stands in for a value left out of a line: its type, size and SHA-256 of its JSON."""
    data = value.encode()
    return f'{{"omitted":{{"type":"{type_tag}","bytes":{len(data)},"sha256":"{hashlib.sha256(data).hexdigest()}"}}}}'


def _type_tag(raw_image: Any, name: str) -> str:
    attribute = raw_image.get(name) if type(raw_image) is dict else None
    if type(attribute) is dict and len(attribute) == 1:
        (tag,) = attribute
        return str(tag)
    return "?"


def shorten(rendered: Rendered, line_of: Any, limit: int) -> tuple[str, list[str]]:  # noqa: C901 (hot path: split with an A/B of the handler time, #25)
    """Make the line fit ``limit`` bytes; return it and the paths of what was left out.

    In this order, stopping as soon as the line fits: the old image goes (the changes keep
    the old values of what changed); then the largest attribute values (of the images and
    the changes, largest first, ties in the line's order) become markers that keep their
    type, size and SHA-256; then whole sections (``changes``, the images, ``changed``).
    The key, the record's identity and the message always stay.
    """
    omitted: list[str] = []
    old_raw, new_raw = rendered.raw
    labels = [label for label, _, _ in rendered.images]
    if "old_image" in labels and "new_image" in labels:
        old_fragments = next(fragments for label, fragments, _ in rendered.images if label == "old_image")
        new_fragments = next(fragments for label, fragments, _ in rendered.images if label == "new_image")
        rendered.images = [image for image in rendered.images if image[0] != "old_image"]
        if rendered.changes is None and rendered.changed is not None:
            rendered.changes = _changes(rendered.changed, old_fragments, new_fragments)
        omitted.append("old_image")
        line = line_of(rendered, omitted)
        if _utf8_size(line) <= limit:
            return line, omitted

    # The values, largest first; each replaced only if its marker is shorter.
    candidates: list[tuple[int, int, str, str, str]] = []  # (-bytes, order, section, name, side)
    order = 0
    for label, fragments, _ in rendered.images:
        for name, fragment in fragments.items():
            if name in rendered.key_order:
                continue  # keys stay
            candidates.append((-_utf8_size(_value(name, fragment)), order, label, name, ""))
            order += 1
    for name, (old, new) in (rendered.changes or {}).items():
        for side, text in (("old", old), ("new", new)):
            if text is not None:
                candidates.append((-_utf8_size(text), order, "changes", name, side))
                order += 1
    candidates.sort()

    size = _utf8_size(line_of(rendered, omitted))
    images = {label: (dict(fragments), raw) for label, fragments, raw in rendered.images}
    changes = dict(rendered.changes or {})
    for value_size, _, section, name, side in candidates:
        if size <= limit:
            break
        if section == "changes":
            old, new = changes[name]
            value = (old if side == "old" else new) or ""
            marker = _marker(value, _type_tag(old_raw if side == "old" else new_raw, name))
        else:
            fragments, raw = images[section]
            marker = _marker(_value(name, fragments[name]), _type_tag(raw, name))
        path = f"{section}.{name}.{side}" if side else f"{section}.{name}"
        saved = -value_size - _utf8_size(marker) - _utf8_size(_json_string(path)) - 1
        if saved <= 0:
            break  # a marker would be no shorter, nor for any smaller value
        if section == "changes":
            changes[name] = (marker, changes[name][1]) if side == "old" else (changes[name][0], marker)
        else:
            images[section][0][name] = dynamo_json.member(name) + marker
        size -= saved
        omitted.append(path)
    rendered.images = [(label, images[label][0], images[label][1]) for label, _, _ in rendered.images]
    if rendered.changes is not None:
        rendered.changes = changes
    line = line_of(rendered, omitted)
    if _utf8_size(line) <= limit:
        return line, omitted

    # Still too long (a great many small attributes): whole sections go, the largest first.
    sections: list[tuple[int, str]] = [
        (-_utf8_size(_object(f, rendered.key_order)), label) for label, f, _ in rendered.images
    ]
    if rendered.changes is not None:
        sections.append((-_utf8_size(_changes_text(rendered.changes)), "changes"))
    if rendered.changed is not None:
        sections.append((-_utf8_size(",".join(rendered.changed)), "changed"))
    omitted = [path for path in omitted if not path.startswith(("changes.", "new_image.", "old_image."))]
    for _, section in sorted(sections):
        if section == "changes":
            rendered.changes = None
        elif section == "changed":
            rendered.changed = None
        else:
            rendered.images = [image for image in rendered.images if image[0] != section]
        omitted.append(section)
        line = line_of(rendered, omitted)
        if _utf8_size(line) <= limit:
            break
    return line, omitted


NOT_COPIED = (
    "the failure destination is not an S3 bucket: the whole record is only in the table "
    "(and its point-in-time recovery)"
)
# A copy's limits. With botocore's defaults (60 s to connect, 60 s for each read, retries) a
# stalled copy outlasts the function's timeout (30 s by default): the invocation times out after
# the lines before it were written, and Lambda's retry of the whole batch writes them again. With
# these, a stalled copy gives up within _copy_ms(); one that might not end COPY_MARGIN_MS before
# the function's time is up is not started. Either way the record fails, and Lambda retries from it.
COPY_CONNECT_TIMEOUT = 2  # seconds, also for each write of the request; S3 connects in milliseconds
COPY_READ_TIMEOUT = 5  # seconds, for each read of the answer
COPY_ATTEMPTS = 1  # no retry inside the invocation: Lambda's retry of the record is the retry
COPY_MARGIN_MS = 1_000  # for what follows a copy: the line, the metrics line, the response
_s3_client: Any = None


def _copy_ms() -> int:
    """The longest a copy can take, in milliseconds."""
    return (COPY_CONNECT_TIMEOUT + COPY_READ_TIMEOUT) * COPY_ATTEMPTS * 1000


def _s3() -> Any:
    global _s3_client
    if _s3_client is None:
        import boto3  # in the Lambda runtime; only oversized records need it
        from botocore.config import Config

        config = Config(
            connect_timeout=COPY_CONNECT_TIMEOUT,
            read_timeout=COPY_READ_TIMEOUT,
            retries={"total_max_attempts": COPY_ATTEMPTS},
        )
        _s3_client = boto3.client("s3", config=config)
    return _s3_client


def _whole_copy(record: dict[str, Any], table: str | None) -> tuple[str, bytes]:
    """The key and body of the record's copy, as the stream delivered it, in the failure bucket."""
    stream = record["dynamodb"]
    sequence_number = stream.get("SequenceNumber")
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    name = sequence_number if type(sequence_number) is str and sequence_number.isalnum() else None
    name = name or hashlib.sha256(body).hexdigest()
    created = stream.get("ApproximateCreationDateTime")
    day = time.strftime("%Y-%m-%d", time.gmtime(created if type(created) in (int, float) else time.time()))
    return f"{OVERSIZED_PREFIX}/{table or 'unknown-table'}/{day}/{name}.json", body


# --- the writer -----------------------------------------------------------------
_last_timestamp: tuple[object, str] = (_NOTHING, "")  # the last millisecond and its text


def _timestamp() -> str:
    """Now, as the Logger writes it (RFC 3339, UTC, milliseconds): ``2026-11-23T15:33:15.166Z``."""
    global _last_timestamp
    millis = int(time.time() * 1000)
    if millis != _last_timestamp[0]:  # dozens of records share a millisecond
        second, milli = divmod(millis, 1000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{milli:03d}Z"
        _last_timestamp = (millis, text)
    return _last_timestamp[1]


# JSON allows these raw inside strings, but many readers break lines at them.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _one_line(line: str) -> str:
    # str.translate is slow on long lines; these characters are rare, so look first.
    if "\x85" in line or "\u2028" in line or "\u2029" in line:
        return line.translate(_LINE_BREAKS)
    return line


class _Lines:
    """Lines on their way to stdout, written about 64 KiB at a time.

    Lambda's runtime flushes stdout at every write: a write per line would cost a system
    call per record (about a tenth of the handler's time). The handler flushes before a
    line of the Logger's (an ERROR) and when it ends, so the log keeps the records' order.
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


def _memory_size(value: Any) -> Any:
    """The function's memory in MB, a number: Lambda's runtime gives it as text ("256", read from
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE), a caller's stand-in context may give a number."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


class _Invocation:
    """What every line of one invocation shares."""

    def __init__(self, context: Any, records: list[Any]) -> None:
        self.request_id = str(getattr(context, "aws_request_id", "") or "")
        # Lambda's context always has it; a caller's stand-in may not (then a copy is not timed).
        self.remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        first = records[0] if records and type(records[0]) is dict else {}
        self.table = table_name(first.get("eventSourceARN"))
        trace_id = os.environ.get("_X_AMZN_TRACE_ID", "")
        context_keys: dict[str, Any] = {
            "service": logger.service,
            "cold_start": _cold_start(),
            "function_name": getattr(context, "function_name", None),
            "function_memory_size": _memory_size(getattr(context, "memory_limit_in_mb", None)),
            "function_arn": getattr(context, "invoked_function_arn", None),
            "xray_trace_id": trace_id.split(";", 1)[0].replace("Root=", "") if trace_id else None,
        }
        self.context_keys = {name: value for name, value in context_keys.items() if value is not None}
        # Behind the message of each record line: the request id, and with EVERY_LINE the
        # Powertools Logger's keys as well, for queries written against them.
        self.record_keys = ',"request_id":' + _json_value(self.request_id)
        if LOG_CONTEXT_KEYS == "EVERY_LINE":
            keys = {"location": "handler", **self.context_keys, "function_request_id": self.request_id}
            keys["table"] = self.table
            self.record_keys += "," + _json_value(keys)[1:-1]

    def first_line(self, records: list[Any]) -> str:
        """The one line per invocation with the Lambda context and the batch's extent."""
        sequence_numbers = (
            [
                identifier(record["dynamodb"].get("SequenceNumber"))
                for record in (records[0], records[-1])
                if type(record) is dict and type(record.get("dynamodb")) is dict
            ]
            if records
            else []
        )
        fields = {
            "level": "INFO",
            "timestamp": _timestamp(),
            "message": f"Batch of {len(records)} record(s) from table {self.table}",
            "request_id": self.request_id,
            **self.context_keys,
            "table": self.table,
            "record_count": len(records),
        }
        if len(sequence_numbers) == 2:
            fields["first_sequence_number"], fields["last_sequence_number"] = sequence_numbers
        return _json_value(fields) + "\n"

    def record_line(self, rendered: Rendered, extra: str = "") -> str:
        # One f-string: the line is built once, not copied at every "+".
        line = (
            f'{{"level":"INFO","timestamp":"{_timestamp()}","message":{_json_string(rendered.message)}'
            f"{self.record_keys},{rendered.fields()}{extra}}}\n"
        )
        if line.isascii():
            return line
        try:
            line.encode()
        except UnicodeEncodeError:  # stdout would raise it, after the lines before were written
            raise RecordError(
                "a string or name is not valid Unicode (a lone surrogate): not text DynamoDB can hold"
            ) from None
        return _one_line(line)


_cold = True


def _cold_start() -> bool:
    global _cold
    cold, _cold = _cold, False
    return cold


def _report_failure(record: Any, reason: str, request_id: str) -> dict[str, str]:
    """Log one ERROR line for a record and return its ``batchItemFailures`` entry."""
    reason = _one_line(reason)  # it may quote an attribute name
    stream = record.get("dynamodb") if type(record) is dict else None
    sequence_number = stream.get("SequenceNumber") if type(stream) is dict else None
    event_id = record.get("eventID") if type(record) is dict else None
    logger.error(
        f"Record cannot be processed: {reason}",
        extra={
            "request_id": request_id,
            "event_id": identifier(event_id),
            "sequence_number": identifier(sequence_number),
            "reason": reason,
        },
    )
    # Without a sequence number there is nothing to checkpoint at: an empty identifier
    # makes Lambda treat the whole batch as failed, so the record is retried, not lost.
    return {"itemIdentifier": sequence_number if type(sequence_number) is str else ""}


def _log_line(invocation: _Invocation, record: dict[str, Any], rendered: Rendered) -> str:
    """The record's line, shortened (and the record copied whole) if it would be too long."""
    line = invocation.record_line(rendered)
    if len(line) <= MAX_LINE_BYTES // 4 or _utf8_size(line) <= MAX_LINE_BYTES:  # at most 4 bytes a character
        return line
    original = _utf8_size(line)
    if FAILURE_BUCKET:
        copy_failed = (
            f"the record's line would be {original} bytes and its full copy could not be written "
            f"to s3://{FAILURE_BUCKET}/{OVERSIZED_PREFIX}/"
        )
        left = invocation.remaining_ms() if invocation.remaining_ms else None
        if left is not None and left < _copy_ms() + COPY_MARGIN_MS:
            raise RecordError(f"{copy_failed} in the time left ({left} ms; a copy may take {_copy_ms()} ms)")
        try:
            key, body = _whole_copy(record, invocation.table)
        except Exception as error:  # a record no JSON can hold (a lone surrogate in a redacted value)
            raise RecordError(f"{copy_failed} ({type(error).__name__})") from None
        where = f',"full_record":{_json_string(f"s3://{FAILURE_BUCKET}/{key}")}'
    else:
        where = f',"full_record":null,"note":{_json_string(NOT_COPIED)}'
    rendered.message += " (shortened)"

    def line_of(shortened: Rendered, omitted: list[str]) -> str:
        paths = ",".join([_json_string(path) for path in omitted])
        return invocation.record_line(
            shortened, f',"shortened":{{"bytes":{original},"limit":{MAX_LINE_BYTES},"omitted":[{paths}]{where}}}'
        )

    line, _ = shorten(rendered, line_of, MAX_LINE_BYTES)
    shortest = _utf8_size(line)
    if shortest > MAX_LINE_BYTES:  # what always stays (keys, identity, message) is too long itself
        raise RecordError(
            f"the record's line would be {original} bytes, and {shortest} bytes shortened: its keys and"
            f" userIdentity alone pass the limit of {MAX_LINE_BYTES}"
        )
    if FAILURE_BUCKET:  # only now: a record refused above needs no copy, Lambda parks it whole
        try:
            _s3().put_object(Bucket=FAILURE_BUCKET, Key=key, Body=body, ContentType="application/json")
        except Exception as error:  # never log a shortened line without its full copy
            raise RecordError(f"{copy_failed} ({type(error).__name__})") from None
    return line


def _metrics_line(counts: dict[str, int], failed: int) -> str:
    """The invocation's embedded-metric-format line, with a level and timestamp like every line.

    Written as INFO: the construct keeps Lambda's application log level at INFO or below,
    so that this line always reaches CloudWatch, whatever ``log_level`` says.
    """
    for event_name, count in counts.items():
        metrics.add_metric(name=METRIC_NAMES[event_name], unit=MetricUnit.Count, value=count)
    metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=failed)
    emf = metrics.serialize_metric_set()
    metrics.clear_metrics()
    return json.dumps({"level": "INFO", "timestamp": _timestamp(), **emf}, separators=(",", ":")) + "\n"


def handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") if type(event) is dict else None
    counts = dict.fromkeys(EVENT_NAMES, 0)
    failures: list[dict[str, str]] = []
    invocation = _Invocation(context, records if type(records) is list else [])
    if type(records) is not list or not records:
        logger.warning(
            "Event has no Records: nothing to log",
            extra={"request_id": invocation.request_id, "event_type": type(event).__name__},
        )
        records = []

    # Lambda's own level filter stays at INFO or below (see _metrics_line); the user's
    # log_level is applied here.
    info = LOG_LEVEL <= logging.INFO
    lines = _Lines(sys.stdout.write)
    try:
        if info and records:
            lines.add(invocation.first_line(records))
        for record in records:
            try:
                rendered = render_record(record)
                line = _log_line(invocation, record, rendered) if info else ""
            except Exception as error:
                lines.flush()  # the ERROR line goes after the lines of the records before it
                # Anything but a RecordError is a bug of ours: still report the record, never lose it.
                reason = str(error) if type(error) is RecordError else f"unexpected {type(error).__name__}"
                failures.append(_report_failure(record, reason, invocation.request_id))
                # Fail fast: Lambda redelivers every record from this one on, so the ones after
                # it are logged then, once, rather than now and again on every retry.
                break
            if line:
                lines.add(line)
            counts[record["eventName"]] += 1
        lines.add(_metrics_line(counts, len(failures)))
    finally:
        lines.flush()
    return {"batchItemFailures": failures}
