"""Lambda's filter rules on a DynamoDB stream record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.filtering import FilterError, compile_patterns

RECORD: dict[str, Any] = {
    "eventName": "MODIFY",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "Keys": {"PK": {"S": "FRUIT"}, "SK": {"S": "APPLE#WASHINGTON"}},
        "NewImage": {
            "PK": {"S": "FRUIT"},
            "SK": {"S": "APPLE#WASHINGTON"},
            "Stocks": {"N": "32"},
            "Organic": {"BOOL": True},
            "Note": {"NULL": True},
            "Tags": {"SS": ["red", "sweet"]},
        },
        "SizeBytes": 131,
    },
}


def passes(pattern: dict[str, Any]) -> bool:
    predicate = compile_patterns([json.dumps(pattern)])
    assert predicate is not None
    return predicate(RECORD)


def new_image(rules: dict[str, Any]) -> dict[str, Any]:
    return {"dynamodb": {"NewImage": rules}}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT", "REMOVE"]}, False),
        ({"eventName": ["MODIFY"], "dynamodb": {"Keys": {"PK": {"S": ["VEGETABLE"]}}}}, False),  # and
        ({"dynamodb": {"Keys": {"SK": {"S": [{"prefix": "APPLE#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": [{"prefix": "ORANGE#"}]}}}}, False),
        ({"dynamodb": {"Keys": {"SK": {"S": [{"suffix": "#WASHINGTON"}]}}}}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": [{"equals-ignore-case": "apple#washington"}]}}}}, True),
        ({"eventName": [{"anything-but": "REMOVE"}]}, True),
        ({"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}, False),
        ({"dynamodb": {"Keys": {"SK": {"S": [{"anything-but": {"prefix": "APPLE"}}]}}}}, False),
        (new_image({"Stocks": [{"exists": True}]}), False),  # an object, not a leaf: Lambda says no
        (new_image({"Stocks": {"N": [{"exists": True}]}}), True),
        (new_image({"Price": [{"exists": True}]}), False),
        (new_image({"Price": [{"exists": False}]}), True),
        ({"dynamodb": {"OldImage": {"Stocks": [{"exists": False}]}}}, True),  # no OldImage at all
        (new_image({"Stocks": {"N": [{"numeric": ["<", 33]}]}}), False),  # N is a string: never numeric
        (new_image({"Stocks": {"N": [{"numeric": [">", 0, "<=", 31]}]}}), False),
        ({"dynamodb": {"SizeBytes": [{"numeric": ["=", 131]}]}}, True),
        ({"dynamodb": {"SizeBytes": [131]}}, True),
        ({"dynamodb": {"SizeBytes": ["131"]}}, False),  # a string is not the number
        (new_image({"Organic": {"BOOL": [True]}}), True),
        (new_image({"Organic": {"BOOL": [False]}}), False),
        (new_image({"Note": {"NULL": [True]}}), True),
        (new_image({"Tags": {"SS": ["sweet"]}}), True),  # one element of a list is enough
        ({"$or": [{"eventName": ["INSERT"]}, {"dynamodb": {"Keys": {"PK": {"S": ["FRUIT"]}}}}]}, True),
        ({"$or": [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]}, False),
    ],
)
def test_a_rule(pattern: dict[str, Any], expected: bool) -> None:
    assert passes(pattern) is expected


def test_null_and_empty_match_only_themselves() -> None:
    predicate = compile_patterns(['{"a": [null]}', '{"b": [""]}'])
    assert predicate is not None
    assert predicate({"a": None})
    assert predicate({"b": ""})
    assert not predicate({"a": 0})
    assert not predicate({})


def test_a_record_passes_if_any_pattern_matches() -> None:
    predicate = compile_patterns(['{"eventName": ["INSERT"]}', '{"eventName": ["MODIFY"]}'])
    assert predicate is not None
    assert predicate(RECORD)


def test_no_patterns_means_no_filter() -> None:
    assert compile_patterns([]) is None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '["INSERT"]',
        '{"eventName": "INSERT"}',  # rules must be a list
        '{"eventName": []}',
        '{"eventName": [{"wildcard": "IN*"}]}',  # not implemented: refused, never guessed
        '{"dynamodb": {"SizeBytes": [{"numeric": ["~", 1]}]}}',
        '{"eventName": [{"anything-but": {"wildcard": "x"}}]}',
        '{"$or": {"eventName": ["INSERT"]}}',
    ],
)
def test_a_pattern_the_emulation_cannot_honour_is_an_error(text: str) -> None:
    with pytest.raises(FilterError):
        compile_patterns([text])
