"""What the event source mapping emulation (local/poller.py) keeps track of.

The stream's shards and the calls that read them, the records read and not finished yet,
the batches they are invoked in, what each invocation did to its batch (including reading a
partial batch response), and where every record read went.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parent_shard_id: str | None = None


class StreamSource(Protocol):
    """The DynamoDB Streams calls the poller makes; the real one wraps a boto3 client."""

    stream_arn: str
    region: str

    def shards(self) -> list[Shard]:
        """DescribeStream: the stream's shards, all pages."""
        ...

    def shard_iterator(self, shard_id: str, iterator_type: str) -> str:
        """GetShardIterator of type TRIM_HORIZON or LATEST."""
        ...

    def get_records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """GetRecords: the records (as boto3 returns them) and the next iterator (None: shard closed)."""
        ...


@dataclass
class Entry:
    """A record read from a shard and not finished yet."""

    record: dict[str, Any]
    shard_id: str
    invocations: int = 0

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])

    @property
    def created(self) -> float | None:
        value = self.record["dynamodb"].get("ApproximateCreationDateTime")
        return float(value) if isinstance(value, int | float) else None


@dataclass
class Batch:
    """Records to invoke together, with the retries they have used."""

    entries: list[Entry]
    retries: int = 0
    # The last invocation of these records, for the failure document if they are given up on.
    outcome: Outcome | None = None
    # A retry that re-reads from the checkpoint takes the records that follow, up to BatchSize.
    top_up: bool = False


@dataclass
class Stats:
    """Where every record read from the stream went. ``lost`` must stay 0."""

    seen: int = 0
    filtered: int = 0
    delivered: int = 0
    parked: int = 0
    invocations: int = 0
    failed_invocations: int = 0
    retries: int = 0
    bisections: int = 0
    parked_files: list[Path] = field(default_factory=list)


@dataclass
class Outcome:
    """What one invocation did to its batch."""

    succeeded: bool
    # Index of the lowest failed record after a valid partial batch response.
    failed_from: int | None = None
    function_error: str | None = None
    request_id: str = ""


@dataclass
class ShardReader:
    shard: Shard
    iterator: str | None
    buffer: deque[Entry] = field(default_factory=deque)
    retry: deque[Batch] = field(default_factory=deque)
    closed: bool = False

    @property
    def finished(self) -> bool:
        return self.closed and not self.buffer and not self.retry


def lowest_failure(response: Any, sequence_numbers: list[str]) -> int | None:
    """Read a partial batch response: None if all succeeded, -1 if the whole batch failed,
    else the index of the record with the lowest failed sequence number."""
    if response is None:
        return None
    if not isinstance(response, dict):
        return -1
    failures = response.get("batchItemFailures")
    if not failures:  # missing, null or empty: complete success
        return None
    if not isinstance(failures, list):
        return -1
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in sequence_numbers:
            return -1
        indexes.append(sequence_numbers.index(identifier))
    return min(indexes, key=lambda index: int(sequence_numbers[index]))
