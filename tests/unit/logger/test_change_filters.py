"""Typed event filters: the FilterCriteria they synthesize, and the records those let through."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb

from local.filtering import compile_patterns
from local.template import read
from stacks.table_stream_logger import MAX_FILTERS, ChangeFilter, EventName, NewTable, TableStreamLogger

NewStack = Callable[[], cdk.Stack]

PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING)


def filter_criteria(stack: cdk.Stack) -> Any:
    (mapping,) = assertions.Template.from_stack(stack).find_resources("AWS::Lambda::EventSourceMapping").values()
    return mapping["Properties"].get("FilterCriteria")


def synthesized_patterns(new_stack: NewStack, *filters: ChangeFilter) -> list[dict[str, Any]]:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", filters=filters, new_table=NewTable(partition_key=PK, sort_key=SK))
    return [json.loads(item["Pattern"]) for item in filter_criteria(stack)["Filters"]]


# --- what is synthesized ------------------------------------------------------------------


def test_no_filters_means_no_filter_criteria(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK))

    assert filter_criteria(stack) is None


def test_filter_criteria_are_synthesized_exactly(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack,
        "Logger",
        filters=[
            ChangeFilter(event_names=["MODIFY"]),
            ChangeFilter(new_image_has={"Stocks": "N"}),
            ChangeFilter(
                event_names=["INSERT", "MODIFY"],
                keys_equal={"PK": "FRUIT", "SK": "APPLE#WASHINGTON"},
                new_image_has={"Stocks": "N", "Organic": "BOOL"},
                old_image_has={"Price": "S"},
            ),
            ChangeFilter(event_names=["REMOVE"], old_image_has={"Tags": "SS"}),
        ],
        new_table=NewTable(partition_key=PK, sort_key=SK),
    )

    assert filter_criteria(stack) == {
        "Filters": [
            {"Pattern": '{"eventName":["MODIFY"]}'},
            {"Pattern": '{"dynamodb":{"NewImage":{"Stocks":{"N":[{"exists":true}]}}}}'},
            {
                "Pattern": '{"eventName":["INSERT","MODIFY"],"dynamodb":{'
                '"Keys":{"PK":{"S":["FRUIT"]},"SK":{"S":["APPLE#WASHINGTON"]}},'
                '"NewImage":{"Stocks":{"N":[{"exists":true}]},"Organic":{"BOOL":[{"exists":true}]}},'
                '"OldImage":{"Price":{"S":[{"exists":true}]}}}}'
            },
            {"Pattern": '{"eventName":["REMOVE"],"dynamodb":{"OldImage":{"Tags":{"SS":[{"exists":true}]}}}}'},
        ]
    }


def test_pattern_is_the_one_synthesized(new_stack: NewStack) -> None:
    change_filter = ChangeFilter(event_names=["MODIFY"], keys_equal={"PK": "FRUIT"}, old_image_has={"Stocks": "N"})

    assert synthesized_patterns(new_stack, change_filter) == [change_filter.pattern()]
    assert change_filter.pattern() == {
        "eventName": ["MODIFY"],
        "dynamodb": {"Keys": {"PK": {"S": ["FRUIT"]}}, "OldImage": {"Stocks": {"N": [{"exists": True}]}}},
    }


def test_a_filter_cannot_change_after_it_was_checked() -> None:
    names: list[EventName] = ["MODIFY"]
    keys = {"PK": "FRUIT"}
    change_filter = ChangeFilter(event_names=names, keys_equal=keys)
    names.append("REMOVE")
    keys["SK"] = "APPLE"

    assert change_filter.event_names == ("MODIFY",)
    assert dict(change_filter.keys_equal) == {"PK": "FRUIT"}
    with pytest.raises(TypeError):
        change_filter.keys_equal["SK"] = "APPLE"  # type: ignore[index]


# --- what the synthesized patterns select ---------------------------------------------------


def record(event_name: str, pk: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    """A stream record as Lambda's filter sees it."""
    keys = {"PK": {"S": pk}, "SK": {"S": "ITEM"}}
    dynamodb_part: dict[str, Any] = {"Keys": keys, "SequenceNumber": "1", "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        dynamodb_part["NewImage"] = {**keys, **new}
    if old is not None:
        dynamodb_part["OldImage"] = {**keys, **old}
    return {"eventID": "1", "eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb_part}


RECORDS = {
    "insert fruit with stock": record("INSERT", "FRUIT", {"Stocks": {"N": "39"}}, None),
    "insert fruit without stock": record("INSERT", "FRUIT", {"Name": {"S": "kiwi"}}, None),
    "insert fruit with stock as a string": record("INSERT", "FRUIT", {"Stocks": {"S": "39"}}, None),
    "modify fruit stock": record("MODIFY", "FRUIT", {"Stocks": {"N": "32"}}, {"Stocks": {"N": "33"}}),
    "modify vegetable stock": record("MODIFY", "VEGETABLE", {"Stocks": {"N": "7"}}, {"Stocks": {"N": "8"}}),
    "modify vegetable, stock removed": record("MODIFY", "VEGETABLE", {}, {"Stocks": {"N": "8"}}),
    "remove fruit": record("REMOVE", "FRUIT", None, {"Stocks": {"N": "32"}}),
    "remove vegetable": record("REMOVE", "VEGETABLE", None, {"Stocks": {"N": "7"}}),
}


@pytest.mark.parametrize(
    ("filters", "selected"),
    [
        (
            [ChangeFilter(event_names=["MODIFY"])],
            ["modify fruit stock", "modify vegetable stock", "modify vegetable, stock removed"],
        ),
        (
            [ChangeFilter(new_image_has={"Stocks": "N"})],
            ["insert fruit with stock", "modify fruit stock", "modify vegetable stock"],
        ),
        (
            [ChangeFilter(event_names=["MODIFY"], old_image_has={"Stocks": "N"}, keys_equal={"PK": "VEGETABLE"})],
            ["modify vegetable stock", "modify vegetable, stock removed"],
        ),
        (
            # Any of the filters: the fruit's inserts, or every removal.
            [
                ChangeFilter(event_names=["INSERT"], keys_equal={"PK": "FRUIT"}),
                ChangeFilter(event_names=["REMOVE"]),
            ],
            [
                "insert fruit with stock",
                "insert fruit without stock",
                "insert fruit with stock as a string",
                "remove fruit",
                "remove vegetable",
            ],
        ),
    ],
)
def test_synthesized_patterns_select_the_expected_records(
    new_stack: NewStack, filters: list[ChangeFilter], selected: list[str]
) -> None:
    # GIVEN the template of a logger with filters, read as `make local` reads it
    stack = new_stack()
    TableStreamLogger(stack, "Logger", filters=filters, new_table=NewTable(partition_key=PK, sort_key=SK))
    patterns = read(dict(assertions.Template.from_stack(stack).to_json()), "TestStack").mapping.filter_patterns
    predicate = compile_patterns(patterns)
    assert predicate is not None

    # WHEN Lambda's filter semantics are applied to each record
    passed = [name for name, one in RECORDS.items() if predicate(one)]

    # THEN exactly the expected ones pass
    assert passed == selected


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, r"ChangeFilter\(\) has no condition"),
        ({"event_names": ["UPDATE"]}, r"event_names must be among \['INSERT', 'MODIFY', 'REMOVE'\], got \['UPDATE'\]"),
        ({"event_names": "MODIFY"}, r"event_names must be a list such as \['MODIFY'\]"),
        ({"new_image_has": {"Stocks": "NUMBER"}}, r"new_image_has\['Stocks'\] must be a DynamoDB type tag"),
        ({"old_image_has": {"Price": "M"}}, r"a map \(M\) or a list \(L\) cannot be tested"),
        ({"new_image_has": {"Tags": "L"}}, r"new_image_has\['Tags'\] must be a DynamoDB type tag"),
        ({"new_image_has": ["Stocks"]}, "new_image_has must be a mapping of attribute names"),
        ({"new_image_has": {"": "S"}}, "new_image_has must map non-empty attribute names"),
        ({"keys_equal": {"PK": 7}}, r"keys_equal\['PK'\] must be a non-empty string .* Numeric keys cannot"),
        ({"keys_equal": {"PK": ""}}, r"keys_equal\['PK'\] must be a non-empty string"),
        ({"event_names": ["REMOVE"], "new_image_has": {"Stocks": "N"}}, "can never match a REMOVE"),
        ({"event_names": ["INSERT"], "old_image_has": {"Stocks": "N"}}, "can never match an INSERT"),
    ],
)
def test_invalid_change_filter_is_an_error(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChangeFilter(**props)


def test_more_filters_than_lambda_allows_by_default_is_an_error(new_stack: NewStack) -> None:
    filters = [ChangeFilter(keys_equal={"PK": f"P{index}"}) for index in range(MAX_FILTERS + 1)]

    assert MAX_FILTERS == 5
    with pytest.raises(ValueError, match="6 filters were given; Lambda allows 5 per event source mapping by default"):
        TableStreamLogger(new_stack(), "Logger", filters=filters, new_table=NewTable(partition_key=PK))


def test_five_filters_are_fine(new_stack: NewStack) -> None:
    filters = [ChangeFilter(keys_equal={"PK": f"P{index}"}) for index in range(MAX_FILTERS)]

    assert len(synthesized_patterns(new_stack, *filters)) == 5


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (ChangeFilter(event_names=["MODIFY"]), "filters must be a list of ChangeFilter"),
        ([{"pattern": '{"eventName":["MODIFY"]}'}], "filters must be ChangeFilter objects, got {'pattern'"),
    ],
)
def test_filters_that_are_not_change_filters_are_an_error(new_stack: NewStack, filters: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableStreamLogger(new_stack(), "Logger", filters=filters, new_table=NewTable(partition_key=PK))
