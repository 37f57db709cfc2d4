"""A record line that would be too long: shortened to fit, and the record copied whole to S3.

Reads ``FAILURE_BUCKET`` (see ``stream_logger``) once, at import.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from json.encoder import encode_basestring as _json_string
from typing import Any, Protocol

import dynamo_json
from line_render import Rendered, changes_of, changes_text, object_text, value_text
from stream_common import RecordError

# No line is longer than this many bytes of UTF-8: Lambda's log delivery has been seen to cut
# lines at 256 KiB, and a cut line is no longer JSON. 256,000 leaves room for what Lambda adds.
MAX_LINE_BYTES = 256_000
OVERSIZED_PREFIX = "oversized"
FAILURE_BUCKET = os.environ.get("FAILURE_BUCKET", "").strip()

# What makes a record's line from its (shortened) pieces and the paths left out.
LineOf = Callable[[Rendered, list[str]], str]


def utf8_size(text: str) -> int:
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


def shorten(rendered: Rendered, line_of: LineOf, limit: int) -> tuple[str, list[str]]:
    """Make the line fit ``limit`` bytes; return it and the paths of what was left out.

    In this order, stopping as soon as the line fits: the old image goes (the changes keep
    the old values of what changed); then the largest attribute values (of the images and
    the changes, largest first, ties in the line's order) become markers that keep their
    type, size and SHA-256; then whole sections (``changes``, the images, ``changed``).
    The key, the record's identity and the message always stay.
    """
    omitted: list[str] = []
    if _drop_old_image(rendered):
        omitted.append("old_image")
        line = line_of(rendered, omitted)
        if utf8_size(line) <= limit:
            return line, omitted
    _replace_largest_values(rendered, line_of, limit, omitted)
    line = line_of(rendered, omitted)
    if utf8_size(line) <= limit:
        return line, omitted
    return _drop_sections(rendered, line_of, limit, omitted, line)


def _drop_old_image(rendered: Rendered) -> bool:
    """Leave out the old image when the new one is there; the changes keep the old values."""
    labels = [label for label, _, _ in rendered.images]
    if "old_image" not in labels or "new_image" not in labels:
        return False
    old_fragments = next(fragments for label, fragments, _ in rendered.images if label == "old_image")
    new_fragments = next(fragments for label, fragments, _ in rendered.images if label == "new_image")
    rendered.images = [image for image in rendered.images if image[0] != "old_image"]
    if rendered.changes is None and rendered.changed is not None:
        rendered.changes = changes_of(rendered.changed, old_fragments, new_fragments)
    return True


def _value_candidates(rendered: Rendered) -> list[tuple[int, int, str, str, str]]:
    """The values that may become markers, largest first: (-bytes, order, section, name, side)."""
    candidates: list[tuple[int, int, str, str, str]] = []
    order = 0
    for label, fragments, _ in rendered.images:
        for name, fragment in fragments.items():
            if name in rendered.key_order:
                continue  # keys stay
            candidates.append((-utf8_size(value_text(name, fragment)), order, label, name, ""))
            order += 1
    for name, (old, new) in (rendered.changes or {}).items():
        for side, text in (("old", old), ("new", new)):
            if text is not None:
                candidates.append((-utf8_size(text), order, "changes", name, side))
                order += 1
    candidates.sort()
    return candidates


def _replace_largest_values(rendered: Rendered, line_of: LineOf, limit: int, omitted: list[str]) -> None:
    """Replace values by markers, largest first, until the line fits; each only if its marker is shorter."""
    old_raw, new_raw = rendered.raw
    candidates = _value_candidates(rendered)
    size = utf8_size(line_of(rendered, omitted))
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
            marker = _marker(value_text(name, fragments[name]), _type_tag(raw, name))
        path = f"{section}.{name}.{side}" if side else f"{section}.{name}"
        saved = -value_size - utf8_size(marker) - utf8_size(_json_string(path)) - 1
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


def _drop_sections(
    rendered: Rendered, line_of: LineOf, limit: int, omitted: list[str], line: str
) -> tuple[str, list[str]]:
    """Still too long (a great many small attributes): whole sections go, the largest first."""
    sections: list[tuple[int, str]] = [
        (-utf8_size(object_text(f, rendered.key_order)), label) for label, f, _ in rendered.images
    ]
    if rendered.changes is not None:
        sections.append((-utf8_size(changes_text(rendered.changes)), "changes"))
    if rendered.changed is not None:
        sections.append((-utf8_size(",".join(rendered.changed)), "changed"))
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
        if utf8_size(line) <= limit:
            break
    return line, omitted


# --- the whole record, copied to the failure bucket ---------------------------------
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


class Invocation(Protocol):
    """What of the handler's invocation a shortened line needs (``stream_logger._Invocation``)."""

    table: str | None
    remaining_ms: Callable[[], int] | None

    def record_line(self, rendered: Rendered, extra: str = "") -> str: ...


def shortened_line(invocation: Invocation, record: dict[str, Any], rendered: Rendered, original: int) -> str:
    """The line of a record whose line would be ``original`` bytes, over the limit: shortened, and
    the record copied whole to the failure bucket (if it is one) before the line is returned."""
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
    shortest = utf8_size(line)
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
