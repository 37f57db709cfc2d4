"""The renderer's own details, below the log line."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
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


# --- DynamoDB's limits, spelt every way a number can be ------------------------------------
# 38 significant digits, magnitude 1E-130 .. 9.99...E+125; zeros before or after the
# significant digits do not count, however many there are.


def _spell(sign: str, digits: str, exponent: int, style: str, zeros: int) -> str:
    """The number ``sign digits * 10**exponent`` written in one of the forms DynamoDB accepts."""
    if style == "positional":  # 1 followed by 125 zeros, 0.000...0001
        text = format(Decimal(f"{digits}E{exponent}"), "f")  # exact: scaleb would round to 28 digits
        return sign + ("0" * zeros + text if zeros % 2 else text + ("." if "." not in text else "") + "0" * zeros)
    if style == "scientific":  # trailing zeros moved into the exponent: 12000E-3
        return f"{sign}{digits}{'0' * zeros}E{exponent - zeros:+d}"
    adjusted = exponent + len(digits) - 1  # normalized: 1.2E+1
    return f"{sign}{digits[0]}.{digits[1:] or '0'}e{adjusted}"


def _digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Significant digits: no leading or trailing zero."""
    return st.integers(min_size, max_size).flatmap(
        lambda size: st.from_regex(rf"[1-9][0-9]{{{size - 2}}}[1-9]" if size > 1 else r"[1-9]", fullmatch=True)
    )


def _numbers(digits: st.SearchStrategy[str], adjusted: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda sign, digits, adjusted, style, zeros: _spell(sign, digits, adjusted - len(digits) + 1, style, zeros),
        st.sampled_from(["", "-"]),
        digits,
        adjusted,
        st.sampled_from(["positional", "scientific", "normalized"]),
        st.integers(0, 60),
    )


@settings(max_examples=300)
@given(_numbers(_digits(1, 38), st.integers(-130, 125)))
def test_every_number_dynamodb_holds_is_logged_exactly_however_it_is_written(literal: str) -> None:
    text = dynamo_json.number(literal)

    assert _JSON_NUMBER.fullmatch(text)
    assert json.loads(text, parse_float=Decimal, parse_int=Decimal) == Decimal(literal)


@settings(max_examples=200)
@given(
    st.one_of(
        _numbers(_digits(39, 60), st.integers(-130, 125)),  # too many significant digits
        _numbers(_digits(1, 38), st.integers(126, 400)),  # too large
        _numbers(_digits(1, 38), st.integers(-400, -131)),  # too small
    )
)
def test_every_number_beyond_dynamodb_is_refused_however_it_is_written(literal: str) -> None:
    with pytest.raises(dynamo_json.InvalidValue):
        dynamo_json.number(literal)


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("card.number", ["card", "number"]),
        ("card\\.number", ["card.number"]),
        ("a\\\\.b", ["a\\", "b"]),
        ("a\\b.c", ["a\\b", "c"]),
        ("trailing\\", ["trailing\\"]),
    ],
)
def test_a_redaction_path_escapes_a_dot_with_a_backslash(path: str, names: list[str]) -> None:
    assert dynamo_json.split_path(path) == names
