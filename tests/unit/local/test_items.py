"""The operations of an items file and of the prompt, checked as DynamoDB would check them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local import items, writes
from tests.unit.local.conftest import RecordingClient

KEYS = {"PK": "S", "SK": "S"}


def test_an_items_file_keeps_numbers_exact(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        "# a comment\n\n"
        '{"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Price": {"USD": 0.8}}}\n'
        '{"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}\n'
    )

    operations = items.read_items(path, path.read_text(), KEYS)

    assert operations[0][1]["item"]["Price"]["USD"] == Decimal("0.8")
    assert [(where, operation["op"]) for where, operation in operations] == [
        (f"{path}:3", "put"),
        (f"{path}:4", "delete"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON"),
        ('{"op": "upsert"}', '"op" one of'),
        ('{"op": "put"}', "item: an object with the item's attributes is needed"),
        ('{"op": "update", "key": {"PK": "A", "SK": "B"}}', '"set"'),
    ],
)
def test_a_bad_line_names_its_place(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"op": "delete", "key": {"PK": "A", "SK": "B"}}\n' + line + "\n")

    with pytest.raises(items.ItemsError, match=f"items.jsonl:2: .*{message}"):
        items.read_items(path, path.read_text(), KEYS)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # Keys, per the table's key schema.
        ('{"op": "put", "item": {"PK": "FRUIT"}}', r"item.SK: missing, the table's sort key \(PK \(S\), SK \(S\)\)"),
        ('{"op": "delete", "key": {"PK": "FRUIT", "SK": ""}}', "key.SK: the sort key cannot be an empty string"),
        ('{"op": "delete", "key": {"PK": 7, "SK": "A"}}', "key.PK: the partition key is a string, got 7"),
        ('{"op": "delete", "key": {"PK": "F", "SK": "A", "Stocks": 1}}', "key.Stocks: not a key attribute"),
        ('{"op": "update", "key": {"PK": "F", "SK": "A"}, "set": {"SK": "B"}}', "set.SK: SK is a key attribute"),
        (
            '{"op": "put", "item": {"PK": "F", "SK": "' + "x" * 1025 + '"}}',
            "item.SK: the sort key is longer than DynamoDB's 1024 bytes",
        ),
        # Numbers, by DynamoDB's range and precision, anywhere in an item.
        ('{"op": "put", "item": {"PK": "F", "SK": "A", "Stocks": 1e200}}', "item.Stocks: 1E[+]200 cannot be stored: "),
        ('{"op": "put", "item": {"PK": "F", "SK": "A", "P": {"USD": 1e-131}}}', "item.P.USD: 1E-131 cannot be stored"),
        ('{"op": "put", "item": {"PK": "F", "SK": "A", "L": [1, ' + "9" * 39 + "]}}", r"item.L\[1\]: 9+ cannot"),
        ('{"op": "update", "key": {"PK": "F", "SK": "A"}, "set": {"N": NaN}}', "set.N: nan is not a number"),
        # Fields: only those of the operation.
        ('{"op": "update", "key": {"PK": "F", "SK": "A"}, "remvoe": ["X"]}', '"remvoe": not a field of update'),
        ('{"op": "put", "key": {"PK": "F", "SK": "A"}}', '"key": not a field of put [(]its fields: item[)]'),
        ('{"op": "update", "key": {"PK": "F", "SK": "A"}, "set": {"P.USD": 1}, "remove": ["P"]}', "remove.P: overlaps"),
        (
            '{"op": "batch", "put": [{"PK": "F", "SK": "A"}], "delete": [{"PK": "F", "SK": "A"}]}',
            r"delete\[0\]: the same",
        ),
        ('{"op": "batch"}', 'a batch needs "put" or "delete"'),
    ],
)
def test_what_dynamodb_would_refuse_is_an_error_naming_the_line_and_field(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"op": "delete", "key": {"PK": "A", "SK": "B"}}\n' + line + "\n")

    with pytest.raises(items.ItemsError, match=f"^{path}:2: {message}"):
        items.read_items(path, path.read_text(), KEYS)


def test_every_bad_line_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"op": "put", "item": {"PK": "F"}}\n{"op": "delete", "key": {"PK": "F", "SK": "A"}}\n{"op": "x"}\n'
    )

    with pytest.raises(items.ItemsError) as raised:
        items.read_items(path, path.read_text(), KEYS)

    assert [line.split(": ")[0] for line in str(raised.value).splitlines()] == [f"{path}:1", f"{path}:3"]


def test_a_number_key_takes_numbers_only() -> None:
    keys = {"Id": "N"}

    assert items.parse_operation('{"op": "delete", "key": {"Id": 12345678901234567890}}', keys)
    with pytest.raises(items.ItemsError, match=r'key.Id: the partition key is a number, got "7"'):
        items.parse_operation('{"op": "delete", "key": {"Id": "7"}}', keys)


def test_expire_takes_a_key_and_is_not_a_write() -> None:
    with pytest.raises(items.ItemsError, match=r"key\.SK: missing, the table's sort key"):
        items.parse_operation('{"op": "expire", "key": {"PK": "FRUIT"}}', KEYS)
    with pytest.raises(items.ItemsError, match='"item": not a field of expire'):
        items.parse_operation('{"op": "expire", "item": {"PK": "FRUIT", "SK": "A"}}', KEYS)

    with pytest.raises(items.ItemsError, match="expire is not a write the table takes"):
        writes.apply(RecordingClient(), "T", {"op": "expire", "key": {"PK": "FRUIT", "SK": "A"}})


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


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("get FRUIT A", "expected put|update|delete PK SK"),
        ("put FRUIT", "expected put|update|delete PK SK"),
        ("put FRUIT A Stocks", "expected Name=value, got 'Stocks'"),
        ("update FRUIT A", 'an update needs "set"'),
        ('put A B C="x', "a quote is not closed"),
        # The same checks as for a file.
        ("update FRUIT A N=1e200", "set.N: 1E[+]200 cannot be stored: N value is out of DynamoDB's range"),
        ('put FRUIT "" Stocks=1', "item.SK: the sort key cannot be an empty string"),
        ("delete FRUIT A Stocks=1", "a delete takes the key only"),
    ],
)
def test_a_bad_command_is_explained(line: str, message: str) -> None:
    with pytest.raises(items.ItemsError, match=message):
        items.parse_command(line, KEYS)


def test_a_string_key_typed_at_the_prompt_stays_a_string() -> None:
    assert items.parse_command("delete FRUIT 7", KEYS) == {"op": "delete", "key": {"PK": "FRUIT", "SK": "7"}}


def test_poison_takes_an_item_checked_as_a_put_and_is_not_a_write() -> None:
    operation = items.parse_operation('{"op": "poison", "item": {"PK": "FRUIT", "SK": "POISON#1"}}', KEYS)
    assert items.describe(operation, list(KEYS)) == "poison FRUIT/POISON#1"
    with pytest.raises(items.ItemsError, match=r"item\.SK: missing"):
        items.parse_operation('{"op": "poison", "item": {"PK": "FRUIT"}}', KEYS)
    with pytest.raises(items.ItemsError, match="poison is not a write the table takes"):
        writes.apply(RecordingClient(), "T", operation)
