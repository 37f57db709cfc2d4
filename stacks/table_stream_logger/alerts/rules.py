"""Typed alert rules for ``ChangeAlerts``: what change of an item is worth a notification.

Each rule is checked when it is made (a clear error at synth, never a function that fails at
run time), becomes one rule of the function's ``ALERT_RULES`` (lambda/change_alerts.py, which
evaluates it exactly), and one pattern of the event source mapping's filter, the tightest Lambda
can match, so that the function is invoked only for candidates:

==================  ==========================================================================
rule                filter pattern
==================  ==========================================================================
``RisesAbove``      ``eventName`` INSERT or MODIFY, and the attribute is a number (``N``) in
``FallsToOrBelow``  the new image. The comparison itself happens in the function: streams
                    carry numbers as strings, which Lambda's ``numeric`` filters never match.
``Becomes``         ``eventName`` INSERT or MODIFY, and the attribute in the new image equals
                    the value (strings and booleans) or has its type (numbers, binaries).
``Expires``         ``eventName`` REMOVE by DynamoDB's TTL process: ``userIdentity`` type
                    ``Service``, principal ``dynamodb.amazonaws.com``.
==================  ==========================================================================

A change rule fires when the condition holds for the new value and did not hold for the old one
(absent, another type, or another value): ``RisesAbove("Stocks", 0)`` fires for ``0 → 5`` and
for an item that gains ``Stocks: 5``, not for ``3 → 5``. It needs both images of each change, a
``NEW_AND_OLD_IMAGES`` stream; ``Expires`` needs none.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from aws_cdk import aws_lambda as lambda_

from .._core.record_formats import TTL_IDENTITY
from ..filters import MAX_FILTERS, EventName, image_condition

# DynamoDB numbers: up to 38 significant digits.
MAX_DIGITS = 38
CHANGE_EVENTS: tuple[EventName, ...] = ("INSERT", "MODIFY")


@dataclass(frozen=True)
class AlertRule:
    """What all rules share: a ``name`` for subscribers' filter policies, a ``title`` for people.

    Use one of the rules below; this class is not a rule of its own.
    """

    #: The images of each change that the rule reads ("new", "old").
    images_needed: ClassVar[frozenset[str]] = frozenset({"new", "old"})

    def __post_init__(self) -> None:
        if type(self) is AlertRule:
            raise TypeError("AlertRule is the base of the rules: use RisesAbove, FallsToOrBelow, Becomes or Expires.")

    @property
    def rule_name(self) -> str:
        """The ``rule`` message attribute of each notification."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The rule as lambda/change_alerts.py reads it from ``ALERT_RULES``."""
        raise NotImplementedError

    def pattern(self) -> dict[str, Any]:
        """The tightest Lambda filter pattern for the records this rule may fire for."""
        raise NotImplementedError

    def to_filter(self) -> dict[str, Any]:
        """This rule's pattern as an item of ``DynamoEventSource(filters=...)``."""
        return dict(lambda_.FilterCriteria.filter(self.pattern()))


@dataclass(frozen=True)
class _ChangeRule(AlertRule):
    """A rule on one attribute's value, before and after a change."""

    attribute: str
    name: str | None = field(default=None, kw_only=True)
    title: str | None = field(default=None, kw_only=True)
    include_inserts: bool = field(default=True, kw_only=True)

    kind: ClassVar[str]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.attribute, str) or not self.attribute or not all(self.attribute.split(".")):
            raise ValueError(
                f"{type(self).__name__} needs the attribute to watch: a name or a dotted path into maps "
                f"such as 'Price.USD', got {self.attribute!r}"
            )
        _check_text(self, "name", self.name)
        _check_text(self, "title", self.title)
        if not isinstance(self.include_inserts, bool):
            raise ValueError(f"include_inserts must be True or False, got {self.include_inserts!r}")

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.attribute.split("."))

    @property
    def event_names(self) -> tuple[EventName, ...]:
        return CHANGE_EVENTS if self.include_inserts else ("MODIFY",)

    @property
    def rule_name(self) -> str:
        return self.name or _slug(f"{self.attribute}-{self.kind.replace('_', '-')}-{self._operand_text()}")

    def _default_title(self) -> str:
        raise NotImplementedError

    def _operand_text(self) -> str:
        raise NotImplementedError

    def _new_image_condition(self) -> dict[str, Any]:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {
            "name": self.rule_name,
            "kind": self.kind,
            "title": self.title or self._default_title(),
            "attribute": self.attribute,
            "event_names": list(self.event_names),
        }

    def pattern(self) -> dict[str, Any]:
        return {
            "eventName": lambda_.FilterRule.or_(*self.event_names),
            "dynamodb": {"NewImage": self._new_image_condition()},
        }


@dataclass(frozen=True)
class _ThresholdRule(_ChangeRule):
    threshold: int | Decimal | str = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "threshold", _number(type(self).__name__, self.threshold))

    def _operand_text(self) -> str:
        return str(self.threshold)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "threshold": str(self.threshold)}

    def _new_image_condition(self) -> dict[str, Any]:
        return image_condition(self.path, "N", lambda_.FilterRule.exists())


@dataclass(frozen=True)
class RisesAbove(_ThresholdRule):
    """A number attribute rises above a threshold: it is above it now, and was not before.

    ``RisesAbove("Stocks", 0, title="Back in stock")`` fires for ``Stocks`` 0 → 5, -2 → 1 and
    (absent) → 5; not for 3 → 5, 0 → 0 or a value that is not a number.

    :param attribute: The attribute's name, or a dotted path into maps (``"Price.USD"``).
    :param threshold: An ``int``, ``Decimal`` or numeric string; compared exactly, never as a
        float. Default: 0.
    :param name: The ``rule`` message attribute. Default: e.g. ``"Stocks-rises-above-0"``.
    :param title: The start of each subject. Default: e.g. ``"Stocks rose above 0"``.
    :param include_inserts: Also fire for a new item (INSERT) that is above the threshold.
        Default: ``True``; ``False`` fires for changes of existing items only, and the filter
        then lets MODIFY records through only.
    """

    kind: ClassVar[str] = "rises_above"

    def _default_title(self) -> str:
        return f"{self.attribute} rose above {self.threshold}"


@dataclass(frozen=True)
class FallsToOrBelow(_ThresholdRule):
    """A number attribute falls to or below a threshold: it is at or below it now, and was not before.

    ``FallsToOrBelow("Stocks", 5, title="Low stock")`` fires for 6 → 5 and 9 → 0; not for 5 → 4.
    Parameters as for :class:`RisesAbove`; default name e.g. ``"Stocks-falls-to-or-below-5"``.
    """

    kind: ClassVar[str] = "falls_to_or_below"

    def _default_title(self) -> str:
        return f"{self.attribute} fell to {self.threshold} or below"


# Python values that a Becomes rule compares with, and their DynamoDB type tags.
_VALUE_TAGS = "str (S), int or Decimal (N), bool (BOOL), bytes (B) or None (NULL)"


@dataclass(frozen=True)
class Becomes(_ChangeRule):
    """An attribute becomes a value: it equals it now, and did not before.

    ``Becomes("Status", "LEAVING_SOON", title="Leaving soon")``. Numbers compare as numbers
    (5 equals 5.0); other types compare exactly, type included (the string ``"5"`` is not 5).

    :param attribute: The attribute's name, or a dotted path into maps.
    :param value: A ``str`` (S), ``int`` or ``Decimal`` (N), ``bool`` (BOOL), ``bytes`` (B) or
        ``None`` (NULL).
    :param name: Default: e.g. ``"Status-becomes-LEAVING-SOON"``.
    :param title: Default: e.g. ``"Status became LEAVING_SOON"``.
    :param include_inserts: Also fire for a new item with that value. Default: ``True``.
    """

    value: str | int | Decimal | bool | bytes | None
    kind: ClassVar[str] = "becomes"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.attribute_value()  # checks the value

    def attribute_value(self) -> dict[str, Any]:
        """The value in DynamoDB JSON, e.g. ``{"S": "LEAVING_SOON"}``."""
        value = self.value
        if value is None:
            return {"NULL": True}
        if isinstance(value, bool):
            return {"BOOL": value}
        if isinstance(value, str):
            return {"S": value}
        if isinstance(value, int | Decimal):
            return {"N": str(_number("Becomes", value))}
        if isinstance(value, bytes):
            return {"B": base64.b64encode(value).decode("ascii")}
        raise ValueError(
            f"Becomes({self.attribute!r}, ...) cannot compare with a {type(value).__name__}: give a {_VALUE_TAGS}. "
            "Lists, maps and sets cannot be watched as a whole; watch one of their members with a dotted path."
        )

    def _operand_text(self) -> str:
        (text,) = (str(item) for item in self.attribute_value().values())
        return text

    def _default_title(self) -> str:
        return f"{self.attribute} became {self._operand_text()}"

    def config(self) -> dict[str, Any]:
        return {**super().config(), "value": self.attribute_value()}

    def _new_image_condition(self) -> dict[str, Any]:
        ((tag, value),) = self.attribute_value().items()
        # Lambda matches strings and booleans exactly; a number is a string in the record (5 is
        # also "5.0"), a binary is base64: only their presence can be filtered on.
        rule = lambda_.FilterRule.is_equal(value) if tag in ("S", "BOOL", "NULL") else lambda_.FilterRule.exists()
        return image_condition(self.path, tag, rule)


@dataclass(frozen=True)
class Expires(AlertRule):
    """An item expires through TTL: DynamoDB's TTL process removes it (a delete does not fire).

    The message carries the item's last image when the stream has old images.

    :param name: Default: ``"expired"``.
    :param title: Default: ``"Expired"``.
    """

    name: str | None = None
    title: str | None = None

    images_needed: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_text(self, "name", self.name)
        _check_text(self, "title", self.title)

    @property
    def rule_name(self) -> str:
        return self.name or "expired"

    def config(self) -> dict[str, Any]:
        return {"name": self.rule_name, "kind": "expires", "title": self.title or "Expired"}

    def pattern(self) -> dict[str, Any]:
        return {
            "eventName": lambda_.FilterRule.is_equal("REMOVE"),
            "userIdentity": {name: lambda_.FilterRule.is_equal(value) for name, value in TTL_IDENTITY.items()},
        }


def check_rules(rules: Sequence[AlertRule]) -> tuple[AlertRule, ...]:
    """Check the ``rules`` prop of ``ChangeAlerts``; return them as a tuple."""
    if isinstance(rules, AlertRule | str) or not isinstance(rules, Sequence):
        raise ValueError(f"rules must be a list of alert rules, e.g. [RisesAbove('Stocks', 0)], got {rules!r}")
    if not rules:
        raise ValueError("ChangeAlerts needs at least one rule, e.g. rules=[RisesAbove('Stocks', 0)].")
    wrong = [rule for rule in rules if not isinstance(rule, AlertRule)]
    if wrong:
        raise ValueError(
            f"rules must be RisesAbove, FallsToOrBelow, Becomes or Expires objects, got {wrong[0]!r}; "
            "e.g. RisesAbove('Stocks', 0)."
        )
    if len(rules) > MAX_FILTERS:
        raise ValueError(
            f"{len(rules)} rules were given; each is one event filter, and Lambda allows {MAX_FILTERS} per event "
            "source mapping by default. Use a second ChangeAlerts for the rest (it reads the stream too: mind "
            "DynamoDB's two readers per shard)."
        )
    names = [rule.rule_name for rule in rules]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"Two rules have the name {repeated[0]!r}: give each its own name=..., so that subscribers can tell "
            "their notifications apart."
        )
    return tuple(rules)


def _number(rule: str, value: Any) -> Decimal:
    """A threshold or value as an exact Decimal, within what DynamoDB stores."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        hint = " (a float is not exact: write Decimal('0.1') or '0.1')" if isinstance(value, float) else ""
        raise ValueError(f"{rule} needs an int, a Decimal or a numeric string, got {value!r}{hint}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{rule} needs a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{rule} needs a finite number, got {value!r}")
    # as_tuple(), not normalize(): normalize() rounds to the context's 28 digits.
    digits = number.as_tuple().digits
    significant = "".join(map(str, digits)).strip("0")
    if len(significant) > MAX_DIGITS:
        raise ValueError(f"{rule}: {value!r} has more than DynamoDB's {MAX_DIGITS} significant digits")
    if significant and not -130 <= number.adjusted() <= 125:
        raise ValueError(f"{rule}: {value!r} is out of DynamoDB's range (1E-130 to 9.9E+125)")
    return number


def _check_text(rule: AlertRule, prop: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{type(rule).__name__}'s {prop} must be a non-empty string, got {value!r}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")
