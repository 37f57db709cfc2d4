"""The code the docs show runs as shown: the example files the pages include, synthesized or run.

The pages include these files with pymdownx.snippets (`--8<-- "docs/examples/...:section"`), and
`make docs` fails on a missing file or section; here each file is run, and the README's quick
start, plain GitHub markdown that cannot include, is checked to be the file's section.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

import stacks.table_stream_logger
from stacks.table_stream_logger._core.iam_actions import UNSCOPED_ACTIONS
from tests.conftest import CDK_CONTEXT, ROOT

EXAMPLES = ROOT / "docs" / "examples"
MARKER = re.compile(r"^\s*# --8<-- \[(start|end):([a-z][-_0-9a-z]*)\]\s*$")


def section(path: Path, name: str) -> str:
    """The lines of `name` in `path` as pymdownx.snippets includes them (dedent_subsections): without
    the markers of other sections, to the end marker or the end of the file."""
    lines = path.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if (m := MARKER.match(line)) and m.groups() == ("start", name)]
    assert len(starts) == 1, f"{path}: section {name}"
    body: list[str] = []
    for line in lines[starts[0] + 1 :]:
        marker = MARKER.match(line)
        if marker and marker.group(2) == name:
            break
        if not marker:
            body.append(line)
    return textwrap.dedent("\n".join(body)).strip("\n") + "\n"


def load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example imported from its own file, as a library user's app runs it."""
    # the wheel's import name, which this repository's tests know as stacks.table_stream_logger
    monkeypatch.setitem(sys.modules, "table_stream_logger", stacks.table_stream_logger)
    spec = importlib.util.spec_from_file_location(f"docs_example_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthesize(module: ModuleType, class_name: str) -> assertions.Template:
    stack = getattr(module, class_name)(cdk.App(context=CDK_CONTEXT), class_name)
    return assertions.Template.from_stack(stack)


def test_the_shop_stack_synthesizes_with_its_handler_beside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the two files as the library page shows them: the stack, and the handler in handlers/ beside it
    handler_file = EXAMPLES / "shop" / "handlers" / "archive.py"
    module = load(EXAMPLES / "shop" / "shop_stack.py", monkeypatch)

    # WHEN it is synthesized
    template = synthesize(module, "ShopStack")

    # THEN its four loggers are there, the Archiver running the handler of the file
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 4)
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": "archive.handler"})
    handled: dict[str, Any] = {}
    exec(compile(handler_file.read_text(), "archive.py", "exec"), handled)
    assert handled["handler"]({"Records": [{"dynamodb": {"Keys": {}}}]}, None) == {"batchItemFailures": []}


def test_the_quick_start_builds_a_logged_table(monkeypatch: pytest.MonkeyPatch) -> None:
    template = synthesize(load(EXAMPLES / "quickstart.py", monkeypatch), "OrdersStack")

    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 1)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": assertions.Match.object_like({"POWERTOOLS_SERVICE_NAME": "orders"})}},
    )


def test_the_readme_quick_start_is_the_tested_example() -> None:
    # The README is plain GitHub markdown: it cannot include the file, so it holds a copy, kept equal here.
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)

    assert blocks == [section(EXAMPLES / "quickstart.py", "quickstart")]


def test_the_alerts_example_reads_the_loggers_stream_and_parks_in_its_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    template = synthesize(load(EXAMPLES / "alerts_stack.py", monkeypatch), "ShopAlertsStack")

    # two readers of the one table's stream, one topic, one failure bucket for both
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::S3::Bucket", 1)
    template.has_resource_properties(
        "AWS::DynamoDB::Table", {"TimeToLiveSpecification": {"AttributeName": "ExpiresAt", "Enabled": True}}
    )
    # grant_redrive: the operator's role may invoke both functions, each construct granting its own
    (on_call,) = [
        policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if policy["Properties"].get("Roles") == ["on-call"]
    ]
    (invoked,) = [statement["Resource"] for statement in on_call if "lambda:InvokeFunction" in statement["Action"]]
    functions = template.find_resources("AWS::Lambda::Function")
    assert sorted(resource["Fn::GetAtt"][0] for resource in invoked) == sorted(functions)
    # grant_status on both readers, grant_history on the logger: Logs Insights on its log group only
    (queried,) = [statement["Resource"] for statement in on_call if "logs:StartQuery" in statement["Action"]]
    (log_group,) = [
        name
        for name, group in template.find_resources("AWS::Logs::LogGroup").items()
        if "Logger" in name and "Alerts" not in name
    ]
    assert queried == {"Fn::GetAtt": [log_group, "Arn"]}
    (everything,) = [statement["Action"] for statement in on_call if statement["Resource"] == "*"]
    assert everything == sorted(UNSCOPED_ACTIONS)  # the app minimizes policies: one statement


def test_the_old_image_is_rebuilt_from_the_line_the_page_shows() -> None:
    line = json.loads((EXAMPLES / "modify_line.json").read_text())
    namespace: dict[str, Any] = {}
    exec(compile((EXAMPLES / "old_image.py").read_text(), "old_image.py", "exec"), namespace)

    old_image = namespace["old_image_of"](line)

    assert old_image == {**line["new_image"], "Stocks": 33}
    assert namespace["old_image_of"]({"new_image": {"PK": "A", "Added": 1}, "changes": {"Added": {"new": 1}}}) == {
        "PK": "A"
    }


INCLUDE = re.compile(r'^--8<-- "([^":]+)(?::([a-z][-_0-9a-z]*))?"$', flags=re.MULTILINE)
# What the tests above run (or, for local/, the tests of make local run), by file.
RUN_HERE = {
    "docs/examples/shop/shop_stack.py",
    "docs/examples/shop/handlers/archive.py",
    "docs/examples/quickstart.py",
    "docs/examples/alerts_stack.py",
    "docs/examples/old_image.py",
    "docs/examples/modify_line.json",
    # tests/e2e/test_failure_path_offline.py plays it
    "local/examples/poison.jsonl",
}


def test_every_file_the_pages_include_is_run_by_a_test() -> None:
    included = {
        (path, name)
        for page in sorted((ROOT / "docs").glob("*.md"))
        for path, name in INCLUDE.findall(page.read_text())
    }

    assert {path for path, _ in included} == RUN_HERE
    for path, name in included:
        if name:
            assert section(ROOT / path, name).strip(), f"{path}:{name} is empty"
