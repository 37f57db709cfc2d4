"""The README's library example runs as written: its handler file and its ShopStack, synthesized."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

import stacks.table_stream_logger
from tests.conftest import CDK_CONTEXT, ROOT

BLOCKS: list[str] = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)


def block(starting: str) -> str:
    (found,) = [text for text in BLOCKS if starting in text]
    return found


def test_the_shop_stack_synthesizes_with_its_handler_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the two blocks as a user saves them: the handler in handlers/, the stack beside it
    handler = block("# handlers/archive.py")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "archive.py").write_text(handler)
    (tmp_path / "shop_stack.py").write_text(block("class ShopStack"))
    # the wheel's import name, which this repository's tests know as stacks.table_stream_logger
    monkeypatch.setitem(sys.modules, "table_stream_logger", stacks.table_stream_logger)
    module = types.ModuleType("shop_stack")
    module.__file__ = str(tmp_path / "shop_stack.py")
    exec(compile((tmp_path / "shop_stack.py").read_text(), module.__file__, "exec"), module.__dict__)

    # WHEN it is synthesized
    stack = module.ShopStack(cdk.App(context=CDK_CONTEXT), "ShopStack")
    template = assertions.Template.from_stack(stack)

    # THEN its four loggers are there, the Archiver running the handler of the file
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 4)
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": "archive.handler"})
    handled: dict[str, Any] = {}
    exec(compile(handler, "archive.py", "exec"), handled)
    assert handled["handler"]({"Records": [{"dynamodb": {"Keys": {}}}]}, None) == {"batchItemFailures": []}
