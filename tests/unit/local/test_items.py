"""The operations of the story, of an items file and of the prompt."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local import items

KEYS = ["PK", "SK"]


class RecordingClient:
    """Stands in for the DynamoDB client: remembers each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**arguments: Any) -> dict[str, Any]:
            self.calls.append((name, arguments))
            return {}

        return call


def test_an_items_file_keeps_numbers_exact(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        "# a comment\n\n"
        '{"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Price": {"USD": 0.8}}}\n'
        '{"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}\n'
    )

    operations = items.read_items(path)

    assert operations[0]["item"]["Price"]["USD"] == Decimal("0.8")
    assert [operation["op"] for operation in operations] == ["put", "delete"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON"),
        ('{"op": "upsert"}', '"op" one of'),
        ('{"op": "put"}', 'needs "item"'),
        ('{"op": "update", "key": {"PK": "A", "SK": "B"}}', '"set"'),
    ],
)
def test_a_bad_line_names_its_place(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"op": "delete", "key": {"PK": "A", "SK": "B"}}\n' + line + "\n")

    with pytest.raises(items.ItemsError, match=f"items.jsonl:2: .*{message}"):
        items.read_items(path)


def test_put_writes_dynamodb_json() -> None:
    client = RecordingClient()

    items.apply(
        client, "T", {"op": "put", "item": {"PK": "FRUIT", "SK": "A", "Stocks": 39, "Price": {"USD": Decimal("0.8")}}}
    )

    assert client.calls == [
        (
            "put_item",
            {
                "TableName": "T",
                "Item": {
                    "PK": {"S": "FRUIT"},
                    "SK": {"S": "A"},
                    "Stocks": {"N": "39"},
                    "Price": {"M": {"USD": {"N": "0.8"}}},
                },
            },
        )
    ]


def test_update_sets_paths_and_removes_with_placeholders() -> None:
    client = RecordingClient()
    operation = {
        "op": "update",
        "key": {"PK": "FRUIT", "SK": "A"},
        "set": {"Price.USD": Decimal("0.9")},
        "remove": ["Tag"],
    }

    items.apply(client, "T", operation)

    ((name, arguments),) = client.calls
    assert name == "update_item"
    assert arguments["UpdateExpression"] == "SET #n0.#n1 = :v0 REMOVE #n2"
    assert arguments["ExpressionAttributeNames"] == {"#n0": "Price", "#n1": "USD", "#n2": "Tag"}
    assert arguments["ExpressionAttributeValues"] == {":v0": {"N": "0.9"}}


def test_batch_writes_in_chunks_of_25() -> None:
    client = RecordingClient()
    puts = [{"PK": "FRUIT", "SK": f"K{index}"} for index in range(30)]

    items.apply(client, "T", {"op": "batch", "put": puts, "delete": [{"PK": "FRUIT", "SK": "OLD"}]})

    sizes = [len(arguments["RequestItems"]["T"]) for name, arguments in client.calls]
    assert sizes == [25, 6]


def test_the_story_is_the_tutorials() -> None:
    described = [items.describe(operation, KEYS) for operation in items.STORY]

    assert described[:4] == [
        "put FRUIT/APPLE#WASHINGTON",
        "put FRUIT/ORANGE#FLORIDA",
        "update FRUIT/APPLE#WASHINGTON Stocks=33",
        "update FRUIT/APPLE#WASHINGTON Stocks=32",
    ]
    assert items.STORY[0]["item"] == {
        "PK": "FRUIT",
        "SK": "APPLE#WASHINGTON",
        "Stocks": 39,
        "Price": {"USD": Decimal("0.8"), "INR": 50},
    }
    assert [operation["op"] for operation in items.STORY][4:] == ["update", "delete", "batch", "put", "update"]
    # The streams tutorial's chair: out of stock, then back (the alert's story).
    assert described[-2:] == ["put FURNITURE/CHAIR#ERGONOMIC", "update FURNITURE/CHAIR#ERGONOMIC Stocks=5"]
    assert items.STORY[-2]["item"]["Stocks"] == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", None),
        ("put FRUIT KIWI#NZ Stocks=3", {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 3}}),
        (
            'put FRUIT KIWI#NZ Price={"USD":0.8} Name="Green kiwi" Origin=NZ',
            {
                "op": "put",
                "item": {
                    "PK": "FRUIT",
                    "SK": "KIWI#NZ",
                    "Price": {"USD": Decimal("0.8")},
                    "Name": "Green kiwi",
                    "Origin": "NZ",
                },
            },
        ),
        (
            "update FRUIT KIWI#NZ Stocks=2 -Origin",
            {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "set": {"Stocks": 2}, "remove": ["Origin"]},
        ),
        ("delete FRUIT KIWI#NZ", {"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}),
        ('{"op": "delete", "key": {"PK": "A", "SK": "B"}}', {"op": "delete", "key": {"PK": "A", "SK": "B"}}),
    ],
)
def test_a_command(line: str, expected: dict[str, Any] | None) -> None:
    assert items.parse_command(line, KEYS) == expected


@pytest.mark.parametrize("line", ["get FRUIT A", "put FRUIT", "put FRUIT A Stocks", "update FRUIT A", 'put A B C="x'])
def test_a_bad_command_is_explained(line: str) -> None:
    with pytest.raises(items.ItemsError):
        items.parse_command(line, KEYS)
