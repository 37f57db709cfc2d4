"""``expire``: DynamoDB's TTL removing an item whose time is up, in the local run.

DynamoDB's TTL process deletes an item some time after the time in its TTL attribute (a
number, seconds since 1970, at most five years in the past) and writes a REMOVE to the stream
whose ``userIdentity`` is ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``:
that is how the logger (``ttl_expired``) and an ``Expires`` alert tell it from a delete.

- moto, the default backend, has no TTL process, so the run simulates it: it removes the item
  as it is in the table at that moment, and its REMOVE record, with the stream's next sequence
  number, carries the TTL process's identity (``backend.expire_in_moto``). The progress line
  says so.
- DynamoDB Local has one (a job that deletes expired items every second or so; its records
  are read as AWS writes them, see ``backend.DYNAMODB_LOCAL_EXPIRY``), as has AWS (within
  days): the run waits for it to remove the item.

Either way the item must be one DynamoDB's TTL would remove; anything else is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from local import backend
from local.items import ItemsError
from local.writes import attributes

# DynamoDB's TTL ignores an expiry time more than five years in the past.
FIVE_YEARS = 5 * 365 * 24 * 3600
# How long to wait for an endpoint's own TTL to remove an item; DynamoDB Local takes a second or two.
WAIT_SECONDS = 30.0
SIMULATED = (
    "simulated TTL expiry: moto does not expire items, so the run removed it as DynamoDB's TTL does, "
    "a REMOVE by dynamodb.amazonaws.com"
)


def expire(
    dynamodb: Any,
    table_name: str,
    key: dict[str, Any],
    ttl_attribute: str | None,
    *,
    simulated: bool,
    now: float,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Have the item expired: simulated on moto, by the endpoint's own TTL otherwise.

    Returns the note for the progress line; raises an ItemsError for an item DynamoDB's TTL
    would not remove.
    """
    if ttl_attribute is None:
        raise ItemsError("the table has no TTL attribute (TimeToLiveSpecification): DynamoDB never expires its items")
    wire_key = attributes(key)
    item = _item(dynamodb, table_name, wire_key)
    if item is None:
        return "no such item: nothing expired, no stream record" if simulated else "not in the table (already expired?)"
    _check_due(item, ttl_attribute, now)
    if simulated:
        backend.expire_in_moto(table_name, wire_key)
        return SIMULATED
    for _ in range(int(WAIT_SECONDS / 0.5)):
        sleep(0.5)
        if _item(dynamodb, table_name, wire_key) is None:
            return "removed by the endpoint's TTL"
    raise ItemsError(
        f"the endpoint's TTL did not remove it within {WAIT_SECONDS:g} s (DynamoDB Local does within seconds, "
        "AWS within days)"
    )


def _item(dynamodb: Any, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
    return item


def _check_due(item: dict[str, Any], ttl_attribute: str, now: float) -> None:
    """Refuse an item whose TTL attribute is not a time DynamoDB's TTL acts on."""
    value = item.get(ttl_attribute, {}).get("N")
    try:
        due = value is not None and now - FIVE_YEARS <= Decimal(value) <= now
    except InvalidOperation:
        due = False
    if not due:
        shown = "absent" if ttl_attribute not in item else str(value or item[ttl_attribute])
        raise ItemsError(
            f"{ttl_attribute} is {shown}, not a time in the past (seconds since 1970, at most five years ago): "
            "DynamoDB's TTL would not remove this item"
        )
