"""The writes the local run makes: the tutorials' story, a file of your own, or a prompt.

An items file has one operation per line, as JSON (blank lines and lines starting with
``#`` are skipped). Values are plain JSON; numbers keep every digit (``0.8`` stays 0.8):

    {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 12, "Price": {"USD": 1.2}}}
    {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "set": {"Stocks": 11, "Price.USD": 1.1}}
    {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "remove": ["Price"]}
    {"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}
    {"op": "batch", "put": [{"PK": "FRUIT", "SK": "LIME#MX"}], "delete": [{"PK": "FRUIT", "SK": "FIG#TR"}]}

``set`` takes attribute names or dotted paths into maps. An update of an item that does not
exist creates it (with moto, that shows as two INSERT records; AWS emits one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

OPERATIONS = ("put", "update", "delete", "batch")

APPLE = {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
ORANGE = {"PK": "FRUIT", "SK": "ORANGE#FLORIDA"}
# The streams tutorial's own use case: the chair you want is out of stock, then back.
CHAIR = {"PK": "FURNITURE", "SK": "CHAIR#ERGONOMIC"}

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

_serialize = TypeSerializer().serialize
_WORD = re.compile(r'(?:[^\s"]|"(?:\\.|[^"\\])*")+')


class ItemsError(ValueError):
    """An operation that cannot be understood."""


def parse_operation(text: str) -> dict[str, Any]:
    """One JSON line of an items file."""
    try:
        operation = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ItemsError(f"not JSON: {error}") from None
    if not isinstance(operation, dict) or operation.get("op") not in OPERATIONS:
        raise ItemsError(f'an operation is an object with "op" one of {", ".join(OPERATIONS)}')
    needed = {"put": ("item",), "update": ("key",), "delete": ("key",), "batch": ()}[operation["op"]]
    for name in needed:
        if not isinstance(operation.get(name), dict):
            raise ItemsError(f'a {operation["op"]} needs "{name}": an object')
    if operation["op"] == "update" and not (operation.get("set") or operation.get("remove")):
        raise ItemsError('an update needs "set" (an object) or "remove" (a list)')
    return operation


def read_items(path: Path) -> list[dict[str, Any]]:
    """All operations of an items file, or an error naming the bad line."""
    operations = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            operations.append(parse_operation(line))
        except ItemsError as error:
            raise ItemsError(f"{path}:{number}: {error}") from None
    return operations


def parse_command(line: str, key_names: list[str]) -> dict[str, Any] | None:
    """A line typed at the prompt, as an operation; None for an empty line.

    ``put PK SK Name=value ...``, ``update PK SK Name=value -Removed ...``, ``delete PK SK``,
    or a JSON operation. A value is read as JSON when it is JSON (``39``, ``{"USD":0.8}``,
    ``"two words"``), else as a string.
    """
    line = line.strip()
    if not line:
        return None
    if line.startswith("{"):
        return parse_operation(line)
    if len(re.findall(r'(?<!\\)"', line)) % 2:
        raise ItemsError("a quote is not closed")
    # Words split at spaces outside "...", keeping the quotes that make a JSON string.
    words = _WORD.findall(line)
    verb, arguments = words[0].lower(), words[1:]
    if verb not in ("put", "update", "delete") or len(arguments) < len(key_names):
        raise ItemsError(f"expected put|update|delete {' '.join(key_names)} [Name=value ...]")
    key = {name: _value(text) for name, text in zip(key_names, arguments, strict=False)}
    attributes: dict[str, Any] = {}
    removed: list[str] = []
    for word in arguments[len(key_names) :]:
        if verb == "update" and word.startswith("-"):
            removed.append(word[1:])
            continue
        name, equals, text = word.partition("=")
        if not equals or not name:
            raise ItemsError(f"expected Name=value, got {word!r}")
        attributes[name] = _value(text)
    if verb == "put":
        return {"op": "put", "item": {**key, **attributes}}
    if verb == "delete":
        return {"op": "delete", "key": key}
    if not attributes and not removed:
        raise ItemsError("an update needs Name=value or -Name")
    return {"op": "update", "key": key, "set": attributes, "remove": removed}


def _value(text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        return text


def describe(operation: dict[str, Any], key_names: list[str]) -> str:
    """A short line for the progress output: ``update FRUIT/APPLE#WASHINGTON set Stocks=33``."""

    def key_text(item: dict[str, Any]) -> str:
        return "/".join(str(item.get(name)) for name in key_names)

    kind = operation["op"]
    if kind == "put":
        return f"put {key_text(operation['item'])}"
    if kind == "delete":
        return f"delete {key_text(operation['key'])}"
    if kind == "update":
        changes = [f"{name}={_text(value)}" for name, value in operation.get("set", {}).items()]
        changes += [f"-{name}" for name in operation.get("remove", [])]
        return f"update {key_text(operation['key'])} " + " ".join(changes)
    puts = [key_text(item) for item in operation.get("put", [])]
    deletes = [key_text(key) for key in operation.get("delete", [])]
    return "batch: " + ", ".join([f"put {text}" for text in puts] + [f"delete {text}" for text in deletes])


def _text(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)


def apply(dynamodb: Any, table_name: str, operation: dict[str, Any]) -> None:
    """Make the write with the low-level client, as the AWS CLI in the tutorials does."""
    kind = operation["op"]
    if kind == "put":
        dynamodb.put_item(TableName=table_name, Item=_attributes(operation["item"]))
    elif kind == "delete":
        dynamodb.delete_item(TableName=table_name, Key=_attributes(operation["key"]))
    elif kind == "update":
        dynamodb.update_item(TableName=table_name, Key=_attributes(operation["key"]), **_update(operation))
    else:
        requests = [{"PutRequest": {"Item": _attributes(item)}} for item in operation.get("put", [])]
        requests += [{"DeleteRequest": {"Key": _attributes(key)}} for key in operation.get("delete", [])]
        for chunk in _chunks(requests, 25):  # BatchWriteItem takes 25 requests at most
            pending: dict[str, Any] = {table_name: chunk}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in item.items()}


def _update(operation: dict[str, Any]) -> dict[str, Any]:
    """An UpdateExpression with placeholders for every name and value."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def path(dotted: str) -> str:
        parts = []
        for part in dotted.split("."):
            placeholder = f"#n{len(names)}"
            names[placeholder] = part
            parts.append(placeholder)
        return ".".join(parts)

    sets = []
    for dotted, value in operation.get("set", {}).items():
        placeholder = f":v{len(values)}"
        values[placeholder] = _serialize(value)
        sets.append(f"{path(dotted)} = {placeholder}")
    removes = [path(dotted) for dotted in operation.get("remove", [])]
    clauses = ([f"SET {', '.join(sets)}"] if sets else []) + ([f"REMOVE {', '.join(removes)}"] if removes else [])
    arguments: dict[str, Any] = {"UpdateExpression": " ".join(clauses), "ExpressionAttributeNames": names}
    if values:
        arguments["ExpressionAttributeValues"] = values
    return arguments


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
