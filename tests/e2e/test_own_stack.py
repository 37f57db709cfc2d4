"""``make local --template`` on a library user's own stack, whose table has other keys than the story's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from stacks.table_stream_logger import NewTable, TableStreamLogger
from tests.conftest import CDK_CONTEXT
from tests.e2e.conftest import Result


@pytest.fixture(scope="module")
def own_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's stack: a table keyed by tenant (string) and id (number)."""
    outdir = tmp_path_factory.mktemp("cdk.out-orders")
    app = cdk.App(context=CDK_CONTEXT, outdir=str(outdir))
    stack = cdk.Stack(app, "OrdersStack")
    TableStreamLogger(
        stack,
        "OrdersLogger",
        new_table=NewTable(
            partition_key=dynamodb.Attribute(name="tenant", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.NUMBER),
        ),
    )
    app.synth()  # the template beside its assets, as `cdk synth` writes them: the run runs the asset
    return outdir / "OrdersStack.template.json"


def test_the_story_on_other_keys_stops_at_once_in_one_line(run_local: Any, own_template: Path) -> None:
    result: Result = run_local("--template", str(own_template))

    assert (result.code, result.stdout) == (2, "")
    errors = [line for line in result.stderr.splitlines() if not line.startswith("# ")]
    assert errors == [
        "error: the table's keys are tenant (S), id (N), not the story's PK (S), SK (S): "
        "give --items FILE (one JSON operation per line; see --help)"
    ]
    assert "# created" not in result.stderr  # nothing was made, nothing written


def test_an_items_file_of_the_tables_keys_plays_on_it(run_local: Any, own_template: Path, tmp_path: Path) -> None:
    items = tmp_path / "orders.jsonl"
    items.write_text(
        '{"op": "put", "item": {"tenant": "acme", "id": 7, "total": 12.5}}\n'
        '{"op": "update", "key": {"tenant": "acme", "id": 7}, "set": {"total": 13}}\n'
    )

    result: Result = run_local("--template", str(own_template), "--items", str(items))

    assert result.code == 0, result.stderr
    assert [(line["event_name"], line["keys"]) for line in result.records] == [
        ("INSERT", {"tenant": "acme", "id": 7}),
        ("MODIFY", {"tenant": "acme", "id": 7}),
    ]
    assert "keys tenant, id" in result.stderr
