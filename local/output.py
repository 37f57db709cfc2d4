"""What the run shows: the function's log lines on stdout, progress and a summary on stderr.

``json`` prints the handler's lines as they are, as CloudWatch Logs receives them.
``pretty`` turns each change into one line a person reads at a glance::

    INSERT FRUIT/APPLE#WASHINGTON Stocks=39 Price={"USD":0.8,"INR":50}
    MODIFY FRUIT/APPLE#WASHINGTON Stocks 33 → 32
    REMOVE FRUIT/ORANGE#FLORIDA
    REMOVE FRUIT/MANGO#ALPHONSO (expired by TTL)
    MODIFY FRUIT/JACKFRUIT#KERALA Stocks 3 → 2 (shortened: the whole record is s3://...)

and leaves out the two lines of each invocation that are not changes: its context and its
metrics (EMF).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TextIO

FORMATS = ("pretty", "json")
ABSENT = "(none)"


def pretty(line: str) -> str | None:
    """A person's version of one log line; None for a line not worth showing."""
    try:
        entry = json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError:
        return line
    if not isinstance(entry, dict):
        return line
    if "_aws" in entry or "record_count" in entry:  # the invocation's metrics and context: not changes
        return None
    if "event_name" in entry:
        return _change(entry)
    if "errorType" in entry:
        return f"ERROR {entry['errorType']}: {entry.get('errorMessage', '')}"
    text = f"{entry.get('level', '')} {entry.get('message', '')}".strip()
    if entry.get("sequence_number"):
        text += f" (sequence number {entry['sequence_number']})"
    return text


def _change(entry: dict[str, Any]) -> str:
    shortened = entry.get("shortened")
    if not isinstance(shortened, dict):
        return _change_only(entry)
    where = shortened.get("full_record") or "not copied"
    return f"{_change_only(entry)} (shortened: the whole record is {where})"


def _change_only(entry: dict[str, Any]) -> str:
    keys: dict[str, Any] = entry.get("keys") or {}
    head = f"{entry['event_name']} " + "/".join(_key(value) for value in keys.values())
    if entry["event_name"] == "INSERT":
        new = entry.get("new_image") or {}
        return " ".join([head, *(f"{name}={_json(value)}" for name, value in new.items() if name not in keys)])
    if entry["event_name"] == "MODIFY":
        changes = entry.get("changes") or {
            name: {
                **({"old": entry["old_image"][name]} if name in (entry.get("old_image") or {}) else {}),
                **({"new": entry["new_image"][name]} if name in (entry.get("new_image") or {}) else {}),
            }
            for name in entry.get("changed") or []
        }
        parts = []
        for name, sides in changes.items():
            old = _json(sides["old"]) if "old" in sides else ABSENT
            new = _json(sides["new"]) if "new" in sides else ABSENT
            # With LOG_IMAGES=NEW the old value is not in the line at all.
            parts.append(f"{name} {old} → {new}" if "old_image" in entry or "changes" in entry else f"{name} → {new}")
        return head + " " + ", ".join(parts) if parts else head
    return head + (" (expired by TTL)" if entry.get("ttl_expired") is True else "")


def _key(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    """JSON text of a parsed value, numbers exactly as they were written."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(name) + ":" + _json(item) for name, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class Printer:
    """Writes the function's log lines in the chosen format.

    ``keep`` says which lines CloudWatch would receive (Lambda's log-level filtering); the
    others are not shown, so that what a run prints is what the log group would hold.
    """

    def __init__(self, format: str, out: TextIO, keep: Callable[[str], bool] = lambda line: True) -> None:
        self.format = format
        self.out = out
        self.keep = keep

    def __call__(self, lines: list[str]) -> None:
        for line in lines:
            if not self.keep(line):
                continue
            shown = line if self.format == "json" else pretty(line)
            if shown is not None:
                self.out.write(shown + "\n")
        self.out.flush()


class Progress:
    """Lines about what the run does, on stderr, each starting with ``# ``."""

    def __init__(self, out: TextIO, *, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet

    def __call__(self, line: str) -> None:
        if not self.quiet:
            self.out.write(f"# {line}\n")
            self.out.flush()
