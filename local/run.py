"""One run: the table it writes to, the pollers that read its stream, and the writes it plays.

The writes come from the story or an items file (each checked before any is written), from
the prompt, or none at all when the run only reads the stream (--tail, a deployed stack).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from local import archive, expiry, items, poison, writes
from local.failure_bucket import FailureBucket
from local.function import LoggedFunction
from local.notifications import LocalTopic
from local.output import Progress
from local.poller import POLL_INTERVAL, Poller
from local.stack_model import StackModel


@dataclasses.dataclass
class Run:
    """The pieces of one run: the table it writes to and the pollers that read its stream.

    ``poller`` runs the logger; ``others`` the stream's other readers (the alerts), each with
    the SNS stand-in its handler publishes to, if it publishes.
    """

    dynamodb: Any
    table_name: str
    poller: Poller
    captured: LoggedFunction
    archive: archive.ArchiveWriter | None = None
    others: list[tuple[Poller, LocalTopic | None]] = dataclasses.field(default_factory=list)
    ttl_attribute: str | None = None
    # moto has no TTL process: the run simulates it (local/expiry.py).
    simulate_ttl: bool = False
    # The logger's failure bucket in moto, for the whole copies of oversized records.
    failure_bucket: FailureBucket | None = None

    @property
    def pollers(self) -> list[Poller]:
        return [self.poller, *(poller for poller, _ in self.others)]

    def apply(self, operation: dict[str, Any]) -> str | None:
        """Make one operation's write, have the item expired, or poison its record; a note on what happened."""
        if operation["op"] == "poison":
            return poison.poison(self.dynamodb, self.table_name, operation["item"], simulated=self.simulate_ttl)
        if operation["op"] == "expire":
            return expiry.expire(
                self.dynamodb,
                self.table_name,
                operation["key"],
                self.ttl_attribute,
                simulated=self.simulate_ttl,
                now=self.poller.clock(),
            )
        return writes.apply(self.dynamodb, self.table_name, operation)

    def poll(self) -> int:
        return sum(poller.poll()[0] for poller in self.pollers)

    def drain(self) -> None:
        for poller in self.pollers:
            poller.drain()

    def run(self, stop: Callable[[], bool]) -> None:
        """Poll every reader until ``stop()`` says so, resting between polls that found nothing."""
        while not stop():
            if self.poll() == 0:
                self.poller.sleep(POLL_INTERVAL)


def play(
    arguments: argparse.Namespace,
    model: StackModel,
    run: Run,
    operations: list[tuple[str, dict[str, Any]]],
    stdin: TextIO,
    stderr: TextIO,
    progress: Progress,
    clock: Callable[[], float],
) -> None:
    keys = model.table.key_types
    if arguments.interactive:
        _prompt(run, keys, stdin, stderr)
    elif arguments.tail or (arguments.stack_name and not arguments.items):
        deadline = None if arguments.duration is None else clock() + arguments.duration
        run.run(lambda: deadline is not None and clock() >= deadline)
    else:
        for where, operation in operations:
            described = items.describe(operation, list(keys))
            try:
                note = run.apply(operation)
            except (ClientError, BotoCoreError) as error:
                run.drain()  # what was written before is still logged
                raise items.ItemsError(f"{where}: DynamoDB refused {described}: {_reason(error)}") from None
            except items.ItemsError as error:
                run.drain()
                raise items.ItemsError(f"{where}: {described}: {error}") from None
            progress(f"write: {described}" + (f" ({note})" if note else ""))
            run.poll()  # read promptly, as Lambda polls a shard four times a second
        run.drain()


def _reason(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, BotoCoreError):
        return str(error)
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', error)}"


def _prompt(run: Run, keys: items.KeyTypes, stdin: TextIO, stderr: TextIO) -> None:
    stderr.write(f"Type put|update|delete {' '.join(keys)} [Name=value ...], or a JSON operation; Ctrl-D ends.\n")
    while True:
        stderr.write("local> ")
        stderr.flush()
        line = stdin.readline()
        if not line:  # end of input
            stderr.write("\n")
            return
        if line.strip().lower() in ("quit", "exit"):
            return
        try:
            operation = items.parse_command(line, keys)
        except items.ItemsError as error:
            stderr.write(f"? {error}\n")
            continue
        if operation is None:
            continue
        try:
            note = run.apply(operation)
        except (ClientError, BotoCoreError) as error:  # a refused write must not end the session
            stderr.write(f"? DynamoDB refused it: {_reason(error)}\n")
            continue
        except items.ItemsError as error:
            stderr.write(f"? {error}\n")
            continue
        if note:
            stderr.write(f"? {note}\n")
        run.drain()
