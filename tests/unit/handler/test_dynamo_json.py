"""The renderer's own details, below the log line."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dynamo_json

# RFC 8259's number grammar.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def test_member_names_are_json_encoded_and_the_cache_stays_bounded() -> None:
    names = [f'attr-{index}-"quoted"' for index in range(12_000)]

    texts = [dynamo_json.member(name) for name in names]

    assert [json.loads("{" + text + "0}") for text in texts[:3]] == [{name: 0} for name in names[:3]]
    assert dynamo_json.member(names[-1]) == json.dumps(names[-1]) + ":"
    assert len(dynamo_json._MEMBERS) <= 10_000


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("0", "0"),
        ("7", "7"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("-12", "-12"),
        ("0.8", "0.8"),
        ("-0.25", "-0.25"),
        ("1E+5", "1E+5"),
        # Not valid JSON as written: the same value as Decimal writes it.
        ("007", "7"),
        ("+5", "5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("00.10", "0.10"),
    ],
)
def test_number_keeps_the_literal_or_writes_the_same_value_as_json(literal: str, expected: str) -> None:
    assert dynamo_json.number(literal) == expected


@pytest.mark.parametrize(
    "literal",
    ["", "-", "1_000", "\u0663", "\u00b2", "1" * 39, "0x1F", " 1", "1 ", "NaN", "Infinity", "1E+126", "1E-131"],
)
def test_number_rejects_what_dynamodb_would_not_store(literal: str) -> None:
    with pytest.raises(dynamo_json.InvalidValue):
        dynamo_json.number(literal)


@given(st.text(alphabet="0123456789-+.eE_\u0663\u00b2 ", max_size=45))
def test_number_is_an_exact_json_number_or_an_error(literal: str) -> None:
    try:
        text = dynamo_json.number(literal)
    except dynamo_json.InvalidValue:
        return
    assert _JSON_NUMBER.fullmatch(text)
    assert Decimal(text) == Decimal(literal)
    assert json.loads(text, parse_float=Decimal, parse_int=Decimal) == Decimal(literal)
