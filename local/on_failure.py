"""What Lambda writes to an Amazon S3 on-failure destination for a stream batch the poller parks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from local.bookkeeping import Entry, Outcome


def _iso(seconds: float, *, milliseconds: bool) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    text = moment.isoformat(timespec="milliseconds" if milliseconds else "seconds")
    return text.replace("+00:00", "Z")


def failure_document(
    entries: list[Entry],
    *,
    condition: str,
    outcome: Outcome | None,
    function_arn: str,
    stream_arn: str,
    now: float,
) -> dict[str, Any]:
    """What Lambda writes to an Amazon S3 on-failure destination for a DynamoDB stream batch.

    The shape of Lambda's invocation record for streams (``requestContext``,
    ``responseContext``, ``version``, ``timestamp``, ``DDBStreamBatchInfo``), plus ``payload``,
    the whole invocation event as JSON text, which only the S3 destination carries.
    ``responseContext`` is empty for records that were never invoked (too old at once).
    """
    first, last = entries[0].record["dynamodb"], entries[-1].record["dynamodb"]
    response: dict[str, Any] = {}
    if outcome is not None:
        response = {"statusCode": 200, "executedVersion": "$LATEST"}
        if outcome.function_error:
            response["functionError"] = outcome.function_error
    return {
        "requestContext": {
            "requestId": outcome.request_id if outcome else str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": max(entry.invocations for entry in entries),
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(now, milliseconds=True),
        "DDBStreamBatchInfo": {
            "shardId": entries[0].shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime", now), milliseconds=False),
            "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime", now), milliseconds=False),
            "batchSize": len(entries),
            "streamArn": stream_arn,
        },
        "payload": json.dumps({"Records": [entry.record for entry in entries]}),
    }


def records_in(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The records a failure document carries in its ``payload``."""
    yield from json.loads(document["payload"])["Records"]
