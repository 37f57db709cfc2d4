"""Fakes for testing the local run's own logic, without moto.

A stream, a clock and a function for the poller; a DynamoDB client that records its calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from local.bookkeeping import Shard
from local.lambda_context import FunctionIdentity
from local.poller import Poller
from local.stack_model import MappingSettings

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Inventory/stream/2026-11-23T10:00:00.000"
T0 = 1_800_000_000.0  # the fake clock's start, seconds since the epoch


class FakeClock:
    """Time that passes only when the code under test sleeps, or a test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeShard:
    shard: Shard
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class FakeStream:
    """DynamoDB Streams in memory: records as boto3 returns them, iterators are positions."""

    def __init__(self, clock: FakeClock, shard_ids: tuple[str, ...] = ("shard-1",)) -> None:
        self.stream_arn = STREAM_ARN
        self.region = "us-east-1"
        self.clock = clock
        self.shard_list = {shard_id: FakeShard(Shard(shard_id)) for shard_id in shard_ids}
        self._sequence = 100

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        self.shard_list[shard_id] = FakeShard(Shard(shard_id, parent))

    def write(
        self, sk: str, event_name: str = "INSERT", *, shard_id: str = "shard-1", created: float | None = None
    ) -> str:
        """Append a record for item FRUIT/<sk>; return its sequence number."""
        self._sequence += 1
        sequence_number = str(self._sequence)
        keys = {"PK": {"S": "FRUIT"}, "SK": {"S": sk}}
        self.shard_list[shard_id].records.append(
            {
                "eventID": f"event-{sequence_number}",
                "eventName": event_name,
                "eventVersion": "1.0",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": datetime.fromtimestamp(
                        self.clock() if created is None else created, UTC
                    ),
                    "Keys": keys,
                    "NewImage": {**keys, "Stocks": {"N": "1"}},
                    "SequenceNumber": sequence_number,
                    "SizeBytes": 40,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
        return sequence_number

    # --- the StreamSource protocol ---
    def shards(self) -> list[Shard]:
        return [fake.shard for fake in self.shard_list.values()]

    def shard_iterator(self, shard_id: str, iterator_type: str) -> str:
        start = len(self.shard_list[shard_id].records) if iterator_type == "LATEST" else 0
        return f"{shard_id}|{start}"

    def get_records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        shard_id, start = iterator.split("|")
        fake = self.shard_list[shard_id]
        records = fake.records[int(start) : int(start) + limit]
        end = int(start) + len(records)
        if fake.closed and end == len(fake.records):
            return records, None
        return records, f"{shard_id}|{end}"


class FakeFunction:
    """A handler that records each batch and answers with ``respond(batch)``."""

    def __init__(self, respond: Callable[[list[dict[str, Any]]], Any] = lambda records: None) -> None:
        self.respond = respond
        self.batches: list[list[str]] = []  # the SK of each record, per invocation
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        self.batches.append([sk(record) for record in event["Records"]])
        return self.respond(event["Records"])


def sk(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["SK"]["S"])


def failing(*poison: str) -> Callable[[list[dict[str, Any]]], Any]:
    """A partial batch response that reports the records with these SKs."""

    def respond(records: list[dict[str, Any]]) -> Any:
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in records if sk(record) in poison
            ]
        }

    return respond


def raising(*poison: str) -> Callable[[list[dict[str, Any]]], Any]:
    """A handler that raises when the batch holds one of these SKs."""

    def respond(records: list[dict[str, Any]]) -> Any:
        if any(sk(record) in poison for record in records):
            raise RuntimeError("poison record")
        return {"batchItemFailures": []}

    return respond


def settings(**overrides: Any) -> MappingSettings:
    """The mapping's settings: Lambda's defaults, window 0, unless a test says otherwise."""
    values: dict[str, Any] = {"logical_id": "Mapping", "starting_position": "TRIM_HORIZON"}
    return MappingSettings(**{**values, **overrides})


@dataclass
class Setup:
    clock: FakeClock
    stream: FakeStream
    function: FakeFunction
    progress: list[str]

    def poller(self, mapping: MappingSettings, **options: Any) -> Poller:
        return Poller(
            self.stream,
            mapping,
            self.function,
            FunctionIdentity("inventory-logger", "us-east-1", memory_mb=256, timeout=30),
            clock=self.clock,
            sleep=self.clock.sleep,
            on_progress=self.progress.append,
            **options,
        )


@pytest.fixture
def setup() -> Setup:
    clock = FakeClock()
    return Setup(clock, FakeStream(clock), FakeFunction(), [])


class RecordingClient:
    """Stands in for the DynamoDB client: remembers each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**arguments: Any) -> dict[str, Any]:
            self.calls.append((name, arguments))
            return {}

        return call
