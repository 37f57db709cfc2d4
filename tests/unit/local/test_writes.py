"""The writes of the operations (local/writes.py), on a client that records its calls."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from local import writes
from tests.unit.local.conftest import RecordingClient


def test_a_delete_of_a_missing_item_says_so() -> None:
    class NothingThere(RecordingClient):
        def delete_item(self, **arguments: Any) -> dict[str, Any]:
            self.calls.append(("delete_item", arguments))
            return {}

    client = NothingThere()

    note = writes.apply(client, "T", {"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}})

    assert note == "no such item: nothing deleted, no stream record"
    assert client.calls[0][1]["ReturnValues"] == "ALL_OLD"


def test_put_writes_dynamodb_json() -> None:
    client = RecordingClient()

    writes.apply(
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

    writes.apply(client, "T", operation)

    ((name, arguments),) = client.calls
    assert name == "update_item"
    assert arguments["UpdateExpression"] == "SET #n0.#n1 = :v0 REMOVE #n2"
    assert arguments["ExpressionAttributeNames"] == {"#n0": "Price", "#n1": "USD", "#n2": "Tag"}
    assert arguments["ExpressionAttributeValues"] == {":v0": {"N": "0.9"}}


def test_batch_writes_in_chunks_of_25() -> None:
    client = RecordingClient()
    puts = [{"PK": "FRUIT", "SK": f"K{index}"} for index in range(30)]

    writes.apply(client, "T", {"op": "batch", "put": puts, "delete": [{"PK": "FRUIT", "SK": "OLD"}]})

    sizes = [len(arguments["RequestItems"]["T"]) for name, arguments in client.calls]
    assert sizes == [25, 6]
