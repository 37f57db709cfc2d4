"""``history --local`` on a ``make local`` run, against what DynamoDB held: for a time between each
pair of changes, ``--as-of`` gives the item as the table had it then (read during the run), on moto
and on DynamoDB Local. A number key, a redacted attribute, exact numbers, and on moto a TTL expiry."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from boto3.dynamodb.types import TypeDeserializer

from local.run import Run
from stacks.table_stream_logger import NewTable, StreamReading, TableStreamLogger, operations
from stacks.table_stream_logger.operations.history_changes import loads
from tests.conftest import CDK_CONTEXT
from tests.e2e.conftest import Result

KEY = {"id": 7}
LATER = int(time.time()) + 30 * 86400  # the item's TTL, until the run sets it in the past
PAST = int(time.time()) - 60
OPERATIONS = [
    {"op": "put", "item": {**KEY, "Stocks": 1, "Price": {"USD": "0.80"}, "Secret": "s3cr3t", "ExpiresAt": LATER}},
    {"op": "update", "key": KEY, "set": {"Stocks": 0}},
    {"op": "update", "key": KEY, "set": {"Price.USD": "12345678901234567890.12"}},
    {"op": "update", "key": KEY, "remove": ["Secret"], "set": {"Stocks": 5, "ExpiresAt": PAST}},
    {"op": "expire", "key": KEY},  # DynamoDB's TTL removes it (simulated where TTL is not run)
]


@pytest.fixture(scope="module")
def prompt_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table keyed by a number, with a TTL; no batching window, so each write is its own invocation."""
    outdir = tmp_path_factory.mktemp("cdk.out-history")
    app = cdk.App(context=CDK_CONTEXT, outdir=str(outdir))
    stack = cdk.Stack(app, "ItemsStack")
    TableStreamLogger(
        stack,
        "ItemsLogger",
        redact=["Secret"],
        new_table=NewTable(
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.NUMBER),
            time_to_live_attribute="ExpiresAt",
        ),
        reading=StreamReading(max_batching_window=cdk.Duration.seconds(0)),
    )
    app.synth()
    return outdir / "ItemsStack.template.json"


def items_file(folder: Path, operations: list[dict[str, Any]]) -> Path:
    path = folder / "items.jsonl"
    lines = []
    for operation in operations:
        text = repr(operation).replace("'", '"')
        # numbers given as text above are JSON numbers in the file, exactly as written
        for literal in ('"0.80"', '"12345678901234567890.12"'):
            text = text.replace(literal, literal.strip('"'))
        lines.append(text + "\n")
    path.write_text("".join(lines))
    return path


def history(*arguments: str) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = operations.main(["history", "--key", "id=7", *arguments], stdout=stdout, stderr=stderr)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def shown(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The item as the log may show it: ``Secret`` redacted."""
    if item is None:
        return None
    return {name: "[REDACTED]" if name == "Secret" else value for name, value in item.items()}


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("backend", ["moto", "dynamodb-local"])
def test_as_of_between_each_pair_of_changes_is_what_dynamodb_held(
    backend: str,
    request: pytest.FixtureRequest,
    prompt_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the writes played by make local, and the item read back from the table after each
    held: list[tuple[float, float, dict[str, Any] | None]] = []  # (before the write, after it, the item)
    apply = Run.apply

    def apply_and_read(run: Run, operation: dict[str, Any]) -> str | None:
        before = time.time()
        note = apply(run, operation)
        answer = run.dynamodb.get_item(TableName=run.table_name, Key={"id": {"N": "7"}}, ConsistentRead=True)
        item = answer.get("Item")
        held.append(
            (before, time.time(), {n: TypeDeserializer().deserialize(v) for n, v in item.items()} if item else None)
        )
        return note

    monkeypatch.setattr(Run, "apply", apply_and_read)
    run_local = request.getfixturevalue("run_local" if backend == "moto" else "run_on_dynamodb_local")

    # DynamoDB Local's own TTL sweep can take longer than make local waits when the machine is busy,
    # or remove the item as soon as its time is past: there the item keeps its TTL in the future and
    # is deleted instead (moto's run has the TTL's REMOVE).
    keeps_ttl = {"op": "update", "key": KEY, "remove": ["Secret"], "set": {"Stocks": 5}}
    operations = OPERATIONS if backend == "moto" else [*OPERATIONS[:3], keeps_ttl, {"op": "delete", "key": KEY}]
    result: Result = run_local("--template", str(prompt_template), "--items", str(items_file(tmp_path, operations)))

    assert result.code == 0, result.stderr
    output = tmp_path / "run.jsonl"
    output.write_text(result.stdout)
    changes = result.records
    assert [line["event_name"] for line in changes] == ["INSERT", "MODIFY", "MODIFY", "MODIFY", "REMOVE"]
    assert changes[-1].get("ttl_expired") is (True if backend == "moto" else None)
    # WHEN the item is asked for as of a moment after each change's line and before the next write
    logged = [datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp() for line in changes]
    for index, (line_time, (_, _, state)) in enumerate(zip(logged, held, strict=True)):
        next_write = held[index + 1][0] if index + 1 < len(held) else time.time()
        moment = line_time + 0.001  # the line's millisecond has passed
        assert moment < next_write, "the next write came after this change's line"
        as_of = history("--local", str(output), "--as-of", iso((moment + next_write) / 2))

        # THEN it is the item DynamoDB held then, exact, with the redacted attribute redacted
        assert as_of.code == 0, as_of.stderr
        assert loads(as_of.stdout) == shown(state), f"after change {index + 1}"
    # AND before the first change it did not exist
    before = history("--local", str(output), "--as-of", iso(held[0][0] - 1))
    assert before.stdout == "null\n"
    # AND the numbers are the literals DynamoDB keeps, exactly
    assert held[2][2] is not None and held[2][2]["Price"] == {"USD": Decimal("12345678901234567890.12")}
    assert held[0][2] is not None and held[0][2]["Price"]["USD"] == Decimal("0.8")
    assert timedelta(seconds=logged[-1] - logged[0]) < timedelta(minutes=1)
