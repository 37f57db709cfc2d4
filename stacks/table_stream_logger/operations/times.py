"""Times as the command reads them: ISO 8601 in failure records and log lines, and the
``--since``/``--until``/``--as-of`` options, which also take a time ago (30m, 6h, 2d)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .errors import RedriveError

RELATIVE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (UTC unless it says otherwise) or a date."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RedriveError(f"{text!r} is not a time: give e.g. 2026-12-01T14:00:00Z, 2026-12-01 or 6h") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def moment(text: str, now: datetime) -> datetime:
    """``--since``/``--until``: an ISO 8601 time or date, or a time ago such as 30m, 6h, 2d."""
    number, unit = text[:-1], text[-1:]
    if unit in RELATIVE_UNITS and number.isdigit():
        return now - timedelta(**{RELATIVE_UNITS[unit]: int(number)})
    return parse_time(text)
