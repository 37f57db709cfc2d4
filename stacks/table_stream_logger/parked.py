"""Parked batches: the failure records Lambda writes to a stream mapping's on-failure destination.

Each store lists the batches parked in one place and marks a batch replayed:

- ``S3Store``: an S3 destination. Lambda writes one object per batch under ``aws/lambda/``,
  the invocation's records included (``payload``). Replayed objects move to ``replayed/``
  (copied, then deleted: the failure bucket is versioned, so nothing is destroyed). A batch is
  deleted only once its copy under ``replayed/`` is checked to be that batch (SHA-256 of the
  object): a marker that is not its copy is a conflict that leaves the batch parked
  (:class:`Marker`). Other prefixes of the bucket (the oversized-record copies under
  ``oversized/``) are never read.
- ``FolderStore``: a folder of the same layout, as ``python -m local`` writes it.
- ``SqsStore``: an SQS destination. A message holds the batch's metadata only; its records
  are read back from the stream (``read_from_stream``) while the stream still holds them.

This module needs boto3 only for what it is given: clients come from the caller.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PARKED_PREFIX = "aws/lambda/"
REPLAYED_PREFIX = "replayed/"
# How long a DynamoDB stream keeps a record.
STREAM_RETENTION = timedelta(hours=24)
# What DynamoDB's TTL process writes as the userIdentity of the REMOVE it makes, as Lambda's
# event names it (and the alerts' event filter matches it; the handlers' copy is in
# lambda/dynamo_json.py, which cannot import this package), and as the Streams API names it.
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
STREAMS_TTL_IDENTITY = {"Type": TTL_IDENTITY["type"], "PrincipalId": TTL_IDENTITY["principalId"]}


class RedriveError(Exception):
    """An expected problem, told in one line: bad input, a missing resource, access denied."""


class Expired(RedriveError):
    """The records of a metadata-only batch are no longer in the stream."""


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
    # What Lambda writes, checked before anything reads it: a number of records, a function's ARN,
    # strings where it writes strings. The values are not echoed (the file is not trusted).
    size = info["batchSize"]
    if type(size) is not int or size < 1:
        raise RedriveError(f"{not_one}: DDBStreamBatchInfo.batchSize is not a positive whole number")
    if not LAMBDA_FUNCTION_ARN.fullmatch(request["functionArn"]):
        raise RedriveError(f"{not_one}: requestContext.functionArn is not the ARN of a Lambda function")
    for name in ("shardId", "startSequenceNumber", "endSequenceNumber", "streamArn"):
        if not isinstance(info[name], str):
            raise RedriveError(f"{not_one}: DDBStreamBatchInfo.{name} is not a string")
    payload = document.get("payload")
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    if payload is not None:
        try:
            records = json.loads(payload)["Records"]
        except (ValueError, TypeError, KeyError):
            raise RedriveError(f"{not_one}: its payload holds no Records") from None
        if not isinstance(records, list):
            raise RedriveError(f"{not_one}: its payload holds no Records")
        _check_payload(not_one, records, info)
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
        size=size,
        stream_arn=info["streamArn"],
        first_arrival=str(info.get("approximateArrivalOfFirstRecord", "")),
        payload=payload,
        sha256=_sha256(body),
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


def _sha256(body: bytes | str) -> str:
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


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (UTC unless it says otherwise) or a date."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RedriveError(f"{text!r} is not a time: give e.g. 2026-12-01T14:00:00Z, 2026-12-01 or 6h") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sort_key(batch: Batch) -> tuple[datetime, str]:
    """Parked batches in the order Lambda parked them."""
    try:
        moment = parse_time(batch.parked_at)
    except RedriveError:
        moment = datetime.min.replace(tzinfo=UTC)
    return moment, batch.key


# --- stores ----------------------------------------------------------------------------
class S3Store:
    """The parked batches of an S3 failure destination."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.where = f"s3://{bucket}"

    def parked(self) -> list[Batch]:
        return sorted(self.each_parked(), key=sort_key)

    def each_parked(self) -> Iterator[Batch]:
        """The parked batches in the bucket's order, read one at a time (``list`` keeps none)."""
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=PARKED_PREFIX):
            for item in page.get("Contents", []):
                yield self._read(item["Key"])

    def get(self, key: str) -> Batch | None:
        """The parked batch of that key; None if it was replayed already."""
        _check_key(key)
        try:
            return self._read(key)
        except self.s3.exceptions.NoSuchKey:
            if self.replayed(key):
                return None
            raise RedriveError(f"no parked batch {key} in {self.where}") from None

    def replayed(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=REPLAYED_PREFIX + key)
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def marker(self, batch: Batch) -> Marker:
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=REPLAYED_PREFIX + batch.key)
        except self.s3.exceptions.NoSuchKey:
            return Marker.ABSENT
        if _sha256(answer["Body"].read()) != batch.sha256:
            return Marker.CONFLICT
        return Marker.STARTED if answer.get("Metadata", {}).get(REPLAY_STATE) == INVOKING else Marker.COPY

    def begin_replay(self, batch: Batch) -> None:
        """Before the invocation: the copy under replayed/, saying it began. Should the run stop
        before the outcome is recorded, the next run does not invoke the batch again."""
        self._copy(batch.key, batch, {REPLAY_STATE: INVOKING})
        if self.marker(batch) is not Marker.STARTED:  # the parked object changed since it was read
            raise conflict(self.where, batch)

    def abandon_replay(self, batch: Batch) -> None:
        """The invocation failed: the batch stays parked, to be replayed again."""
        self.s3.delete_object(Bucket=self.bucket, Key=REPLAYED_PREFIX + batch.key)

    def mark_replayed(self, batch: Batch) -> str:
        """Copy the batch to replayed/ (or say its copy's invocation succeeded), check the copy is
        the batch read, then delete the batch."""
        target = REPLAYED_PREFIX + batch.key
        state = self.marker(batch)
        if state is Marker.ABSENT:
            self._copy(batch.key, batch, {})
        elif state is Marker.STARTED:
            self._copy(target, batch, {REPLAY_STATE: REPLAYED})
        state = self.marker(batch)  # the copy, read back: the parked object may have changed meanwhile
        if state is not Marker.COPY:  # a marker not ours
            raise conflict(self.where, batch)
        self.s3.delete_object(Bucket=self.bucket, Key=batch.key)
        return f"{self.where}/{target}"

    def _copy(self, source: str, batch: Batch, metadata: dict[str, str]) -> None:
        self.s3.copy_object(
            Bucket=self.bucket,
            Key=REPLAYED_PREFIX + batch.key,
            CopySource={"Bucket": self.bucket, "Key": source},
            Metadata=metadata,
            MetadataDirective="REPLACE",
        )

    def release(self) -> None:
        """Nothing to give back: listing an S3 bucket holds nothing."""

    def _read(self, key: str) -> Batch:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return parse_failure_record(key, body)


class FolderStore:
    """Parked batches in a folder, in the layout of an S3 destination (``python -m local``)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise RedriveError(f"{root} is not a folder")
        self.root = root
        self.where = str(root)

    def parked(self) -> list[Batch]:
        return sorted(self.each_parked(), key=sort_key)

    def each_parked(self) -> Iterator[Batch]:
        paths = sorted((self.root / PARKED_PREFIX).rglob("*")) if (self.root / PARKED_PREFIX).is_dir() else []
        return (self._read(path) for path in paths if path.is_file())

    def get(self, key: str) -> Batch | None:
        _check_key(key)
        path = self.root / key
        if path.is_file():
            return self._read(path)
        if self.replayed(key):
            return None
        raise RedriveError(f"no parked batch {key} in {self.where}")

    def replayed(self, key: str) -> bool:
        return (self.root / REPLAYED_PREFIX / key).is_file()

    def marker(self, batch: Batch) -> Marker:
        path = self.root / REPLAYED_PREFIX / batch.key
        if not path.is_file():
            return Marker.ABSENT
        return Marker.COPY if _sha256(path.read_bytes()) == batch.sha256 else Marker.CONFLICT

    def begin_replay(self, batch: Batch) -> None:
        """Nothing to record: the move to replayed/ after the invocation is one rename."""

    def abandon_replay(self, batch: Batch) -> None:
        """Nothing was recorded."""

    def mark_replayed(self, batch: Batch) -> str:
        target = self.root / REPLAYED_PREFIX / batch.key
        state = self.marker(batch)
        if state is Marker.CONFLICT:
            raise conflict(self.where, batch)
        if state is Marker.COPY:
            (self.root / batch.key).unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.root / batch.key, target)
        return str(target)

    def release(self) -> None:
        """Nothing to give back."""

    def _read(self, path: Path) -> Batch:
        return parse_failure_record(path.relative_to(self.root).as_posix(), path.read_bytes())


class SqsStore:
    """The parked batches of an SQS failure destination: one message each, metadata only.

    Reading a message hides it from other readers for ``VISIBILITY`` seconds. The messages
    read are given back (made visible again) by ``release``, except those deleted after a
    successful replay.
    """

    VISIBILITY = 900
    WAIT_SECONDS = 1

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.where = queue_url
        self._receipts: dict[str, str] = {}
        self._batches: list[Batch] | None = None

    def parked(self) -> list[Batch]:
        if self._batches is None:
            batches = []
            while True:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=self.VISIBILITY,
                    WaitTimeSeconds=self.WAIT_SECONDS,
                ).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    self._receipts[message["MessageId"]] = message["ReceiptHandle"]
                    batches.append(parse_failure_record(message["MessageId"], message["Body"]))
            self._batches = sorted(batches, key=sort_key)
        return list(self._batches)

    def each_parked(self) -> Iterator[Batch]:
        """Metadata only (no records), so nothing to stream: the batches as ``parked`` reads them."""
        return iter(self.parked())

    def get(self, key: str) -> Batch | None:
        for batch in self.parked():
            if batch.key == key:
                return batch
        raise RedriveError(f"no parked batch {key} in {self.where} (an SQS message ID; see the list command)")

    def replayed(self, key: str) -> bool:
        return False

    def marker(self, batch: Batch) -> Marker:
        """A message is deleted once replayed: there is no marker."""
        return Marker.ABSENT

    def begin_replay(self, batch: Batch) -> None:
        """A queue has no place for a record: a message whose deletion fails is received again."""

    def abandon_replay(self, batch: Batch) -> None:
        """Nothing was recorded."""

    def mark_replayed(self, batch: Batch) -> str:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=self._receipts.pop(batch.key))
        return "deleted from the queue"

    def release(self) -> None:
        for receipt in self._receipts.values():
            self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        self._receipts.clear()


def _check_key(key: str) -> None:
    if not key.startswith(PARKED_PREFIX) or ".." in key.split("/"):
        raise RedriveError(f"{key} is not the key of a parked batch: those start with {PARKED_PREFIX}")


# --- records of a metadata-only batch, back from the stream ------------------------------
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
