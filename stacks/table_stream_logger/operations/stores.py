"""The parked batches of a failure destination, one store per kind, each listing its batches and
marking one replayed:

- ``S3Store``: an S3 destination. Lambda writes one object per batch under ``aws/lambda/``,
  the invocation's records included (``payload``). Replayed objects move to ``replayed/``
  (copied, then deleted: the failure bucket is versioned, so nothing is destroyed). A batch is
  deleted only once its copy under ``replayed/`` is checked to be that batch (SHA-256 of the
  object): a marker that is not its copy is a conflict that leaves the batch parked
  (:class:`Marker`). Other prefixes of the bucket (the oversized-record copies under
  ``oversized/``) are never read.
- ``FolderStore``: a folder of the same layout, as ``python -m local`` writes it.
- ``SqsStore``: an SQS destination. A message holds the batch's metadata only; its records
  are read back from the stream (stream_records.py) while the stream still holds them.

This module needs boto3 only for what it is given: clients come from the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._core.record_formats import PARKED_PREFIX, REPLAYED_PREFIX
from .errors import RedriveError
from .failure_records import (
    INVOKING,
    REPLAY_STATE,
    REPLAYED,
    Batch,
    Marker,
    conflict,
    parse_failure_record,
    sha256_of,
    sort_key,
)


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
        if sha256_of(answer["Body"].read()) != batch.sha256:
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
        return Marker.COPY if sha256_of(path.read_bytes()) == batch.sha256 else Marker.CONFLICT

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
