"""What a user of the construct meets beyond the template: help(), typing and synth warnings."""

from __future__ import annotations

import pydoc
from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb

from stacks.table_stream_logger import ChangeFilter, NewTable, TableStreamLogger

ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
NewStack = Callable[[], cdk.Stack]


def test_help_shows_readable_defaults_and_the_constructs_own_docstring() -> None:
    text = pydoc.render_doc(TableStreamLogger, renderer=pydoc.TextDoc())

    assert " object at 0x" not in text
    assert "Creates a new construct node" not in text
    # Each option is documented on its field (tests/unit/core/test_options.py); the class names the types.
    assert "new_table: The table to build (NewTable)" in " ".join(text.split()).replace("``", "")


def test_a_third_reader_of_one_stream_is_warned_of_with_the_reason(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Orders", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
    TableStreamLogger(stack, "First", table=table)
    TableStreamLogger(stack, "Second", table=table, filters=[ChangeFilter(event_names=["REMOVE"])])

    assert assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value()) == []

    TableStreamLogger(stack, "Third", table=table)

    (warning,) = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    assert warning.id == "/TestStack/Third"
    text = str(warning.entry.data)
    assert text.startswith("The stream of TestStack/Orders now has 3 readers in this stack")
    assert "DynamoDB advises at most 2 processes reading a stream's shard at once: more are throttled" in text
    assert "[ack: table-stream-logger:too-many-stream-readers]" in text


def test_loggers_of_different_tables_are_not_counted_together(new_stack: NewStack) -> None:
    stack = new_stack()
    for name in ("A", "B", "C"):
        TableStreamLogger(stack, f"{name}Logger", new_table=NewTable(partition_key=ID))

    assert assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value()) == []
