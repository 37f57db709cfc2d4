"""``expire`` in an items file: what DynamoDB's TTL would remove is removed, the rest refused in one line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from local import expiry
from local.items import ItemsError
from tests.e2e.conftest import Result

KIWI = {"PK": "FRUIT", "SK": "KIWI#NZ"}


def items_file(tmp_path: Path, *operations: dict[str, Any]) -> str:
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(operation) for operation in operations))
    return str(path)


def test_an_expired_item_is_removed_by_the_ttl_and_logged_so(run_on_each: Any, tmp_path: Path) -> None:
    # GIVEN an item whose ExpiresAt passed a minute ago
    path = items_file(
        tmp_path,
        {"op": "put", "item": {**KIWI, "Stocks": 3, "ExpiresAt": int(time.time()) - 60}},
        {"op": "expire", "key": KIWI},
    )

    result: Result = run_on_each("--items", path)

    # THEN its REMOVE is DynamoDB's TTL's, for the logger and for the listing-expired alert
    assert result.code == 0, result.stderr
    inserted, removed = result.records
    assert removed["ttl_expired"] is True and removed["old_image"] == inserted["new_image"]
    (notification,) = [line["local_sns_stand_in"] for line in result.lines if "local_sns_stand_in" in line]
    assert notification["Subject"] == "Listing expired: FRUIT / KIWI#NZ"


@pytest.mark.parametrize(
    ("expires_at", "shown"),
    [
        (4_102_444_800, "4102444800"),  # 2100: not yet
        (int(time.time()) - 6 * 365 * 24 * 3600, None),  # more than five years ago: DynamoDB's TTL ignores it
        ("tomorrow", "{'S': 'tomorrow'}"),
        (None, "absent"),
    ],
    # Ids that do not change with the clock: pytest-xdist's workers must collect the same tests.
    ids=["in-2100", "six-years-ago", "a-string", "absent"],
)
def test_an_item_the_ttl_would_not_remove_is_refused_in_one_line(
    run_local: Any, tmp_path: Path, expires_at: Any, shown: str | None
) -> None:
    item = {**KIWI, "Stocks": 3} | ({} if expires_at is None else {"ExpiresAt": expires_at})
    path = items_file(tmp_path, {"op": "put", "item": item}, {"op": "expire", "key": KIWI})

    result: Result = run_local("--items", path)

    assert result.code == 2
    (error,) = [line for line in result.stderr.splitlines() if not line.startswith("#")]
    assert error.startswith(f"error: {path}:2: expire FRUIT/KIWI#NZ: ExpiresAt is {shown or expires_at}, not a time")
    assert error.endswith("DynamoDB's TTL would not remove this item")
    # what was written before is still logged; nothing was removed
    assert [line["event_name"] for line in result.records] == ["INSERT"]


def test_expiring_a_missing_item_says_so(run_local: Any, tmp_path: Path) -> None:
    result: Result = run_local("--items", items_file(tmp_path, {"op": "expire", "key": KIWI}))

    assert result.code == 0, result.stderr
    assert "# write: expire FRUIT/KIWI#NZ (no such item: nothing expired, no stream record)" in result.stderr
    assert result.records == []


def test_a_table_without_ttl_never_expires_an_item() -> None:
    with pytest.raises(ItemsError, match=r"^the table has no TTL attribute \(TimeToLiveSpecification\)"):
        expiry.expire(None, "T", KIWI, None, simulated=True, now=time.time())
