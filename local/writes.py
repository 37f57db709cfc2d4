"""The writes of the operations, made with DynamoDB's low-level client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from local.items import ItemsError

BATCH_LIMIT = 25  # requests per BatchWriteItem

_serialize = TypeSerializer().serialize


def apply(dynamodb: Any, table_name: str, operation: dict[str, Any]) -> str | None:
    """Make the write with the low-level client, as the AWS CLI in the tutorials does.

    Returns a note when the write changed nothing: a delete of an item that does not exist
    succeeds, and the stream gets no record.
    """
    kind = operation["op"]
    if kind == "put":
        dynamodb.put_item(TableName=table_name, Item=attributes(operation["item"]))
    elif kind == "delete":
        deleted = dynamodb.delete_item(TableName=table_name, Key=attributes(operation["key"]), ReturnValues="ALL_OLD")
        if "Attributes" not in deleted:
            return "no such item: nothing deleted, no stream record"
    elif kind == "update":
        dynamodb.update_item(TableName=table_name, Key=attributes(operation["key"]), **_update(operation))
    elif kind == "batch":
        requests = [{"PutRequest": {"Item": attributes(item)}} for item in operation.get("put", [])]
        requests += [{"DeleteRequest": {"Key": attributes(key)}} for key in operation.get("delete", [])]
        for chunk in _chunks(requests, BATCH_LIMIT):
            pending: dict[str, Any] = {table_name: chunk}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    else:  # expire is DynamoDB's doing (local/expiry.py), poison the run's (local/poison.py)
        raise ItemsError(f"{kind} is not a write the table takes")
    return None


def attributes(item: dict[str, Any]) -> dict[str, Any]:
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
