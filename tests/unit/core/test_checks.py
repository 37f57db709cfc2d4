"""The option checks let a deploy-time value (a token) pass, and still refuse a bad literal."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb

from stacks.table_stream_logger import NewTable, StreamReading, TableStreamLogger

PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)


def test_a_batch_size_from_a_parameter_synthesizes_as_a_reference(new_stack: Callable[[], cdk.Stack]) -> None:
    # GIVEN a batch size that only deployment knows
    stack = new_stack()
    # jsii types a number as float; the option is typed int.
    batch_size = cast(int, cdk.CfnParameter(stack, "BatchSize", type="Number", default=100).value_as_number)
    # WHEN the logger is built with it
    TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=PK), reading=StreamReading(batch_size=batch_size)
    )
    # THEN the mapping takes the parameter, where a literal check would have refused a token's number
    assertions.Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"BatchSize": {"Ref": "BatchSize"}}
    )


def test_durations_from_a_parameter_pass_the_checks(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    seconds = cdk.CfnParameter(stack, "Seconds", type="Number", default=60).value_as_number
    reading = StreamReading(
        max_batching_window=cdk.Duration.seconds(seconds), max_record_age=cdk.Duration.seconds(seconds)
    )
    assert reading.max_record_age.is_unresolved()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size must be between 1 and 10000, got 0"),
        ({"parallelization_factor": 11}, "parallelization_factor must be between 1 and 10, got 11"),
        ({"max_record_age": cdk.Duration.seconds(59)}, "max_record_age (seconds) must be between 60 and 604800"),
    ],
)
def test_a_literal_out_of_range_is_still_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        StreamReading(**options)  # type: ignore[arg-type]
