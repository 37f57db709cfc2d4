"""``replay``: each chosen batch back to the function that parked it, one at a time, exactly as the
mapping invoked it; a batch that succeeds is moved under ``replayed/`` (or its message deleted), one
that still fails stays parked and the command says which record fails and why. A dry run unless
``--yes``."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from .aws import refused_request
from .errors import Expired, RedriveError
from .failure_records import Batch, Marker, conflict, started
from .functions import LOGGER_HANDLER, DeployedFunction, LocalFunction, Outcome
from .listing import LOG_MARGIN, keys_text, log_reasons, select, stream_payload
from .stores import FolderStore
from .target import Target
from .times import parse_time


@dataclass(frozen=True)
class ReplaySettings:
    """One ``replay`` run: what was asked, where the batches are, where it writes, and its clock."""

    arguments: argparse.Namespace
    target: Target
    out: TextIO
    # Where the local handler's log lines go (--local).
    log: TextIO
    now: datetime
    sleep: Callable[[float], None]


def command_replay(settings: ReplaySettings) -> int:
    arguments, target, out = settings.arguments, settings.target, settings.out
    batches = asked_for(arguments, target, out, settings.now)
    if not arguments.local and not target.readers:
        raise RedriveError("a replay invokes the deployed function: give --stack-name or --function-name, or --local")
    if arguments.local and not target.readers:
        check_one_function(batches, target)
    batches, left = set_aside(batches, target, arguments)
    left_text = [
        f"left {len(them)} batch(es) parked by the function {them[0].function_name}, {why}\n"
        for why, them in left.items()
    ]
    if not batches:
        out.write(f"nothing to replay in {target.store.where}\n")
        out.writelines(left_text)
        return 1 if left and arguments.yes else 0
    replayer = Replayer(settings)
    if not arguments.yes:
        replayer.dry_run(batches)
        out.writelines(left_text)
        out.write("run again with --yes to replay them\n")
        return 0
    try:
        done = sum(replayer.replay(batch, first=index == 0) for index, batch in enumerate(batches))
    finally:
        replayer.close()
    failing = len(batches) - done
    out.writelines(left_text)
    others = f", {sum(map(len, left.values()))} left for other functions" if left else ""
    if replayer.trial:
        out.write(f"{done} batch(es) pass through the local handler, {failing} still fail{others}; all left parked\n")
    else:
        out.write(f"{done} batch(es) replayed, {failing} still parked{others}\n")
    return 1 if failing or left else 0


def asked_for(arguments: argparse.Namespace, target: Target, out: TextIO, now: datetime) -> list[Batch]:
    """The parked batches the command names: by key (saying which were replayed already), or by time."""
    if arguments.key:
        if arguments.all:
            raise RedriveError("give keys or --all, not both")
        batches = []
        for key in arguments.key:
            batch = target.store.get(key)
            if batch is None:
                out.write(f"{key}: replayed already\n")
            else:
                batches.append(batch)
        return batches
    if arguments.all or arguments.since or arguments.until:
        return list(select(target.store.parked(), arguments, now))
    raise RedriveError("say which batches to replay: KEY ..., --all, or --since/--until")


def set_aside(
    batches: list[Batch], target: Target, arguments: argparse.Namespace
) -> tuple[list[Batch], dict[str, list[Batch]]]:
    """The batches that go back to their function, and those left parked, by why (see ``refusal``).
    A batch asked for by key that cannot be replayed refuses the whole run."""
    kept: list[Batch] = []
    left: dict[str, list[Batch]] = {}
    for batch in batches:
        why = refusal(batch, target, arguments.local)
        if why is not None and arguments.key:
            raise RedriveError(
                f"{batch.key} was parked by the function {batch.function_name}, {why}. Nothing was replayed."
            )
        if why is None:
            kept.append(batch)
        else:
            left.setdefault(why, []).append(batch)
    return kept, left


class Replayer:
    """Replays parked batches one at a time, each to the function that parked it.

    Through the local handler (``--local``), a batch of the deployed destination is only tried:
    its records would be logged here, not in the function's log group, so it stays parked.
    """

    def __init__(self, settings: ReplaySettings) -> None:
        self.settings = settings
        self.store = settings.target.store
        self.trial = settings.arguments.local and not isinstance(settings.target.store, FolderStore)
        self.local_handlers: dict[str, LocalFunction] = {}

    def label(self, batch: Batch) -> str:
        return "the local handler" if self.settings.arguments.local else batch.function_name

    def dry_run(self, batches: list[Batch]) -> None:
        counts = Counter(self.label(batch) for batch in batches)
        invocations = " and ".join(f"{label} with {count} batch(es)" for label, count in counts.items())
        self.settings.out.write(f"dry run: would invoke {invocations}, one at a time:\n")
        for batch in batches:
            to = f", to {self.label(batch)}" if len(counts) > 1 else ""
            self.settings.out.write(
                f"  {batch.key}: {batch.size} record(s), "
                f"{batch.first_sequence_number} to {batch.last_sequence_number}{to}\n"
            )

    def replay(self, batch: Batch, *, first: bool) -> bool:
        """Replay one batch, or say why not; whether it is done (replayed, or passes locally)."""
        marker = self.store.marker(batch)
        if marker is Marker.CONFLICT:  # never replayed on, nor deleted for, an object the redrive did not write
            self.settings.out.write(f"{conflict(self.store.where, batch)}\n")
            return False
        if marker is Marker.COPY:  # an earlier run replayed it and stopped before moving it
            self.settings.out.write(f"{batch.key}: replayed already; moved to {self.store.mark_replayed(batch)}\n")
            return True
        if marker is Marker.STARTED:  # never invoked twice on an outcome that was not recorded
            self.settings.out.write(f"{started(self.store.where, batch)}\n")
            return False
        if not first:
            self.settings.sleep(self.settings.arguments.pause)
        try:
            payload = (
                batch.payload
                if batch.payload is not None
                else stream_payload(self.settings.target, batch, self.settings.now)
            )
        except Expired as error:
            self.settings.out.write(f"{batch.key}: cannot be replayed: {error}\n")
            return False
        outcome = self.invoke(batch, payload)
        if not outcome.succeeded:
            report_failure(
                batch,
                payload,
                outcome,
                self.settings.target,
                self.settings.out,
                None if self.settings.arguments.local else self.settings.now,
            )
            return False
        if self.trial:
            self.settings.out.write(
                f"{batch.key}: the local handler processes its {batch.size} record(s); left parked: replay it "
                "without --local once the fix is deployed\n"
            )
            return True
        where = self.store.mark_replayed(batch)
        self.settings.out.write(
            f"{batch.key}: replayed {batch.size} record(s) through {self.label(batch)}; moved to {where}\n"
        )
        return True

    def invoke(self, batch: Batch, payload: str) -> Outcome:
        """Invoke the batch's function, the replay recorded as begun; a failed one is taken back."""
        if not self.trial:
            self.store.begin_replay(batch)
        try:
            outcome = self.function_of(batch).invoke(payload)
        except Exception as error:
            if not self.trial and refused_request(error):  # throttled, denied, ...: nothing ran
                self.store.abandon_replay(batch)
            raise  # else (a timeout, Ctrl-C) it may have run: the next run does not invoke it again
        if not outcome.succeeded and not self.trial:
            self.store.abandon_replay(batch)
        return outcome

    def function_of(self, batch: Batch) -> DeployedFunction | LocalFunction:
        """The function that parked the batch: deployed, or the local handler with its configuration."""
        reader = self.settings.target.reader_of(batch)
        if not self.settings.arguments.local:
            assert self.settings.target.clients is not None and reader is not None
            return DeployedFunction(self.settings.target.clients("lambda"), reader.name)
        name = reader.name if reader else "local"
        if name not in self.local_handlers:
            self.local_handlers[name] = LocalFunction(reader.environment if reader else {}, self.settings.log, name)
        return self.local_handlers[name]

    def close(self) -> None:
        self.store.release()
        for function in self.local_handlers.values():
            function.close()


def refusal(batch: Batch, target: Target, local: bool) -> str | None:
    """Why ``batch`` is not replayed, and how it can be; None when it goes back to its function.

    A batch goes only to the function that parked it: replayed to another reader of the stream,
    its records would be handled by the wrong code (the alerts' changes logged twice by the
    logger, their notifications never sent). ``--local`` runs only the logger's handler.
    """
    name = batch.function_name
    reader = target.reader_of(batch)
    if not target.readers:  # a local folder of one function's batches (check_one_function)
        return None
    if name in target.denied:
        return f"whose configuration you may not read ({target.denied[name]}): ask for its grant_redrive"
    hidden = target.mapping_denial(batch) if reader is None else None
    if hidden is not None:
        return f"whose event source mapping you may not read ({hidden}): ask for its grant_redrive"
    known = " or ".join(sorted(target.readers))
    if reader is None and isinstance(target.store, FolderStore):  # the one named is the logger's
        return f"not {known}: --local runs only the logger's handler, and this batch is another function's"
    if reader is None:
        return (
            f"not {known}: is the destination shared with another function? "
            f"replay its batches with --function-name {name}"
        )
    if local and reader.handler != LOGGER_HANDLER:
        return (
            f"which runs {reader.handler or 'another handler'}: --local runs only the logger's handler "
            f"({LOGGER_HANDLER}); replay its batches without --local"
        )
    return None


def check_one_function(batches: Sequence[Batch], target: Target) -> None:
    """A local folder names no function: the local handler replays its batches if they are all one
    function's (make local parks the alerts' batches there too)."""
    names = sorted({batch.function_name for batch in batches})
    if len(names) > 1:
        raise RedriveError(
            f"{target.store.where} holds batches of {len(names)} functions ({', '.join(names)}) and --local runs only "
            "the logger's handler: give --function-name with the logger's function (the others' batches stay "
            "parked). Nothing was replayed."
        )


def report_failure(
    batch: Batch, payload: str, outcome: Outcome, target: Target, out: TextIO, invoked: datetime | None
) -> None:
    """Say which records still fail and why: from the invocation's log, else from the log group."""
    out.write(f"{batch.key}: still fails, stays parked: {outcome.error or 'records reported as failed'}\n")
    records = {str((r.get("dynamodb") or {}).get("SequenceNumber")): r for r in json.loads(payload)["Records"]}
    reasons = dict(outcome.reasons)
    missing = set(outcome.failed) - reasons.keys()
    log_group = target.log_group_of(batch)
    if missing and invoked is not None and log_group and target.clients:
        # The invocation's log tail is its last 4 KB: an earlier ERROR line may be only in the log group.
        start = parse_time(batch.first_arrival or batch.parked_at) - LOG_MARGIN
        reasons.update(log_reasons(target.clients("logs"), log_group, start, invoked + LOG_MARGIN, missing))
    for number in outcome.failed:
        record = records.get(number, {})
        why = reasons.get(number, "the reason is not in the function's log")
        out.write(f"  {number} {record.get('eventName', '?')} {keys_text(target.keys(batch, record))}: {why}\n")
    numbers = sorted(int(number) for number in records if number.isdigit())
    failed = [int(number) for number in outcome.failed if number.isdigit()]
    processed = sum(1 for number in numbers if failed and number < min(failed))
    if processed:
        out.write(
            f"  the {processed} record(s) before it were processed by this invocation; a later replay of the batch "
            "processes them again (their log lines carry the same sequence_number)\n"
        )
