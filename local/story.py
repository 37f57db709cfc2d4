"""The tutorials' story: what the local run writes when it is given neither --items nor a prompt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from local.items import ItemsError, key_schema

APPLE = {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
ORANGE = {"PK": "FRUIT", "SK": "ORANGE#FLORIDA"}
# The streams tutorial's own use case: the chair you want is out of stock, then back.
CHAIR = {"PK": "FURNITURE", "SK": "CHAIR#ERGONOMIC"}
# Its other one, TTL-driven notices: a seasonal listing that ends (the app's TTL attribute, ExpiresAt).
MANGO = {"PK": "FRUIT", "SK": "MANGO#ALPHONSO"}

# The tutorials' story: the inventory of a shop whose APPLE stock goes 39 -> 33 -> 32, and whose
# ergonomic chair is out of stock (0) until it is restocked (0 -> 5): the back-in-stock alert.
STORY: list[dict[str, Any]] = [
    {"op": "put", "item": {**APPLE, "Stocks": 39, "Price": {"USD": Decimal("0.8"), "INR": 50}}},
    {"op": "put", "item": {**ORANGE, "Stocks": 120, "Price": {"USD": Decimal("0.5"), "INR": 35}}},
    {"op": "update", "key": APPLE, "set": {"Stocks": 33}},
    {"op": "update", "key": APPLE, "set": {"Stocks": 32}},
    {"op": "update", "key": APPLE, "set": {"Price.USD": Decimal("0.85")}},
    {"op": "delete", "key": ORANGE},
    {
        "op": "batch",
        "put": [
            {"PK": "FRUIT", "SK": "BANANA#ECUADOR", "Stocks": 150, "Price": {"USD": Decimal("0.25"), "INR": 12}},
            {"PK": "VEGETABLE", "SK": "CARROT#OHIO", "Stocks": 80, "Price": {"USD": Decimal("0.1"), "INR": 8}},
            {"PK": "VEGETABLE", "SK": "POTATO#IDAHO", "Stocks": 200, "Price": {"USD": Decimal("0.3"), "INR": 20}},
        ],
    },
    {"op": "put", "item": {**CHAIR, "Stocks": 0, "Price": {"USD": Decimal("129.99"), "INR": 10999}}},
    {"op": "update", "key": CHAIR, "set": {"Stocks": 5}},
]


# The story's items are keyed as the tutorials' table is: string keys PK (partition) and SK (sort).
STORY_KEYS = {"PK": "S", "SK": "S"}


def check_story_keys(keys: dict[str, str]) -> None:
    """Refuse, before anything is written, to play the story on a table of other keys."""
    if list(keys.items()) != list(STORY_KEYS.items()):
        raise ItemsError(
            f"the table's keys are {key_schema(keys)}, not the story's {key_schema(STORY_KEYS)}: "
            "give --items FILE (one JSON operation per line; see --help)"
        )


def story(now: float, ttl_attribute: str | None) -> list[dict[str, Any]]:
    """The story; on a table with TTL, then the end of the mango season: a listing whose TTL
    attribute (the app's ``ExpiresAt``) is ``now`` expires, DynamoDB's TTL removes it."""
    if ttl_attribute is None:
        return STORY
    mango = {**MANGO, "Stocks": 40, "Price": {"USD": Decimal("1.5"), "INR": 120}, ttl_attribute: int(now)}
    return [*STORY, {"op": "put", "item": mango}, {"op": "expire", "key": MANGO}]
