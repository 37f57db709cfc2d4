"""``history --as-of``: the item as it was at a moment, rebuilt from its changes, never guessed; a
gap the lines show (a MODIFY whose old values are not the rebuilt state, a first line that is not
an INSERT) is an error that says where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import RedriveError
from .history_changes import ABSENT, Change, attribute_changes, dumps


class Gap(RedriveError):
    """The lines cannot say what the item was: a change is missing from them."""


def where(change: Change) -> str:
    return f"{change.event_name} at {change.timestamp} (sequence number {change.sequence_number})"


def state_at(changes: list[Change], moment: datetime) -> dict[str, Any] | None:
    """The item as it was at ``moment``, rebuilt from its changes up to then."""
    state: dict[str, Any] | None = None
    known = False  # whether the lines have said what the item was
    for change in changes:
        if change.time > moment:
            break
        state = next_state(state, known, change)
        known = True
    return state


def next_state(state: dict[str, Any] | None, known: bool, change: Change) -> dict[str, Any] | None:
    """The item after ``change``, from its state before (``known``: the lines had one); a Gap when
    the line cannot follow that state."""
    line = change.line
    if "shortened" in line:
        full = (line.get("shortened") or {}).get("full_record") or "only in the table"
        raise Gap(f"the line of the {where(change)} is shortened: the item's values are not all in it ({full})")
    if change.event_name == "INSERT":
        if known and state is not None:
            raise Gap(f"the {where(change)} creates an item the lines say exists: its REMOVE is missing")
        image = line.get("new_image")
        if not isinstance(image, dict):
            raise Gap(f"the line of the {where(change)} has no new_image")
        return dict(image)
    if not known or state is None:
        before = "is the first change of the item in the lines" if not known else "follows its REMOVE"
        raise Gap(
            f"the {where(change)} {before}: the item's state before it is not in the lines "
            "(older than the log's retention or --since, or a change is missing)"
        )
    if change.event_name == "REMOVE":
        old = line.get("old_image")
        if isinstance(old, dict) and old != state:
            raise Gap(f"the {where(change)} removes an item other than the rebuilt one: a change before it is missing")
        return None
    if change.event_name != "MODIFY":
        raise Gap(f"the {where(change)} is no change the logger writes")
    return modified(state, change)


def modified(state: dict[str, Any], change: Change) -> dict[str, Any]:
    """The item after a MODIFY: its changes applied to ``state``, each old value checked against it."""
    line = change.line
    sides = attribute_changes(line)
    if isinstance(line.get("old_image"), dict) and line["old_image"] != state:
        raise Gap(f"the {where(change)} changes an item other than the rebuilt one: a change before it is missing")
    for name, side in (sides or {}).items():
        if ("old" in side) != (name in state) or ("old" in side and side["old"] != state[name]):
            was = dumps(state[name]) if name in state else ABSENT
            old = dumps(side["old"]) if "old" in side else ABSENT
            raise Gap(f"the {where(change)} changes {name} from {old}, but it was {was}: a change before it is missing")
    image = line.get("new_image")
    if sides is None:  # log_images="NEW": the new image, nothing to check it against
        if not isinstance(image, dict):
            raise Gap(f"the line of the {where(change)} has neither new_image nor changes")
        return dict(image)
    rebuilt = dict(state)
    for name, side in sides.items():
        if "new" in side:
            rebuilt[name] = side["new"]
        else:
            rebuilt.pop(name, None)
    if isinstance(image, dict) and image != rebuilt:
        # What the change left alone must be what the item was.
        name = next(n for n in sorted(set(image) | set(rebuilt)) if image.get(n, ABSENT) != rebuilt.get(n, ABSENT))
        now = dumps(image[name]) if name in image else ABSENT
        was = dumps(state[name]) if name in state else ABSENT
        raise Gap(f"after the {where(change)} {name} is {now}, but it was {was}: a change before it is missing")
    return rebuilt
