"""Lambda's event source mapping for a DynamoDB stream, emulated in this process.

The poller reads each shard with shard iterators (DescribeStream, GetShardIterator at the
mapping's ``StartingPosition``, GetRecords), turns every record into the shape Lambda
delivers, and invokes the handler in-process with a batch, as Lambda does:

- ``FilterCriteria``: records that match no pattern are dropped before batching; Lambda
  counts them as processed.
- ``BatchSize`` and ``MaximumBatchingWindowInSeconds``: a batch is invoked when it is full,
  or when the window, which starts when the previous invocation ends, has passed.
- ``FunctionResponseTypes: [ReportBatchItemFailures]``: the response's ``batchItemFailures``
  set the checkpoint at the lowest failed sequence number; the records before it are done.
  An empty, null or unknown ``itemIdentifier``, or a response that is not an object, fails
  the whole batch. Without the setting, only an exception fails a batch.
- ``BisectBatchOnFunctionError``: a failed batch is split in two halves, each retried on its
  own; after a partial failure, the batch is split at the returned sequence number and only
  the remaining records are retried. Splitting does not consume the retry quota (Lambda's
  docs: "Splitting batches doesn't consume the retry quota").
- ``MaximumRetryAttempts`` (-1: infinite) and ``MaximumRecordAgeInSeconds`` (-1: infinite):
  records that exhaust the retries, or are older than the maximum age before an invocation,
  are given up on and written to the on-failure folder, one JSON document per batch, in the
  shape of Lambda's Amazon S3 on-failure record (``DDBStreamBatchInfo`` plus the whole
  invocation as ``payload``).

Choices where Lambda's docs are silent, each the one that never loses a record:

- A partial failure at the first record of a batch makes no progress, so it counts as a
  failure of the whole batch: with bisecting on, the batch is halved.
- A retry without bisecting re-reads from the checkpoint: the remaining records, topped up
  with the ones that follow, up to ``BatchSize``. Each retry consumes one attempt.
- A handler that runs longer than the function's timeout fails its batch. The function's
  runtime (local/function.py) stops it at the deadline, as Lambda does; a handler called in
  this process cannot be stopped, only judged afterwards.
- Not emulated: ``ParallelizationFactor`` (shards are read one batch at a time, in order),
  tumbling windows and the 6 MB payload limit.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.bookkeeping import Batch, Entry, Outcome, ShardReader, Stats, StreamSource, lowest_failure
from local.lambda_context import FunctionIdentity, LambdaContext
from local.on_failure import failure_document
from local.stack_model import INFINITE, MappingSettings
from stacks.table_stream_logger.operations.lambda_runtime import FunctionError

# The record Lambda delivers: a replay from the stream (the redrive command) delivers the same.
from stacks.table_stream_logger.operations.stream_records import lambda_record as lambda_record

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Handler = Callable[[dict[str, Any], Any], Any]

# Lambda polls each shard four times a second when it has no records.
POLL_INTERVAL = 0.25
# How often the shard list is refreshed: DynamoDB rolls shards over every few hours.
SHARD_REFRESH = 60.0


class StopRun(Exception):
    """Raised through the handler when the run cannot go on, e.g. its output was closed.

    It is not the function's error: the batch is neither retried nor parked, it stays pending.
    """


class Poller:
    """One event source mapping: a stream, its settings and the function it invokes.

    :param source: Where the records come from.
    :param settings: The mapping's settings, as read from the template.
    :param handler: The function's handler, called in-process.
    :param function: The function's name, memory and timeout, for the context object.
    :param failure_folder: Where records given up on are written. Default: none, they are
        counted but not written.
    :param filter_record: A record predicate from ``FilterCriteria``. Default: all pass.
    :param clock: Seconds since the epoch. Default: ``time.time``; tests pass a fake one.
    :param sleep: Waits that long. Default: ``time.sleep``; tests pass a fake one.
    :param on_progress: Called with a line about each invocation, retry and parked batch.
    :param on_delivered: Called with the sequence numbers of the records each time some are done.
    """

    def __init__(
        self,
        source: StreamSource,
        settings: MappingSettings,
        handler: Handler,
        function: FunctionIdentity,
        *,
        failure_folder: Path | None = None,
        filter_record: Callable[[dict[str, Any]], bool] | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        on_progress: Callable[[str], None] = lambda line: None,
        on_delivered: Callable[[list[str]], None] = lambda sequence_numbers: None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.handler = handler
        self.function = function
        self.failure_folder = failure_folder
        self.filter_record = filter_record
        self.clock = clock
        self.sleep = sleep
        self.on_progress = on_progress
        self.on_delivered = on_delivered
        self.stats = Stats()
        self.readers: dict[str, ShardReader] = {}
        self._window_start = 0.0
        self._shards_checked = -SHARD_REFRESH

    # --- the loop ---------------------------------------------------------------------
    def start(self) -> None:
        """Take iterators at the starting position, as creating the mapping does.

        With ``LATEST``, only records written after this call are read.
        """
        self._refresh_shards(self.settings.starting_position)
        self._window_start = self.clock()

    def poll(self) -> tuple[int, float | None]:
        """Read every shard and invoke each batch that is ready.

        Returns the number of records read, and when the next batch becomes ready if one is
        waiting for its batching window (None if none is).
        """
        if not self.readers:
            self.start()
        if self.clock() - self._shards_checked >= SHARD_REFRESH:
            self._refresh_shards("TRIM_HORIZON")  # a new child shard is read from its start
        read = 0
        waiting: float | None = None
        for reader in list(self.readers.values()):
            if not self._parent_done(reader):
                continue
            shard_read, ready_at = self._process(reader)
            read += shard_read
            if ready_at is not None:
                waiting = ready_at if waiting is None else min(waiting, ready_at)
        return read, waiting

    def drain(self) -> None:
        """Poll until every record written so far is finished: delivered, filtered or parked.

        Waits out the batching window of a batch that is not full, as Lambda would.
        """
        while True:
            read, waiting = self.poll()
            if waiting is not None:
                self.sleep(max(0.0, waiting - self.clock()))
            elif read == 0 and self.pending() == 0:
                return

    def pending(self) -> int:
        """Records read and not finished yet: buffered, or waiting for a retry."""
        return sum(
            len(reader.buffer) + sum(len(batch.entries) for batch in reader.retry) for reader in self.readers.values()
        )

    def lost(self) -> int:
        """Records read that are neither filtered, delivered, parked nor pending: must be 0."""
        stats = self.stats
        return stats.seen - stats.filtered - stats.delivered - stats.parked - self.pending()

    def run(self, stop: Callable[[], bool]) -> None:
        """Poll until ``stop()`` says so, resting between polls that found nothing."""
        while not stop():
            read, waiting = self.poll()
            if read == 0:
                pause = POLL_INTERVAL if waiting is None else min(POLL_INTERVAL, max(0.0, waiting - self.clock()))
                self.sleep(pause)

    # --- shards -----------------------------------------------------------------------------
    def _refresh_shards(self, iterator_type: str) -> None:
        self._shards_checked = self.clock()
        for shard in self.source.shards():
            if shard.shard_id not in self.readers:
                iterator = self.source.shard_iterator(shard.shard_id, iterator_type)
                self.readers[shard.shard_id] = ShardReader(shard, iterator)

    def _parent_done(self, reader: ShardReader) -> bool:
        """A child shard is read only after its parent, to keep each item's changes in order."""
        parent = self.readers.get(reader.shard.parent_shard_id or "")
        return parent is None or parent.finished

    def _fetch(self, reader: ShardReader) -> int:
        """Read the shard until a batch is full or the shard has no more records for now."""
        read = 0
        while reader.iterator is not None and len(reader.buffer) < self.settings.batch_size:
            limit = min(1000, self.settings.batch_size - len(reader.buffer))  # GetRecords takes 1000 at most
            raw_records, reader.iterator = self.source.get_records(reader.iterator, limit)
            if reader.iterator is None:
                reader.closed = True
            for raw in raw_records:
                record = lambda_record(raw, self.source.stream_arn, self.source.region)
                self.stats.seen += 1
                if self.filter_record is not None and not self.filter_record(record):
                    self.stats.filtered += 1
                    continue
                reader.buffer.append(Entry(record, reader.shard.shard_id))
            read += len(raw_records)
            if not raw_records:
                break
        return read

    # --- batches ----------------------------------------------------------------------------
    def _process(self, reader: ShardReader) -> tuple[int, float | None]:
        """Invoke the shard's batches while one is ready.

        Returns the records read, and when the next batch will be ready (None: none waits).
        """
        read = 0
        while True:
            if reader.retry:  # failed records come before anything read after them
                batch = reader.retry.popleft()
                if batch.top_up:
                    read += self._fetch(reader)
                    batch.entries += self._take(reader, self.settings.batch_size - len(batch.entries))
                self._run(reader, batch)
                continue
            read += self._fetch(reader)
            if not reader.buffer:
                return read, None
            ready_at = self._window_start + self.settings.maximum_batching_window
            if len(reader.buffer) < self.settings.batch_size and self.clock() < ready_at:
                return read, ready_at
            self._run(reader, Batch(self._take(reader, self.settings.batch_size)))

    @staticmethod
    def _take(reader: ShardReader, count: int) -> list[Entry]:
        return [reader.buffer.popleft() for _ in range(min(count, len(reader.buffer)))]

    def _run(self, reader: ShardReader, batch: Batch) -> None:
        entries = self._drop_expired(batch)
        if not entries:
            return
        try:
            outcome = self._invoke(entries)
        except BaseException:  # Ctrl-C or StopRun during an invocation: the batch is still to do, not lost
            reader.retry.appendleft(Batch(entries, batch.retries, batch.outcome))
            raise
        self._window_start = self.clock()
        if outcome.succeeded:
            self._deliver(entries)
            return
        self.stats.failed_invocations += 1
        bisect = self.settings.bisect_batch_on_function_error
        if outcome.failed_from:  # a partial failure after at least one record: checkpoint there
            self._deliver(entries[: outcome.failed_from])
            rest = entries[outcome.failed_from :]
            if bisect:
                self.on_progress(f"split at {rest[0].sequence_number}: retrying the {len(rest)} remaining record(s)")
                reader.retry.appendleft(Batch(rest, batch.retries, outcome))
                self.stats.bisections += 1
            else:
                self._retry_or_park(reader, Batch(rest, batch.retries, outcome, top_up=True))
        elif bisect and len(entries) > 1:
            half = (len(entries) + 1) // 2
            self.on_progress(f"bisecting the batch of {len(entries)} into {half} + {len(entries) - half}")
            halves = [Batch(entries[half:], batch.retries, outcome), Batch(entries[:half], batch.retries, outcome)]
            reader.retry.extendleft(halves)  # the first half goes first
            self.stats.bisections += 1
        else:
            self._retry_or_park(reader, Batch(entries, batch.retries, outcome))

    def _retry_or_park(self, reader: ShardReader, batch: Batch) -> None:
        batch.retries += 1
        limit = self.settings.maximum_retry_attempts
        if limit != INFINITE and batch.retries > limit:
            self._park(batch.entries, "RetryAttemptsExhausted", batch.outcome)
        else:
            self.stats.retries += 1
            self.on_progress(
                f"retry {batch.retries} of {'∞' if limit == INFINITE else limit}: {len(batch.entries)} record(s)"
            )
            reader.retry.appendleft(batch)

    def _drop_expired(self, batch: Batch) -> list[Entry]:
        """Park the records older than ``MaximumRecordAgeInSeconds``; return the others.

        Records are in stream order, so the expired ones are a prefix of the batch.
        """
        entries = batch.entries
        if self.settings.maximum_record_age == INFINITE:
            return entries
        now = self.clock()
        expired = 0
        for entry in entries:
            created = entry.created
            if created is None or now - created <= self.settings.maximum_record_age:
                break
            expired += 1
        if expired:
            self._park(entries[:expired], "RecordAgeExceeded", batch.outcome)
        return entries[expired:]

    def _deliver(self, entries: list[Entry]) -> None:
        self.stats.delivered += len(entries)
        self.on_delivered([entry.sequence_number for entry in entries])

    # --- one invocation -------------------------------------------------------------------
    def _invoke(self, entries: list[Entry]) -> Outcome:
        request_id = str(uuid.uuid4())
        started = self.clock()
        context = LambdaContext(
            function_name=self.function.name,
            invoked_function_arn=self.function.arn,
            memory_limit_in_mb=str(self.function.memory_mb),
            aws_request_id=request_id,
            deadline=started + self.function.timeout,
            clock=self.clock,
            log_group_name=f"/aws/lambda/{self.function.name}",
        )
        for entry in entries:
            entry.invocations += 1
        self.stats.invocations += 1
        self.on_progress(
            f"invocation {self.stats.invocations}: {len(entries)} record(s), "
            f"{entries[0].sequence_number}..{entries[-1].sequence_number}"
        )
        try:
            response = self.handler({"Records": [entry.record for entry in entries]}, context)
        except StopRun:
            raise
        except FunctionError as error:  # the runtime's report: an uncaught exception, a timeout, an init error
            self.on_progress(f"function error: {error}")
            return Outcome(False, function_error="Unhandled", request_id=request_id)
        except Exception as error:  # a handler called in this process raised
            self.on_progress(f"function error: {type(error).__name__}: {error}")
            return Outcome(False, function_error="Unhandled", request_id=request_id)
        if not getattr(self.handler, "enforces_timeout", False) and self.clock() - started > self.function.timeout:
            self.on_progress(f"function error: timed out after {self.function.timeout:g} s")
            return Outcome(False, function_error="Unhandled", request_id=request_id)
        if not self.settings.report_batch_item_failures:
            return Outcome(True, request_id=request_id)
        failed_from = lowest_failure(response, [entry.sequence_number for entry in entries])
        if failed_from is None:
            return Outcome(True, request_id=request_id)
        if failed_from < 0:
            self.on_progress("batchItemFailures fails the whole batch")
            return Outcome(False, request_id=request_id)
        self.on_progress(f"batchItemFailures: checkpoint at {entries[failed_from].sequence_number}")
        return Outcome(False, failed_from=failed_from, request_id=request_id)

    # --- the on-failure destination -----------------------------------------------------
    def _park(self, entries: list[Entry], condition: str, outcome: Outcome | None) -> None:
        self.stats.parked += len(entries)
        document = failure_document(
            entries,
            condition=condition,
            outcome=outcome,
            function_arn=self.function.arn,
            stream_arn=self.source.stream_arn,
            now=self.clock(),
        )
        where = ""
        if self.failure_folder is not None:
            path = self._failure_path(entries[0].shard_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, indent=2) + "\n")
            self.stats.parked_files.append(path)
            where = f" -> {path}"
        self.on_progress(f"parked {len(entries)} record(s): {condition}{where}")

    def _failure_path(self, shard_id: str) -> Path:
        """Lambda's S3 object key, ``aws/lambda/<mapping>/<shard>/YYYY/MM/DD/<time>-<uuid>``, plus .json."""
        assert self.failure_folder is not None
        now = datetime.fromtimestamp(self.clock(), UTC)
        name = f"{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}.json"
        return self.failure_folder / "aws" / "lambda" / self.settings.logical_id / shard_id / f"{now:%Y/%m/%d}" / name
