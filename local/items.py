"""The operations the local run writes, from a file of your own or a prompt, checked before any is written.

An items file has one operation per line, as JSON (blank lines and lines starting with
``#`` are skipped). Values are plain JSON; numbers keep every digit (``0.8`` stays 0.8):

    {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 12, "Price": {"USD": 1.2}}}
    {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "set": {"Stocks": 11, "Price.USD": 1.1}}
    {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "remove": ["Price"]}
    {"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}
    {"op": "batch", "put": [{"PK": "FRUIT", "SK": "LIME#MX"}], "delete": [{"PK": "FRUIT", "SK": "FIG#TR"}]}
    {"op": "expire", "key": {"PK": "FRUIT", "SK": "MANGO#ALPHONSO"}}
    {"op": "poison", "item": {"PK": "FRUIT", "SK": "POISON#1", "Stocks": 1}}

``expire`` is DynamoDB's TTL removing an item whose TTL attribute has passed (local/expiry.py).
``poison`` puts the item and makes its stream record one the handler cannot process, simulated
on moto (local/poison.py): the way to see a batch parked and replay it.
``set`` takes attribute names or dotted paths into maps. An update of an item that does not
exist creates it (with moto, that shows as two INSERT records; AWS emits one).

The tutorials' story is in local/story.py, the writes themselves in local/writes.py.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import dynamo_json

OPERATIONS = ("put", "update", "delete", "batch", "expire", "poison")

_WORD = re.compile(r'(?:[^\s"]|"(?:\\.|[^"\\])*")+')

# The fields of each operation, besides "op".
FIELDS = {
    "put": ("item",),
    "update": ("key", "set", "remove"),
    "delete": ("key",),
    "batch": ("put", "delete"),
    "expire": ("key",),
    "poison": ("item",),
}
# DynamoDB's limits on a key attribute's value, in UTF-8 bytes.
KEY_BYTES = {"HASH": 2048, "RANGE": 1024}

#: The table's key attributes and their types (``S``, ``N`` or ``B``), partition key first.
KeyTypes = dict[str, str]


class ItemsError(ValueError):
    """An operation that cannot be understood, or that DynamoDB would refuse."""


def parse_operation(text: str, keys: KeyTypes) -> dict[str, Any]:
    """One JSON operation (a line of an items file), checked against the table's keys."""
    try:
        operation = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ItemsError(f"not JSON: {error}") from None
    if not isinstance(operation, dict) or operation.get("op") not in OPERATIONS:
        raise ItemsError(f'an operation is an object with "op" one of {", ".join(OPERATIONS)}')
    check(operation, keys)
    return operation


def read_items(path: Path, text: str, keys: KeyTypes) -> list[tuple[str, dict[str, Any]]]:
    """Every operation of an items file with its place (``file:line``), all checked before any is written.

    Raises an ItemsError naming the place and the field of each bad line, one per line.
    """
    operations = []
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            operations.append((f"{path}:{number}", parse_operation(line, keys)))
        except ItemsError as error:
            errors.append(f"{path}:{number}: {error}")
    if errors:
        raise ItemsError("\n".join(errors))
    return operations


def check(operation: dict[str, Any], keys: KeyTypes) -> None:
    """Raise an ItemsError, naming the field, for what DynamoDB would refuse or this run would ignore.

    Keys: every key attribute of the table, of its type, not empty; a ``key`` holds nothing else.
    Values: numbers within DynamoDB's range and precision (the handler's own rules,
    ``dynamo_json.number``), no float that JSON cannot write exactly, no empty attribute name.
    Fields: only those of the operation; an update neither changes a key attribute nor names
    a path twice.
    """
    kind = operation["op"]
    unknown = [name for name in operation if name != "op" and name not in FIELDS[kind]]
    if unknown:
        raise ItemsError(f'"{unknown[0]}": not a field of {kind} (its fields: {", ".join(FIELDS[kind])})')
    if kind in ("put", "poison"):
        _check_item("item", operation.get("item"), keys)
    elif kind in ("delete", "expire"):
        _check_key("key", operation.get("key"), keys)
    elif kind == "update":
        _check_update(operation, keys)
    else:
        _check_batch(operation, keys)


def _check_item(field: str, item: Any, keys: KeyTypes) -> None:
    if not isinstance(item, dict):
        raise ItemsError(f"{field}: an object with the item's attributes is needed")
    _check_key_values(field, item, keys)
    for name, value in item.items():
        _check_value(f"{field}.{name}", name, value)


def _check_key(field: str, key: Any, keys: KeyTypes) -> None:
    if not isinstance(key, dict):
        raise ItemsError(f"{field}: an object with the item's key is needed ({key_schema(keys)})")
    extra = [name for name in key if name not in keys]
    if extra:
        raise ItemsError(f"{field}.{extra[0]}: not a key attribute (the table's keys: {key_schema(keys)})")
    _check_key_values(field, key, keys)


def _check_key_values(field: str, item: dict[str, Any], keys: KeyTypes) -> None:
    for position, (name, kind) in enumerate(keys.items()):
        role = "partition key" if position == 0 else "sort key"
        if name not in item:
            raise ItemsError(f"{field}.{name}: missing, the table's {role} ({key_schema(keys)})")
        value = item[name]
        if kind == "S" and not isinstance(value, str):
            raise ItemsError(f"{field}.{name}: the {role} is a string, got {_text(value)}")
        if kind == "N" and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
            raise ItemsError(f"{field}.{name}: the {role} is a number, got {_text(value)}")
        if kind == "B":
            raise ItemsError(f"{field}.{name}: the {role} is binary, which an operation in JSON cannot give")
        if value == "":
            raise ItemsError(f"{field}.{name}: the {role} cannot be an empty string")
        limit = KEY_BYTES["HASH" if position == 0 else "RANGE"]
        if isinstance(value, str) and len(value.encode()) > limit:
            raise ItemsError(f"{field}.{name}: the {role} is longer than DynamoDB's {limit} bytes")


def _check_value(field: str, name: str, value: Any) -> None:
    if name == "":
        raise ItemsError(f"{field}: an attribute name cannot be empty")
    if isinstance(value, dict):
        for inner, item in value.items():
            _check_value(f"{field}.{inner}", inner, item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(f"{field}[{index}]", str(index), item)
    elif isinstance(value, float):  # NaN and Infinity: JSON has no such numbers, DynamoDB neither
        raise ItemsError(f"{field}: {value} is not a number DynamoDB can store")
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            dynamo_json.number(str(value))
        except dynamo_json.InvalidValue as error:
            raise ItemsError(f"{field}: {value} cannot be stored: {error.reason}") from None


def _check_update(operation: dict[str, Any], keys: KeyTypes) -> None:
    _check_key("key", operation.get("key"), keys)
    sets = operation.get("set", {})
    removes = operation.get("remove", [])
    if not isinstance(sets, dict):
        raise ItemsError("set: an object of attribute names or dotted paths and their values is needed")
    if not isinstance(removes, list) or not all(isinstance(path, str) for path in removes):
        raise ItemsError("remove: a list of attribute names or dotted paths is needed")
    if not sets and not removes:
        raise ItemsError('an update needs "set" (an object) or "remove" (a list)')
    seen: list[tuple[str, ...]] = []
    for field, paths in (("set", list(sets)), ("remove", removes)):
        for path in paths:
            parts = tuple(path.split("."))
            if "" in parts:
                raise ItemsError(f"{field}.{path}: an attribute name cannot be empty")
            if parts[0] in keys:
                raise ItemsError(f"{field}.{path}: {parts[0]} is a key attribute, which an update cannot change")
            overlap = next((other for other in seen if other[: len(parts)] == parts[: len(other)]), None)
            if overlap is not None:
                raise ItemsError(f"{field}.{path}: overlaps {'.'.join(overlap)}, which this update already changes")
            seen.append(parts)
    for path, value in sets.items():
        _check_value(f"set.{path}", path, value)


def _check_batch(operation: dict[str, Any], keys: KeyTypes) -> None:
    seen: dict[tuple[Any, ...], str] = {}
    for field in ("put", "delete"):
        entries = operation.get(field, [])
        if not isinstance(entries, list):
            raise ItemsError(f"{field}: a list of {'items' if field == 'put' else 'keys'} is needed")
        for index, entry in enumerate(entries):
            where = f"{field}[{index}]"
            if field == "put":
                _check_item(where, entry, keys)
            else:
                _check_key(where, entry, keys)
            key = tuple(str(entry[name]) for name in keys)
            if key in seen:  # BatchWriteItem refuses a request that names an item twice
                raise ItemsError(f"{where}: the same item as {seen[key]}; a batch writes each item once")
            seen[key] = where
    if not seen:
        raise ItemsError('a batch needs "put" or "delete" (lists)')


def key_schema(keys: KeyTypes) -> str:
    return ", ".join(f"{name} ({kind})" for name, kind in keys.items())


def parse_command(line: str, keys: KeyTypes) -> dict[str, Any] | None:
    """A line typed at the prompt, as an operation (checked like a line of a file); None for an empty line.

    ``put PK SK Name=value ...``, ``update PK SK Name=value -Removed ...``, ``delete PK SK``,
    or a JSON operation. A value is read as JSON when it is JSON (``39``, ``{"USD":0.8}``,
    ``"two words"``), else as a string; a string key is always a string (``put FRUIT 7``).
    """
    line = line.strip()
    if not line:
        return None
    if line.startswith("{"):
        return parse_operation(line, keys)
    if len(re.findall(r'(?<!\\)"', line)) % 2:
        raise ItemsError("a quote is not closed")
    # Words split at spaces outside "...", keeping the quotes that make a JSON string.
    words = _WORD.findall(line)
    verb, arguments = words[0].lower(), words[1:]
    if verb not in ("put", "update", "delete") or len(arguments) < len(keys):
        raise ItemsError(f"expected put|update|delete {' '.join(keys)} [Name=value ...]")
    key = {
        name: _text_value(text) if kind == "S" else _value(text)
        for (name, kind), text in zip(keys.items(), arguments, strict=False)
    }
    attributes: dict[str, Any] = {}
    removed: list[str] = []
    for word in arguments[len(keys) :]:
        if verb == "update" and word.startswith("-"):
            removed.append(word[1:])
            continue
        name, equals, text = word.partition("=")
        if not equals or not name:
            raise ItemsError(f"expected Name=value, got {word!r}")
        attributes[name] = _value(text)
    operation: dict[str, Any]
    if verb == "put":
        operation = {"op": "put", "item": {**key, **attributes}}
    elif verb == "delete":
        if attributes:
            raise ItemsError("a delete takes the key only")
        operation = {"op": "delete", "key": key}
    else:
        operation = {"op": "update", "key": key, "set": attributes, "remove": removed}
    check(operation, keys)
    return operation


def _value(text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        return text


def _text_value(text: str) -> str:
    """A string key as typed: ``KIWI#NZ``, ``7`` or ``"two words"``."""
    value = _value(text) if text.startswith('"') else text
    return value if isinstance(value, str) else text


def describe(operation: dict[str, Any], key_names: list[str]) -> str:
    """A short line for the progress output: ``update FRUIT/APPLE#WASHINGTON set Stocks=33``."""

    def key_text(item: dict[str, Any]) -> str:
        return "/".join(str(item.get(name)) for name in key_names)

    kind = operation["op"]
    if kind in ("put", "poison"):
        return f"{kind} {key_text(operation['item'])}"
    if kind in ("delete", "expire"):
        return f"{kind} {key_text(operation['key'])}"
    if kind == "update":
        changes = [f"{name}={_text(value)}" for name, value in operation.get("set", {}).items()]
        changes += [f"-{name}" for name in operation.get("remove", [])]
        return f"update {key_text(operation['key'])} " + " ".join(changes)
    puts = [key_text(item) for item in operation.get("put", [])]
    deletes = [key_text(key) for key in operation.get("delete", [])]
    return "batch: " + ", ".join([f"put {text}" for text in puts] + [f"delete {text}" for text in deletes])


def _text(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
