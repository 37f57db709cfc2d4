"""``history``'s lines: the logger's change lines of one item, as changes in sequence order, and
what each change says. Numbers stay exact: lines are parsed with ``Decimal`` and written back as
the literals they were."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import RedriveError
from .times import parse_time

REDACTED = "[REDACTED]"
ABSENT = "(none)"
JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


# --- exact JSON ------------------------------------------------------------------------------------
def loads(text: str) -> Any:
    """A log line's JSON with its numbers exact: decimals as ``Decimal``, integers as ``int``."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Compact JSON of what :func:`loads` read, each number written as the literal it was."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{json.dumps(str(name), ensure_ascii=False)}:{dumps(v)}" for name, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


# --- the item asked for -------------------------------------------------------------------------------
def parse_keys(given: Sequence[str]) -> dict[str, str]:
    """``--key NAME=VALUE`` options, by name; one line of error for anything else."""
    keys: dict[str, str] = {}
    for text in given:
        name, equals, value = text.partition("=")
        if not equals or not name:
            raise RedriveError(f"--key {text!r} is not NAME=VALUE: give e.g. --key PK=FRUIT")
        if name in keys:
            raise RedriveError(f"--key {name} is given twice")
        keys[name] = value
    if not keys:
        raise RedriveError("say which item: --key NAME=VALUE for each attribute of the table's key")
    return keys


def key_matches(wanted: str, value: Any) -> bool:
    """Whether a line's key value is the one asked for, typed as the line (the table) has it:
    a number key compares as a number (``--key id=5`` matches 5 and 5.0), a string as text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, Decimal)):
        if not JSON_NUMBER.fullmatch(wanted):
            return False
        try:
            return Decimal(wanted) == value
        except InvalidOperation:
            return False
    return isinstance(value, str) and value == wanted


# --- the lines ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One change line of the item."""

    time: datetime
    timestamp: str
    event_name: str
    sequence_number: str
    keys: dict[str, Any]
    line: dict[str, Any]

    @property
    def order(self) -> tuple[int, str]:
        number = self.sequence_number
        return (int(number), number) if number.isdigit() else (-1, number)


def change_of(line: Any) -> Change | None:
    """A change line as a :class:`Change`; None for any other line (invocation, metrics, errors)."""
    if not isinstance(line, dict) or not isinstance(line.get("event_name"), str):
        return None
    keys = line.get("keys")
    if not isinstance(keys, dict) or not line.get("sequence_number"):
        return None
    # A line written a minute or more after its change says when the change was made.
    when = line.get("approximate_creation_time") or line.get("timestamp")
    if not isinstance(when, str):
        return None
    try:
        moment = parse_time(when)
    except RedriveError:
        return None
    return Change(moment, when, line["event_name"], str(line["sequence_number"]), keys, line)


def parse_lines(lines: Iterable[str]) -> Iterator[Change]:
    for text in lines:
        text = text.strip()
        if not text.startswith("{"):
            continue
        try:
            change = change_of(loads(text))
        except ValueError:
            continue
        if change is not None:
            yield change


def local_lines(path: Path) -> Iterator[str]:
    """The lines of a ``python -m local --format json`` output, or of every file of a folder (a
    local archive: ``changes/year=.../*.gz``, GZIP JSON lines)."""
    if not path.exists():
        raise RedriveError(f"--local {path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        data = file.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as error:
                raise RedriveError(f"{file}: not a readable GZIP file ({error})") from None
        yield from data.decode(errors="replace").splitlines()


def item_changes(changes: Iterable[Change], wanted: dict[str, str]) -> list[Change]:
    """The changes of the item ``wanted`` names, by sequence number, each change once (a line
    logged again by a retry or a replay carries the same sequence number)."""
    found: dict[str, Change] = {}
    redacted = set()
    for change in changes:
        redacted |= {name for name in wanted if change.keys.get(name) == REDACTED}
        if all(name in change.keys and key_matches(value, change.keys[name]) for name, value in wanted.items()):
            found.setdefault(change.sequence_number, change)
    if not found and redacted:
        names = ", ".join(sorted(redacted))
        raise RedriveError(f"the log redacts the key attribute {names} (REDACT_ATTRIBUTES): no item can be found by it")
    ordered = sorted(found.values(), key=lambda change: change.order)
    for change in ordered:
        if set(change.keys) != set(wanted):
            need = " ".join(f"--key {name}=..." for name in change.keys)
            raise RedriveError(f"the table's key is {', '.join(change.keys)}: give {need}")
    return ordered


def within(changes: list[Change], since: datetime | None, until: datetime | None) -> list[Change]:
    return [c for c in changes if (since is None or c.time >= since) and (until is None or c.time <= until)]


# --- what a change says -----------------------------------------------------------------------------
def attribute_changes(line: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """A MODIFY's ``{name: {"old": ..., "new": ...}}``, a side missing where the attribute was added
    or removed; from ``changes``, else from both images; None when the line has no old values
    (``log_images="NEW"``)."""
    if isinstance(line.get("changes"), dict):
        return dict(line["changes"])
    old, new = line.get("old_image"), line.get("new_image")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    names = line.get("changed") or sorted(set(old) | set(new))
    return {
        name: {**({"old": old[name]} if name in old else {}), **({"new": new[name]} if name in new else {})}
        for name in names
        if old.get(name, ABSENT) != new.get(name, ABSENT) or (name in old) != (name in new)
    }


def side_text(side: dict[str, Any], name: str) -> str:
    return dumps(side[name]) if name in side else ABSENT


def change_text(change: Change) -> str:
    """What a change did, for a person: ``Stocks 33 → 32``, ``Stocks=39 Price={...}``, ``(expired by TTL)``."""
    line = change.line
    if change.event_name == "INSERT":
        new = line.get("new_image") or {}
        return " ".join(f"{name}={dumps(value)}" for name, value in new.items() if name not in change.keys)
    if change.event_name == "MODIFY":
        sides = attribute_changes(line)
        if sides is None:  # the new values only
            new = line.get("new_image") or {}
            return ", ".join(
                f"{name} → {dumps(new[name]) if name in new else ABSENT}" for name in line.get("changed") or []
            )
        return ", ".join(f"{name} {side_text(side, 'old')} → {side_text(side, 'new')}" for name, side in sides.items())
    if change.event_name == "REMOVE":
        return "(expired by TTL)" if line.get("ttl_expired") is True else "(deleted)"
    return ""


def change_object(change: Change) -> dict[str, Any]:
    """One change as ``--format json`` shows it."""
    line = change.line
    shown: dict[str, Any] = {
        "timestamp": change.timestamp,
        "event_name": change.event_name,
        "sequence_number": change.sequence_number,
        "keys": change.keys,
    }
    if change.event_name == "INSERT":
        shown["new_image"] = line.get("new_image")
    elif change.event_name == "MODIFY":
        shown["changes"] = attribute_changes(line)
        if shown["changes"] is None:
            shown["new_image"] = line.get("new_image")
    elif change.event_name == "REMOVE":
        shown["old_image"] = line.get("old_image")
        shown["ttl_expired"] = line.get("ttl_expired") is True
    if "shortened" in line:
        shown["shortened"] = line["shortened"]
    return shown
