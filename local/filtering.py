"""Lambda's event filtering (``FilterCriteria``) for stream records.

A record goes to the function when it matches at least one pattern. A pattern matches when
every field it names matches; a field is a nested pattern, or a list of rules of which one
must match. The rules implemented are the common ones of Lambda's filter syntax
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):

- exact values: ``["INSERT"]``, ``[5]``, ``[true]``, ``[null]``, ``[""]``;
- ``{"prefix": "APPLE#"}``, ``{"suffix": "#WASHINGTON"}``, ``{"equals-ignore-case": "apple"}``;
- ``{"anything-but": ...}`` with a value, a list of values, or ``{"prefix": ...}``/``{"suffix": ...}``;
- ``{"exists": true}`` / ``{"exists": false}``;
- ``{"numeric": [">", 0, "<=", 5]}``;
- ``"$or": [pattern, ...]``.

When the record's value is a list, a rule matches if it matches one of its elements.

Two of Lambda's rules that surprise people, followed here so that `make local` drops what
Lambda drops:

- ``numeric`` compares JSON numbers only. DynamoDB JSON carries numbers as strings
  (``{"N": "33"}``), so ``{"N": [{"numeric": ["<", 10]}]}`` matches no stream record.
- ``exists`` looks at leaf values only: ``{"Stocks": [{"exists": true}]}`` does not match
  ``"Stocks": {"N": "33"}`` (an object); ``{"Stocks": {"N": [{"exists": true}]}}`` does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

_MISSING = object()

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class FilterError(ValueError):
    """A filter pattern that is not valid JSON or uses a rule this emulation does not know."""


def compile_patterns(patterns: tuple[str, ...] | list[str]) -> Callable[[dict[str, Any]], bool] | None:
    """A predicate for the mapping's ``FilterCriteria``, or None when it has none (all records pass)."""
    if not patterns:
        return None
    parsed = []
    for text in patterns:
        try:
            pattern = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise FilterError(f"filter pattern is not JSON: {text!r} ({error})") from None
        if not isinstance(pattern, dict):
            raise FilterError(f"filter pattern must be a JSON object: {text!r}")
        _check(pattern)
        parsed.append(pattern)
    return lambda record: any(matches(pattern, record) for pattern in parsed)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a record, or a part of one) matches ``pattern``."""
    for name, expected in pattern.items():
        if name == "$or":
            if not any(matches(branch, event) for branch in expected):
                return False
            continue
        value = event.get(name, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if not matches(expected, value if isinstance(value, dict) else {}):
                return False
        elif not any(_rule(rule, value) for rule in expected):
            return False
    return True


def _rule(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        ((operator, operand),) = rule.items()
        if operator == "exists":
            is_leaf = value is not _MISSING and not isinstance(value, dict)
            return is_leaf is bool(operand)
        if value is _MISSING:
            return False
        if operator == "anything-but":
            return not _any_value(value, lambda one: _anything_but_excludes(operand, one))
        return _any_value(value, lambda one: _OPERATORS[operator](operand, one))
    if value is _MISSING:
        return False
    return _any_value(value, lambda one: _equal(rule, one))


def _any_value(value: Any, test: Callable[[Any], bool]) -> bool:
    """A rule matches a list when it matches one of its elements."""
    return any(test(one) for one in value) if isinstance(value, list) else test(value)


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool) or expected is None or value is None:
        return expected is value or (expected == value and type(expected) is type(value))
    if isinstance(expected, int | Decimal) and isinstance(value, int | float | Decimal):
        return Decimal(str(value)) == Decimal(expected)
    return bool(type(expected) is type(value) and expected == value)


def _anything_but_excludes(operand: Any, value: Any) -> bool:
    """Whether ``value`` is one of those an ``anything-but`` rule excludes."""
    if isinstance(operand, dict):
        ((operator, argument),) = operand.items()
        return bool(_OPERATORS[operator](argument, value))
    excluded = operand if isinstance(operand, list) else [operand]
    return any(_equal(one, value) for one in excluded)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _numeric(operand: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False  # a string is never a number to Lambda's filters, "33" included
    number = Decimal(str(value))
    pairs = zip(operand[::2], operand[1::2], strict=True)
    return all(_COMPARE[operator](number, Decimal(str(bound))) for operator, bound in pairs)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": lambda prefix, value: isinstance(value, str) and value.startswith(prefix),
    "suffix": lambda suffix, value: isinstance(value, str) and value.endswith(suffix),
    "equals-ignore-case": lambda text, value: isinstance(value, str) and value.casefold() == text.casefold(),
    "numeric": _numeric,
}


def _check(pattern: dict[str, Any]) -> None:
    """Reject what the matcher does not implement, instead of silently matching wrongly."""
    for name, expected in pattern.items():
        if name == "$or":
            if not isinstance(expected, list) or not all(isinstance(branch, dict) for branch in expected):
                raise FilterError('"$or" takes a list of patterns')
            for branch in expected:
                _check(branch)
        elif isinstance(expected, dict):
            _check(expected)
        elif not isinstance(expected, list) or not expected:
            raise FilterError(f"the rules for {name!r} must be a non-empty list")
        else:
            for rule in expected:
                if isinstance(rule, dict):
                    _check_rule(name, rule)


def _check_rule(name: str, rule: dict[str, Any]) -> None:
    known = {"exists", "anything-but", *_OPERATORS}
    if len(rule) != 1 or next(iter(rule)) not in known:
        raise FilterError(f"unsupported filter rule for {name!r}: {json.dumps(rule, default=str)}")
    ((operator, operand),) = rule.items()
    bad_numeric = operator == "numeric" and (
        not isinstance(operand, list)
        or len(operand) not in (2, 4)
        or any(op not in _COMPARE for op in operand[::2])
        or _number(operand[1]) is None
    )
    bad_anything_but = (
        operator == "anything-but"
        and isinstance(operand, dict)
        and (len(operand) != 1 or next(iter(operand)) not in _OPERATORS)
    )
    if bad_numeric or bad_anything_but:
        raise FilterError(f"unsupported {operator} rule for {name!r}: {json.dumps(rule, default=str)}")
