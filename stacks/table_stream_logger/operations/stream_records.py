"""The records of a metadata-only batch (an SQS destination's), read back from the stream, and a
record of the Streams API as Lambda delivers it to a function (``python -m local`` does the same)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .errors import Expired
from .failure_records import Batch
from .times import parse_time

# How long a DynamoDB stream keeps a record.
STREAM_RETENTION = timedelta(hours=24)


def read_from_stream(streams: Any, batch: Batch, region: str, now: Callable[[], datetime]) -> str:
    """The batch's records, read back from its shard, as the payload Lambda would invoke with."""
    expired = Expired(
        f"the records of {batch.key} are no longer in the stream, which keeps them 24 hours (first record "
        f"{batch.first_arrival or 'of unknown age'}). Recover the items from the table's point-in-time recovery "
        "(a restore to a new table, as of before the change) and the change history in the function's log."
    )
    if batch.first_arrival and now() - parse_time(batch.first_arrival) > STREAM_RETENTION:
        raise expired
    first, last = int(batch.first_sequence_number), int(batch.last_sequence_number)
    try:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=batch.stream_arn,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.first_sequence_number,
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator and len(records) < batch.size:
            response = streams.get_records(ShardIterator=iterator, Limit=min(1000, max(1, batch.size)))
            page = [r for r in response["Records"] if first <= int(r["dynamodb"]["SequenceNumber"]) <= last]
            records += page
            if not response["Records"] or int(response["Records"][-1]["dynamodb"]["SequenceNumber"]) >= last:
                break
            iterator = response.get("NextShardIterator")
    except streams.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("TrimmedDataAccessException", "ResourceNotFoundException"):
            raise expired from None
        raise
    if not records or records[0]["dynamodb"]["SequenceNumber"] != batch.first_sequence_number:
        raise expired
    return json.dumps({"Records": [lambda_record(record, batch.stream_arn, region) for record in records]})


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it to the function.

    boto3 parses what DynamoDB Streams sends: ``ApproximateCreationDateTime`` becomes a
    datetime and binary values (``B``, ``BS``) become bytes. Lambda passes on the service's
    JSON, so they go back to epoch seconds (DynamoDB rounds down to the second) and base64
    text. Lambda adds ``eventSourceARN``, and records carry ``eventVersion`` 1.1. The
    ``userIdentity`` of a TTL deletion, ``{"PrincipalId", "Type"}`` in the Streams API, is
    ``{"type", "principalId"}`` in Lambda's event, which is what handlers test.
    """
    stream = {name: _wire(value) for name, value in raw.get("dynamodb", {}).items()}
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    record: dict[str, Any] = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
    identity = raw.get("userIdentity")
    if isinstance(identity, dict):
        record["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return record


def _wire(value: Any) -> Any:
    """boto3's parsed values back to the JSON the service sent."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {name: _wire(item) for name, item in value.items()}
    if isinstance(value, list | set):
        return [_wire(item) for item in value]
    return value
