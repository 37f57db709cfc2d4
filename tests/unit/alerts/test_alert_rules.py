"""The typed alert rules: their checks, their event filter and what the function reads of them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from stacks.table_stream_logger import AlertRule, Becomes, Expires, FallsToOrBelow, RisesAbove
from stacks.table_stream_logger.alerts.rules import check_rules

EXISTS = [{"exists": True}]


def pattern(rule: AlertRule) -> Any:
    """The pattern as Lambda reads it from the template."""
    return json.loads(rule.to_filter()["pattern"])


# --- filters --------------------------------------------------------------------------------


def test_rises_above_lets_through_changes_that_carry_the_number_only() -> None:
    assert pattern(RisesAbove("Stocks", 0)) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"Stocks": {"N": EXISTS}}},
    }
    assert pattern(FallsToOrBelow("Stocks", 5, include_inserts=False)) == {
        "eventName": ["MODIFY"],
        "dynamodb": {"NewImage": {"Stocks": {"N": EXISTS}}},
    }


def test_a_dotted_path_filters_inside_the_maps() -> None:
    assert pattern(RisesAbove("Price.Local.INR", 100)) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"Price": {"M": {"Local": {"M": {"INR": {"N": EXISTS}}}}}}},
    }


@pytest.mark.parametrize(
    ("value", "condition"),
    [
        ("LEAVING_SOON", {"S": ["LEAVING_SOON"]}),
        (True, {"BOOL": [True]}),
        (None, {"NULL": [True]}),
        # A number is text in the record ("5" and "5.0" are equal): only its presence is filtered.
        (5, {"N": EXISTS}),
        (b"\x00\x01", {"B": EXISTS}),
    ],
)
def test_becomes_filters_on_the_value_where_lambda_can_match_it(value: Any, condition: dict[str, Any]) -> None:
    assert pattern(Becomes("Status", value)) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"Status": condition}},
    }


def test_expires_lets_through_removes_by_the_ttl_process_only() -> None:
    assert pattern(Expires()) == {
        "eventName": ["REMOVE"],
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
    }


# --- what the function reads ----------------------------------------------------------------


def test_config_of_each_rule_with_default_names_and_titles() -> None:
    assert RisesAbove("Stocks", 0).config() == {
        "name": "Stocks-rises-above-0",
        "kind": "rises_above",
        "title": "Stocks rose above 0",
        "attribute": "Stocks",
        "event_names": ["INSERT", "MODIFY"],
        "threshold": "0",
    }
    assert FallsToOrBelow("Price.USD", Decimal("0.5"), name="cheap", title="Now cheap").config() == {
        "name": "cheap",
        "kind": "falls_to_or_below",
        "title": "Now cheap",
        "attribute": "Price.USD",
        "event_names": ["INSERT", "MODIFY"],
        "threshold": "0.5",
    }
    assert Becomes("Status", "LEAVING_SOON", include_inserts=False).config() == {
        "name": "Status-becomes-LEAVING_SOON",
        "kind": "becomes",
        "title": "Status became LEAVING_SOON",
        "attribute": "Status",
        "event_names": ["MODIFY"],
        "value": {"S": "LEAVING_SOON"},
    }
    assert Expires().config() == {"name": "expired", "kind": "expires", "title": "Expired"}


def test_thresholds_keep_every_digit() -> None:
    digits = "12345678901234567890123456789012345678"

    assert RisesAbove("Stocks", digits).config()["threshold"] == digits
    assert RisesAbove("Stocks", Decimal("-1E+125")).config()["threshold"] == "-1E+125"
    assert RisesAbove("Stocks", " 7 ").config()["threshold"] == "7"
    assert RisesAbove("Stocks", "1" * 38 + "000").config()["threshold"] == "1" * 38 + "000"


# --- checks at synth ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RisesAbove("", 0), "needs the attribute to watch"),
        (lambda: RisesAbove("Price..USD", 0), "a dotted path into maps"),
        (
            lambda: RisesAbove("Stocks", 0.1),  # type: ignore[arg-type]
            r"a float is not exact: write Decimal\('0.1'\)",
        ),
        (lambda: RisesAbove("Stocks", True), "needs an int, a Decimal or a numeric string"),
        (lambda: RisesAbove("Stocks", "ten"), "needs a number, got 'ten'"),
        (lambda: FallsToOrBelow("Stocks", Decimal("NaN")), "needs a finite number"),
        (lambda: RisesAbove("Stocks", "1" * 39), "more than DynamoDB's 38 significant digits"),
        (lambda: RisesAbove("Stocks", "1E+126"), "out of DynamoDB's range"),
        (lambda: RisesAbove("Stocks", 0, title=" "), "title must be a non-empty string"),
        (lambda: Becomes("Tags", ["a"]), "cannot compare with a list: give a str"),  # type: ignore[arg-type]
        (lambda: Becomes("Status", 1.5), "cannot compare with a float"),  # type: ignore[arg-type]
        (lambda: Expires(name=""), "name must be a non-empty string"),
        (lambda: AlertRule(), "use RisesAbove, FallsToOrBelow, Becomes or Expires"),
    ],
)
def test_a_bad_rule_is_a_clear_error(make: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_check_rules() -> None:
    rules = [RisesAbove("Stocks", 0), Expires()]

    assert check_rules(rules) == tuple(rules)
    with pytest.raises(ValueError, match="at least one rule"):
        check_rules([])
    with pytest.raises(ValueError, match="must be a list of alert rules"):
        check_rules(RisesAbove("Stocks", 0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="got 'Stocks'"):
        check_rules(["Stocks"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="6 rules were given; each is one event filter"):
        check_rules([RisesAbove("Stocks", n) for n in range(6)])
    with pytest.raises(ValueError, match="Two rules have the name 'expired'"):
        check_rules([Expires(), Expires(title="Gone")])


def test_rules_are_immutable() -> None:
    rule = RisesAbove("Stocks", 0)

    with pytest.raises(AttributeError):
        rule.threshold = 5  # type: ignore[misc]
