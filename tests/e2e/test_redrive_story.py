"""Park, fix, replay: ``python -m local``'s poison scenario, then the redrive command with ``--local``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local import cli
from stacks.table_stream_logger import operations
from tests.e2e.conftest import Result
from tests.e2e.test_failed_batches import POISON_ITEMS, poisoned


def run(main: object, *arguments: str) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    # The run's clock stands still but for its sleeps, as in tests/e2e/conftest.py: what is written
    # together is batched together however long each invocation takes in its own process.
    started, offset = time.time(), [0.0]

    def sleep(seconds: float) -> None:
        offset[0] += seconds

    if main is cli.main:
        code = cli.main(list(arguments), stdout=stdout, stderr=stderr, clock=lambda: started + offset[0], sleep=sleep)
    else:
        code = operations.main(list(arguments), stdout=stdout, stderr=stderr, sleep=sleep)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def logged_keys(lines: str) -> list[tuple[str, str]]:
    """(SK, sequence number) of every change line among log lines."""
    entries = [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
    return [(entry["keys"]["SK"], entry["sequence_number"]) for entry in entries if "event_name" in entry]


@contextlib.contextmanager
def environment_restored() -> Iterator[None]:
    """The local run sets the handler's environment in this process: put it back afterwards."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def park_poison(template_path: Path, operations: list[dict[str, Any]], failures: Path) -> Result:
    """Run ``python -m local`` on ``operations`` with the record of POISON#1 failing in every handler,
    parking into ``failures``."""
    items = failures.parent / "items.jsonl"
    items.write_text("\n".join(json.dumps(operation) for operation in operations))
    template = poisoned(template_path, failures.parent / "cdk.out", "reported")
    return run(
        cli.main, "--template", str(template), "--format", "json", "--failures", str(failures),
        "--items", str(items),
    )  # fmt: skip


@dataclass
class Story:
    parked: Result
    listed: Result
    replayed: Result
    again: Result
    failures: Path

    @property
    def logged(self) -> list[tuple[str, str]]:
        return logged_keys(self.parked.stdout) + logged_keys(self.replayed.stderr)


@pytest.fixture(scope="module")
def story(template_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The poison scenario parks FRUIT/POISON#1; the handler is fixed; the batch is replayed, twice."""
    failures = tmp_path_factory.mktemp("redrive-story") / "failures"
    with environment_restored():
        parked = park_poison(template_path, POISON_ITEMS, failures)
        # the fix: the handler gets the record whole again
        listed = run(operations.main, "list", "--folder", str(failures), "--format", "json")
        replayed = run(operations.main, "replay", "--all", "--yes", "--local", "--folder", str(failures))
        again = run(operations.main, "replay", "--all", "--yes", "--local", "--folder", str(failures))
    return Story(parked, listed, replayed, again, failures)


def test_the_parked_batch_is_replayed_once_through_the_fixed_handler(story: Story) -> None:
    assert story.parked.code == 0, story.parked.stderr
    (batch,) = json.loads(story.listed.stdout)
    assert (batch["records"], batch["condition"]) == (1, "RetryAttemptsExhausted")

    assert story.replayed.code == 0, story.replayed.stderr
    assert story.replayed.stdout.splitlines()[-1] == "1 batch(es) replayed, 0 still parked"
    assert logged_keys(story.replayed.stderr) == [("POISON#1", batch["first_sequence_number"])]
    assert (story.again.code, story.again.stdout, story.again.stderr) == (
        0,
        f"nothing to replay in {story.failures}\n",
        "",
    )
    assert not list((story.failures / "aws").rglob("*.json"))
    assert len(list((story.failures / "replayed").rglob("*.json"))) == 1
    # every record of the story is logged, the replayed one included
    assert {sk for sk, _ in story.logged} == {"APPLE#WASHINGTON", "POISON#1", "ORANGE#FLORIDA", "KIWI#NZ"}


# With the fail-fast handler, the records after the poison one are logged only when Lambda
# redelivers them without it: once.
def test_every_record_of_the_story_is_logged_exactly_once_overall(story: Story) -> None:
    assert Counter(sk for sk, _ in story.logged) == {
        "APPLE#WASHINGTON": 1,
        "POISON#1": 1,
        "ORANGE#FLORIDA": 1,
        "KIWI#NZ": 1,
    }
    assert len({number for _, number in story.logged}) == 4


# --- both readers park: the alerts see the poison item's restock, and fail on it too ---------------
TWO_READERS_ITEMS = [
    {"op": "put", "item": {"PK": "FRUIT", "SK": "POISON#1", "Stocks": 0}},
    {"op": "update", "key": {"PK": "FRUIT", "SK": "POISON#1"}, "set": {"Stocks": 5}},
    {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 12}},
]


@dataclass
class TwoReaders:
    parked: Result
    listed: Result
    unnamed: Result
    named: Result
    failures: Path


@pytest.fixture(scope="module")
def two_readers(template_path: Path, tmp_path_factory: pytest.TempPathFactory) -> TwoReaders:
    """The restock of the poison item parks batches of the logger and of the alerts in one folder;
    the handlers are fixed; the folder is replayed through the local handler (the logger's)."""
    failures = tmp_path_factory.mktemp("two-readers") / "failures"
    with environment_restored():
        parked = park_poison(template_path, TWO_READERS_ITEMS, failures)
        listed = run(operations.main, "list", "--folder", str(failures), "--format", "json")
        (logger,) = {
            batch["function_arn"].split(":")[-1]
            for batch in json.loads(listed.stdout)
            if "InventoryLoggerFunction" in batch["function_arn"]
        }
        replay = ("replay", "--all", "--yes", "--local", "--folder", str(failures))
        unnamed = run(operations.main, *replay)
        named = run(operations.main, *replay, "--function-name", logger)
    return TwoReaders(parked, listed, unnamed, named, failures)


def test_the_logger_replays_its_own_batches_and_leaves_the_alerts(two_readers: TwoReaders) -> None:
    # GIVEN batches of both readers in the folder
    assert two_readers.parked.code == 0, two_readers.parked.stderr
    functions = Counter(batch["function_arn"].split(":")[-1] for batch in json.loads(two_readers.listed.stdout))
    (alerts,) = [name for name in functions if "InventoryAlertsFunction" in name]
    assert functions[alerts] == 1 and len(functions) == 2

    # THEN without a name nothing is replayed; named, the logger's batches are, the alerts' stay parked
    assert (two_readers.unnamed.code, two_readers.unnamed.stdout) == (2, "")
    assert "holds batches of 2 functions" in two_readers.unnamed.stderr
    assert two_readers.named.code == 1, two_readers.named.stderr
    lines = two_readers.named.stdout.splitlines()
    assert lines[-2].startswith(f"left 1 batch(es) parked by the function {alerts}, not ")
    logger_batches = sum(functions.values()) - 1
    assert lines[-1] == f"{logger_batches} batch(es) replayed, 0 still parked, 1 left for other functions"
    (left,) = (two_readers.failures / "aws").rglob("*.json")
    assert alerts in json.loads(left.read_text())["requestContext"]["functionArn"]
    # every change is logged exactly once overall, by the story and the logger's replay
    logged = logged_keys(two_readers.parked.stdout) + logged_keys(two_readers.named.stderr)
    assert Counter(sk for sk, _ in logged) == {"POISON#1": 2, "KIWI#NZ": 1}
    assert len({number for _, number in logged}) == 3
