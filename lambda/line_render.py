"""One stream record -> the record's own members of its log line, in pieces (``Rendered``).

Reads ``LOG_IMAGES``, ``REDACT_ATTRIBUTES`` and ``KEY_ATTRIBUTES`` (see ``stream_logger``) once,
at import: the settings are this module's globals, which the rendering reads on every record.
"""

from __future__ import annotations

import json
import time
from json.encoder import encode_basestring as _json_string
from typing import Any

import dynamo_json
from dynamo_json import InvalidValue
from stream_common import MAX_IDENTIFIER_CHARS, RecordError, choice_env, identifier, key_text, names_env

LOG_IMAGES_MODES = ("NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES")
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
# A record line carries the change's time (``approximate_creation_time``) only when it is
# logged this many seconds or more after the change (a backlog, a retry, a redrive; or a clock
# that disagrees): otherwise the line's own timestamp already places the change within a
# minute, and the 51 bytes would be on every line (the log's bytes are what this stack costs).
LATE_SECONDS = 60

# Read once per execution environment: a bad setting fails the function's init loudly.
LOG_IMAGES = choice_env("LOG_IMAGES", LOG_IMAGES_MODES)
REDACT = dynamo_json.redaction_tree(names_env("REDACT_ATTRIBUTES"))
KEY_ATTRIBUTES = names_env("KEY_ATTRIBUTES")

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


def value_text(name: str, fragment: str) -> str:
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


def object_text(fragments: Fragments, key_order: list[str]) -> str:
    """``{...}``: key attributes first (partition, sort), then the rest in the record's order."""
    rest = dict(fragments)
    first = [rest.pop(name) for name in key_order if name in rest]
    first += rest.values()
    return f"{{{','.join(first)}}}"


# The cache below starts from a value no input equals: -1 and "" are inputs too.
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
            parts.append(f'"{label}":{object_text(fragments, self.key_order)}')
        if self.changes is not None:
            parts.append('"changes":' + changes_text(self.changes))
        if self.changed is not None:
            parts.append('"changed":[' + ",".join([_json_string(name) for name in self.changed]) + "]")
        if self.tail:
            parts.append(self.tail)
        return ",".join(parts)


def changes_text(changes: dict[str, tuple[str | None, str | None]]) -> str:
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


def changes_of(changed: list[str], old: Fragments, new: Fragments) -> dict[str, tuple[str | None, str | None]]:
    return {
        name: (
            value_text(name, old[name]) if name in old else None,
            value_text(name, new[name]) if name in new else None,
        )
        for name in changed
    }


def render_record(record: Any) -> Rendered:
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
    head = ['"event_name":"' + event_name + '"', '"sequence_number":' + json_value(sequence_number)]
    if "ApproximateCreationDateTime" in stream:
        created = _iso_utc(stream["ApproximateCreationDateTime"])  # checked on every record
        if abs(time.time() - stream["ApproximateCreationDateTime"]) >= LATE_SECONDS:
            head.append('"approximate_creation_time":"' + created + '"')
    key_order = _key_order(keys)
    head.append('"keys":' + object_text(_shown(raw_keys, keys), key_order))

    message = event_name + " " + " / ".join([key_text(name, raw_keys[name], REDACT) for name in key_order])
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
    _add_images(rendered, raw_new, new, raw_old, old)
    if identity is not None or expired:  # most records have neither: no call for them
        rendered.tail = _tail(identity, expired)
    return rendered


def _add_images(rendered: Rendered, raw_new: Any, new: Fragments | None, raw_old: Any, old: Fragments | None) -> None:
    """The images and changes ``LOG_IMAGES`` asks for, redacted where configured."""
    shown_new = _shown(raw_new, new) if new is not None else None
    shown_old = _shown(raw_old, old) if old is not None else None
    if rendered.changed is not None and shown_new is not None and shown_old is not None:  # a MODIFY with both
        if LOG_IMAGES in ("NEW_AND_CHANGES", "CHANGES"):
            rendered.changes = changes_of(rendered.changed, shown_old, shown_new)
        if LOG_IMAGES != "CHANGES":
            rendered.images.append(("new_image", shown_new, raw_new))
        if LOG_IMAGES == "NEW_AND_OLD":
            rendered.images.append(("old_image", shown_old, raw_old))
    elif shown_new is not None:  # an INSERT, or any record of a stream without old images
        rendered.images.append(("new_image", shown_new, raw_new))
    elif shown_old is not None:  # a REMOVE: its last state
        rendered.images.append(("old_image", shown_old, raw_old))


def _tail(identity: Any, expired: bool) -> str:
    """The members after the payload: ``ttl_expired``, ``user_identity``."""
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
    return ",".join(tail)


def json_value(value: Any) -> str:
    if type(value) is str:  # the common case, without json.dumps' overhead
        return _json_string(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
