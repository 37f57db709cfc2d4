"""The option types: their defaults, a token through every check, and a docstring on every field."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import RemovalPolicy, Size, assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from stacks.table_stream_logger import (
    ArchiveOptions,
    ChangeAlerts,
    CustomHandler,
    FailureOptions,
    FunctionOptions,
    LogLines,
    LogOptions,
    Monitoring,
    NewTable,
    RisesAbove,
    StreamReading,
    TableStreamLogger,
)
from stacks.table_stream_logger import options as options_module

PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
NewStack = Callable[[], cdk.Stack]
OPTION_TYPES = [
    StreamReading,
    FunctionOptions,
    LogOptions,
    FailureOptions,
    Monitoring,
    NewTable,
    LogLines,
    CustomHandler,
    ArchiveOptions,
]


def plain(value: Any) -> Any:
    """A default as a test can compare it: a Duration or Size as its amount, anything else as is."""
    if isinstance(value, cdk.Duration):
        return ("seconds", value.to_seconds())
    if isinstance(value, Size):
        return ("bytes", value.to_bytes())
    return value


def defaults(kind: type) -> dict[str, Any]:
    return {
        field.name: plain(field.default)
        for field in dataclasses.fields(kind)
        if field.default is not dataclasses.MISSING
    }


# --- defaults ----------------------------------------------------------------------------------


def test_stream_reading_defaults() -> None:
    assert defaults(StreamReading) == {
        "batch_size": 100,
        "max_batching_window": ("seconds", 1),
        "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
        "retry_attempts": 10,
        "max_record_age": ("seconds", 6 * 3600),
        "bisect_batch_on_error": True,
        "parallelization_factor": 1,
    }


def test_function_and_log_defaults() -> None:
    assert defaults(FunctionOptions) == {
        "memory_size": 256,
        "timeout": ("seconds", 30),
        "reserved_concurrent_executions": None,
        "powertools_layer": None,
    }
    assert defaults(LogOptions) == {
        "service_name": None,  # the construct's own: table-stream-logger, change-alerts
        "level": "INFO",
        "retention": logs.RetentionDays.ONE_MONTH,
        "encryption_key": None,
        "deletion_protection": False,
        "group_class": logs.LogGroupClass.STANDARD,
    }
    assert defaults(LogLines) == {
        "images": "NEW_AND_CHANGES",
        "context_keys": "ONCE",
        "metrics_namespace": "TableStreamLogger",
    }


def test_failure_and_monitoring_defaults() -> None:
    # None where "not given" must be told from the default: with a given destination, any of them is an error.
    assert defaults(FailureOptions) == dict.fromkeys(
        ("destination", "destination_type", "retention", "removal_policy", "encryption_key")
    )
    assert FailureOptions().kind == "S3"
    assert defaults(Monitoring) == {"alarms": True, "iterator_age_threshold": ("seconds", 60), "alarm_action": None}


def test_new_table_and_archive_defaults() -> None:
    assert defaults(NewTable) == {
        "sort_key": None,
        "removal_policy": RemovalPolicy.RETAIN,
        "deletion_protection": None,
        "encryption_key": None,
        "time_to_live_attribute": None,
    }
    assert {field.name for field in dataclasses.fields(NewTable)} - set(defaults(NewTable)) == {"partition_key"}
    assert defaults(ArchiveOptions) == {
        "retention": ("seconds", 365 * 86400),
        "bytes_scanned_limit": ("bytes", 10 * 1024**3),
        "encryption_key": None,
    }
    assert defaults(CustomHandler) == {}  # code and handler, both required


@pytest.mark.parametrize("kind", OPTION_TYPES, ids=lambda kind: kind.__name__)
def test_options_are_frozen_and_keyword_only(kind: type) -> None:
    params = dataclasses.fields(kind)
    assert all(field.kw_only for field in params)
    assert kind.__dataclass_params__.frozen  # type: ignore[attr-defined]


# --- tokens ------------------------------------------------------------------------------------


def number(stack: cdk.Stack, name: str) -> int:
    """A number only deployment knows; jsii types it float, the options int."""
    return cast(int, cdk.CfnParameter(stack, name, type="Number").value_as_number)


@pytest.mark.parametrize(
    "build",
    [
        lambda n: StreamReading(batch_size=n),
        lambda n: StreamReading(retry_attempts=n),
        lambda n: StreamReading(parallelization_factor=n),
        lambda n: StreamReading(max_batching_window=cdk.Duration.seconds(n)),
        lambda n: StreamReading(max_record_age=cdk.Duration.seconds(n)),
        lambda n: FunctionOptions(memory_size=n),
        lambda n: FunctionOptions(reserved_concurrent_executions=n),
        lambda n: FailureOptions(retention=cdk.Duration.days(n)),
        lambda n: FailureOptions(destination_type="SQS", retention=cdk.Duration.seconds(n)),
        lambda n: Monitoring(iterator_age_threshold=cdk.Duration.seconds(n)),
        lambda n: ArchiveOptions(retention=cdk.Duration.days(n)),
        lambda n: ArchiveOptions(bytes_scanned_limit=Size.gibibytes(n)),
    ],
    ids=[
        "batch_size",
        "retry_attempts",
        "parallelization_factor",
        "max_batching_window",
        "max_record_age",
        "memory_size",
        "reserved_concurrent_executions",
        "bucket retention",
        "queue retention",
        "iterator_age_threshold",
        "archive retention",
        "bytes_scanned_limit",
    ],
)
def test_a_token_passes_every_numeric_check(new_stack: NewStack, build: Callable[[int], object]) -> None:
    # A literal check would read the token's placeholder number (-1.888e+289) and refuse it.
    build(number(new_stack(), "Value"))


def test_a_logger_and_alerts_with_tokens_synthesize_them_as_references(new_stack: NewStack) -> None:
    # GIVEN a batch size, retries and memory that only deployment knows
    stack = new_stack()
    reading = StreamReading(batch_size=number(stack, "Batch"), retry_attempts=number(stack, "Retries"))
    function = FunctionOptions(memory_size=number(stack, "Memory"))
    # WHEN both constructs are built with them
    logger = TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=PK), reading=reading, function=function
    )
    ChangeAlerts(stack, "Alerts", table=logger.table, rules=[RisesAbove("Stocks", 0)], reading=reading)
    template = assertions.Template.from_stack(stack)

    # THEN the template takes the parameters
    template.resource_properties_count_is(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": {"Ref": "Batch"}, "MaximumRetryAttempts": {"Ref": "Retries"}},
        2,
    )
    template.has_resource_properties("AWS::Lambda::Function", {"MemorySize": {"Ref": "Memory"}})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FunctionOptions(memory_size=64), "function.memory_size must be between 128 and 10240, got 64"),
        (lambda: FunctionOptions(reserved_concurrent_executions=0), "function.reserved_concurrent_executions"),
        (
            lambda: ArchiveOptions(bytes_scanned_limit=Size.mebibytes(1)),
            "archive.bytes_scanned_limit must be at least 10 MiB",
        ),
        (lambda: Monitoring(iterator_age_threshold=cdk.Duration.seconds(0)), "monitoring.iterator_age_threshold"),
    ],
)
def test_a_literal_out_of_range_is_refused_naming_its_field(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        build()


def test_a_new_table_with_an_existing_table_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Orders", partition_key=PK, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)

    with pytest.raises(ValueError) as error:
        TableStreamLogger(stack, "Logger", table=table, new_table=NewTable(partition_key=PK, sort_key=PK))

    assert str(error.value) == (
        "Give either an existing table or options for a new one, not both: table was given together with new_table."
    )
    assert stack.node.try_find_child("Logger") is None


# --- documented once, on its field -------------------------------------------------------------


def field_docstrings() -> dict[str, dict[str, str]]:
    """Each option type's fields and the docstring under each (the attribute docstrings griffe reads)."""
    tree = ast.parse(Path(options_module.__file__).read_text())
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = found.setdefault(node.name, {})
        for statement, following in zip(node.body, [*node.body[1:], None], strict=True):
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                value = following.value if isinstance(following, ast.Expr) else None
                doc = value.value if isinstance(value, ast.Constant) else None
                fields[statement.target.id] = doc if isinstance(doc, str) else ""
    return found


@pytest.mark.parametrize("kind", OPTION_TYPES, ids=lambda kind: kind.__name__)
def test_every_field_has_a_docstring_that_states_its_default(kind: type) -> None:
    documented = field_docstrings()[kind.__name__]

    assert set(documented) == {field.name for field in dataclasses.fields(kind)}
    for name, doc in documented.items():
        assert "Default:" in doc or "Required." in doc, f"{kind.__name__}.{name}: {doc!r}"
