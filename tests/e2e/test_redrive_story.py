"""Park, fix, replay: ``python -m local``'s poison scenario, then the redrive command with ``--local``."""

from __future__ import annotations

import io
import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from local import cli
from stacks.table_stream_logger import redrive
from tests.e2e.conftest import Result
from tests.e2e.test_story import POISON_ITEMS, poison


def run(main: object, *arguments: str) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    offset = [0.0]

    def sleep(seconds: float) -> None:
        offset[0] += seconds

    if main is cli.main:
        code = cli.main(
            list(arguments), stdout=stdout, stderr=stderr, clock=lambda: time.time() + offset[0], sleep=sleep
        )
    else:
        code = redrive.main(list(arguments), stdout=stdout, stderr=stderr, sleep=sleep)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def logged_keys(lines: str) -> list[tuple[str, str]]:
    """(SK, sequence number) of every change line among log lines."""
    entries = [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
    return [(entry["keys"]["SK"], entry["sequence_number"]) for entry in entries if "event_name" in entry]


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
    tmp = tmp_path_factory.mktemp("redrive-story")
    items = tmp / "items.jsonl"
    items.write_text("\n".join(json.dumps(operation) for operation in POISON_ITEMS))
    failures = tmp / "failures"
    saved = dict(os.environ)
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            poison(monkeypatch, "reported")
            parked = run(
                cli.main, "--template", str(template_path), "--format", "json", "--failures", str(failures),
                "--items", str(items),
            )  # fmt: skip
        # the fix: the handler gets the record whole again
        listed = run(redrive.main, "list", "--folder", str(failures), "--format", "json")
        replayed = run(redrive.main, "replay", "--all", "--yes", "--local", "--folder", str(failures))
        again = run(redrive.main, "replay", "--all", "--yes", "--local", "--folder", str(failures))
    finally:
        os.environ.clear()
        os.environ.update(saved)
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
