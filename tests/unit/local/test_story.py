"""The tutorials' story (local/story.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from local import items, story

KEYS = {"PK": "S", "SK": "S"}


def test_the_story_is_the_tutorials() -> None:
    described = [items.describe(operation, list(KEYS)) for operation in story.STORY]

    assert described[:4] == [
        "put FRUIT/APPLE#WASHINGTON",
        "put FRUIT/ORANGE#FLORIDA",
        "update FRUIT/APPLE#WASHINGTON Stocks=33",
        "update FRUIT/APPLE#WASHINGTON Stocks=32",
    ]
    assert story.STORY[0]["item"] == {
        "PK": "FRUIT",
        "SK": "APPLE#WASHINGTON",
        "Stocks": 39,
        "Price": {"USD": Decimal("0.8"), "INR": 50},
    }
    assert [operation["op"] for operation in story.STORY][4:] == ["update", "delete", "batch", "put", "update"]
    # The streams tutorial's chair: out of stock, then back (the alert's story).
    assert described[-2:] == ["put FURNITURE/CHAIR#ERGONOMIC", "update FURNITURE/CHAIR#ERGONOMIC Stocks=5"]
    assert story.STORY[-2]["item"]["Stocks"] == 0


def test_on_a_table_with_ttl_the_story_ends_with_the_mango_listing_expiring() -> None:
    assert story.story(1_796_000_000.7, None) == story.STORY

    *told, listed, expired = story.story(1_796_000_000.7, "ExpiresAt")

    assert told == story.STORY
    assert listed == {
        "op": "put",
        "item": {
            "PK": "FRUIT",
            "SK": "MANGO#ALPHONSO",
            "Stocks": 40,
            "Price": {"USD": Decimal("1.5"), "INR": 120},
            "ExpiresAt": 1_796_000_000,
        },
    }
    assert expired == {"op": "expire", "key": {"PK": "FRUIT", "SK": "MANGO#ALPHONSO"}}
    assert items.describe(expired, list(KEYS)) == "expire FRUIT/MANGO#ALPHONSO"


@pytest.mark.parametrize(
    "keys", [{"tenant": "S", "id": "N"}, {"PK": "S"}, {"SK": "S", "PK": "S"}, {"PK": "N", "SK": "S"}]
)
def test_the_story_is_refused_on_other_keys(keys: dict[str, str]) -> None:
    with pytest.raises(items.ItemsError, match=r"give --items FILE \(one JSON operation per line; see --help\)$"):
        story.check_story_keys(keys)
    story.check_story_keys({"PK": "S", "SK": "S"})
