"""The failure path offline, as the README walks it: ``make local`` with the shipped poison file
parks a batch; ``make redrive ... --folder .local-failures`` lists it and replays it through the
local handler, which still refuses the record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local import cli
from local.poison import ONLY_ON_MOTO
from stacks.table_stream_logger import operations
from tests.conftest import ROOT
from tests.e2e.conftest import Result
from tests.e2e.test_redrive_story import environment_restored, logged_keys, run

POISON_FILE = ROOT / "local" / "examples" / "poison.jsonl"


@dataclass
class Walk:
    parked: Result
    listed: Result
    dry_run: Result
    replayed: Result
    failures: Path


@pytest.fixture(scope="module")
def walk(template_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Walk:
    failures = tmp_path_factory.mktemp("offline") / "failures"
    with environment_restored():
        parked = run(
            cli.main, "--template", str(template_path), "--format", "json", "--failures", str(failures),
            "--items", str(POISON_FILE),
        )  # fmt: skip
        listed = run(operations.main, "list", "--folder", str(failures), "--format", "json")
        dry_run = run(operations.main, "replay", "--all", "--local", "--folder", str(failures))
        replayed = run(operations.main, "replay", "--all", "--yes", "--local", "--folder", str(failures))
    return Walk(parked, listed, dry_run, replayed, failures)


def test_make_local_parks_the_poison_record_after_retries_and_bisection(walk: Walk) -> None:
    # THEN the run says the record is simulated, and the real handler failed it as Lambda would see it
    assert walk.parked.code == 0, walk.parked.stderr
    (write,) = [line for line in walk.parked.stderr.splitlines() if line.startswith("# write: poison ")]
    assert write.startswith("# write: poison FRUIT/POISON#1 (simulated poison record: ")
    assert "bisecting the batch of" in walk.parked.stderr
    assert "retry 10 of 10: 1 record(s)" in walk.parked.stderr
    assert "4 record(s) read: 3 delivered, 0 filtered, 1 parked, 0 pending" in walk.parked.stderr
    assert "# nothing lost" in walk.parked.stderr
    errors = [json.loads(line) for line in walk.parked.stdout.splitlines() if '"level":"ERROR"' in line]
    assert {error["reason"] for error in errors} == {"NewImage: Poison: N value is not a number"}
    # one ERROR line in each invocation that held it (the handler stops at it): three while splitting, 1 + 10 alone
    (path,) = (walk.failures / "aws").rglob("*.json")
    assert len(errors) == json.loads(path.read_text())["requestContext"]["approximateInvokeCount"] == 14
    # every good record is logged exactly once
    assert sorted(sk for sk, _ in logged_keys(walk.parked.stdout)) == ["APPLE#WASHINGTON", "KIWI#NZ", "ORANGE#FLORIDA"]

    # AND the parked batch holds the record as the handler got it, in Lambda's S3 shape
    (path,) = (walk.failures / "aws").rglob("*.json")
    document = json.loads(path.read_text())
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    (record,) = json.loads(document["payload"])["Records"]
    assert record["dynamodb"]["Keys"] == {"PK": {"S": "FRUIT"}, "SK": {"S": "POISON#1"}}
    assert record["dynamodb"]["NewImage"]["Poison"] == {"N": "not a number"}


def test_redrive_lists_the_batch_and_the_local_replay_still_fails_it(walk: Walk) -> None:
    assert walk.listed.code == 0, walk.listed.stderr
    (batch,) = json.loads(walk.listed.stdout)
    assert (batch["records"], batch["condition"]) == (1, "RetryAttemptsExhausted")

    assert walk.dry_run.code == 0, walk.dry_run.stderr
    assert walk.dry_run.stdout.splitlines()[-1] == "run again with --yes to replay them"

    # the record is malformed: no handler may log it, so the replay reports it and exits 1
    assert walk.replayed.code == 1, walk.replayed.stderr
    lines = walk.replayed.stdout.splitlines()
    assert lines[0].endswith(": still fails, stays parked: records reported as failed")
    assert lines[1].endswith(": NewImage: Poison: N value is not a number")
    assert lines[-1] == "0 batch(es) replayed, 1 still parked"
    assert len(list((walk.failures / "aws").rglob("*.json"))) == 1


@pytest.mark.parametrize("where", [["--endpoint-url", "http://127.0.0.1:9"], ["--stack-name", "InventoryStack"]])
def test_poison_is_refused_off_moto_before_anything_is_written(run_local: Any, where: list[str]) -> None:
    result: Result = run_local(*where, "--items", str(POISON_FILE))

    assert result.code == 2
    assert [line for line in result.stderr.splitlines() if not line.startswith("# ")] == [f"error: {ONLY_ON_MOTO}"]
    assert "created" not in result.stderr and "reading" not in result.stderr
