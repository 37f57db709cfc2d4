"""Reading the failure records that Lambda parks in a stream mapping's on-failure destination.

A failure record (Lambda's "invocation record") describes one batch the event source mapping gave
up on: its shard, sequence range and function, and in an S3 destination the invocation's records
too (``payload``). ``_core/failure_destinations.py`` builds the destinations these are read from
(the bucket or queue, and what Lambda may write there); this module parses one record into a
:class:`Batch`, checking it is what Lambda writes before anything reads it. The stores of each
destination are in stores.py, the records of a metadata-only (SQS) batch in stream_records.py.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._core.record_formats import PARKED_PREFIX, REPLAYED_PREFIX
from .errors import RedriveError
from .times import parse_time


class Marker(enum.Enum):
    """What ``replayed/<key>`` holds for a parked batch."""

    ABSENT = "absent"  # not replayed yet
    STARTED = "started"  # a copy saying an invocation began: how it ended was never recorded
    COPY = "copy"  # replayed: a copy of the batch, byte for byte
    CONFLICT = "conflict"  # something else: not written by the redrive for this batch


@dataclass(frozen=True)
class Batch:
    """One parked batch: the failure record's metadata, and its records when the record holds them."""

    key: str
    parked_at: str
    condition: str
    function_arn: str
    invoke_count: int | None
    function_error: str | None
    shard_id: str
    first_sequence_number: str
    last_sequence_number: str
    size: int
    stream_arn: str
    first_arrival: str
    # The exact invocation payload (S3 destination), None for a metadata-only record (SQS).
    payload: str | None
    # SHA-256 of the failure record as it was read: its replayed/ copy must have the same.
    sha256: str = ""

    @property
    def records(self) -> list[dict[str, Any]] | None:
        if self.payload is None:
            return None
        records = json.loads(self.payload).get("Records")
        return records if isinstance(records, list) else []

    @property
    def function_name(self) -> str:
        return function_name_of(self.function_arn)

    def summary(self) -> dict[str, Any]:
        """What ``list`` shows of a batch: metadata and event names, never a key or a value."""
        records = self.records
        events = None if records is None else dict(Counter(str(record.get("eventName")) for record in records))
        return {
            "key": self.key,
            "parked_at": self.parked_at,
            "condition": self.condition,
            "invoke_count": self.invoke_count,
            "function_error": self.function_error,
            "shard_id": self.shard_id,
            "first_sequence_number": self.first_sequence_number,
            "last_sequence_number": self.last_sequence_number,
            "records": self.size,
            "event_names": events,
            "function_arn": self.function_arn,
            "stream_arn": self.stream_arn,
        }


# arn:<partition>:lambda:<region>:<account>:function:<name>[:<version or alias>]
LAMBDA_FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9$_-]+)?"
)


def function_name_of(name_or_arn: str) -> str:
    """``arn:aws:lambda:region:account:function:NAME[:qualifier]`` -> NAME; a name stays a name."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn


def _check_batch_info(not_one: str, request: dict[str, Any], info: dict[str, Any]) -> None:
    """What Lambda writes, checked before anything reads it: a number of records, a function's ARN,
    strings where it writes strings. The values are not echoed (the file is not trusted)."""
    size = info["batchSize"]
    if type(size) is not int or size < 1:
        raise RedriveError(f"{not_one}: DDBStreamBatchInfo.batchSize is not a positive whole number")
    if not LAMBDA_FUNCTION_ARN.fullmatch(request["functionArn"]):
        raise RedriveError(f"{not_one}: requestContext.functionArn is not the ARN of a Lambda function")
    for name in ("shardId", "startSequenceNumber", "endSequenceNumber", "streamArn"):
        if not isinstance(info[name], str):
            raise RedriveError(f"{not_one}: DDBStreamBatchInfo.{name} is not a string")


def _payload(not_one: str, document: dict[str, Any], info: dict[str, Any]) -> str | None:
    """The record's payload as text, when it carries one (an S3 destination's does), checked to
    hold the batch's records."""
    payload = document.get("payload")
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    if payload is None:
        return None
    try:
        records = json.loads(payload)["Records"]
    except (ValueError, TypeError, KeyError):
        raise RedriveError(f"{not_one}: its payload holds no Records") from None
    if not isinstance(records, list):
        raise RedriveError(f"{not_one}: its payload holds no Records")
    _check_payload(not_one, records, info)
    return str(payload)


def parse_failure_record(key: str, body: bytes | str) -> Batch:
    """Read a failure record as Lambda writes it for a DynamoDB stream, or say why it is not one."""
    not_one = f"{key} is not a failure record of a DynamoDB stream mapping"
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RedriveError(f"{not_one}: it is not JSON") from None
    if not isinstance(document, dict):
        raise RedriveError(f"{not_one}: it is not a JSON object")
    request, response, info = (
        document.get(name) for name in ("requestContext", "responseContext", "DDBStreamBatchInfo")
    )
    if not isinstance(request, dict) or not isinstance(info, dict):
        raise RedriveError(f"{not_one}: it has no requestContext or DDBStreamBatchInfo")
    required = ("shardId", "startSequenceNumber", "endSequenceNumber", "batchSize", "streamArn")
    missing = [name for name in required if name not in info]
    if missing or not isinstance(request.get("functionArn"), str):
        raise RedriveError(f"{not_one}: it lacks {', '.join(missing) or 'requestContext.functionArn'}")
    _check_batch_info(not_one, request, info)
    payload = _payload(not_one, document, info)
    if key.startswith(PARKED_PREFIX) and key.split("/")[3:4] != [info["shardId"]]:
        raise RedriveError(f"{not_one}: its key does not name its shard (aws/lambda/<mapping>/<shard>/...)")
    response = response if isinstance(response, dict) else {}
    count = request.get("approximateInvokeCount")
    return Batch(
        key=key,
        parked_at=str(document.get("timestamp", "")),
        condition=str(request.get("condition", "")),
        function_arn=request["functionArn"],
        invoke_count=count if isinstance(count, int) else None,
        function_error=response.get("functionError"),
        shard_id=info["shardId"],
        first_sequence_number=info["startSequenceNumber"],
        last_sequence_number=info["endSequenceNumber"],
        size=info["batchSize"],
        stream_arn=info["streamArn"],
        first_arrival=str(info.get("approximateArrivalOfFirstRecord", "")),
        payload=payload,
        sha256=sha256_of(body),
    )


def _check_payload(not_one: str, records: list[Any], info: dict[str, Any]) -> None:
    """The payload is (part of) the batch the record describes: at most ``batchSize`` records of its
    stream, each numbered from its first sequence number to its last."""
    if not 1 <= len(records) <= info["batchSize"]:
        raise RedriveError(f"{not_one}: its payload holds no records or more than DDBStreamBatchInfo.batchSize")
    if not all(isinstance(record, dict) and record.get("eventSourceARN") == info["streamArn"] for record in records):
        raise RedriveError(f"{not_one}: its payload holds a record of another stream than DDBStreamBatchInfo.streamArn")
    first, last = (_sequence(info[name]) for name in ("startSequenceNumber", "endSequenceNumber"))
    for record in records:
        stream = record.get("dynamodb")
        number = _sequence(stream.get("SequenceNumber")) if isinstance(stream, dict) else None
        if first is None or last is None or number is None or not first <= number <= last:
            raise RedriveError(f"{not_one}: its payload holds a record outside DDBStreamBatchInfo's sequence numbers")


def _sequence(text: Any) -> int | None:
    """A sequence number (digits, as DynamoDB Streams writes them) as an integer, else None."""
    return int(text) if isinstance(text, str) and text.isdigit() and text.isascii() else None


def sha256_of(body: bytes | str) -> str:
    return hashlib.sha256(body.encode() if isinstance(body, str) else body).hexdigest()


# The replayed/ copy's user metadata (x-amz-meta-replay-state) while the batch's invocation runs,
# and once it succeeded; a copy without it was written by an earlier version: replayed.
REPLAY_STATE = "replay-state"
INVOKING = "invoking"
REPLAYED = "replayed"


def started(where: str, batch: Batch) -> str:
    return (
        f"{batch.key}: left parked: an earlier replay invoked the function and stopped before recording "
        f"how the invocation ended ({where}/{REPLAYED_PREFIX}{batch.key} says {INVOKING}); its records "
        f"({batch.first_sequence_number} to {batch.last_sequence_number}) may be logged already, so it is not "
        "invoked again: check the function's log, then delete that object to replay the batch"
    )


def conflict(where: str, batch: Batch) -> RedriveError:
    return RedriveError(
        f"{batch.key}: left parked: {where}/{REPLAYED_PREFIX}{batch.key} exists and is not a copy of this batch "
        "(only the redrive writes there: inspect it, and delete it to replay the batch)"
    )


def sort_key(batch: Batch) -> tuple[datetime, str]:
    """Parked batches in the order Lambda parked them."""
    try:
        moment = parse_time(batch.parked_at)
    except RedriveError:
        moment = datetime.min.replace(tzinfo=UTC)
    return moment, batch.key
