"""Typed Lambda event filters for DynamoDB stream records.

A :class:`ChangeFilter` becomes one pattern of the event source mapping's ``FilterCriteria``,
built with CDK's ``FilterCriteria.filter`` and ``FilterRule``, so no one writes JSON patterns by
hand. Lambda's semantics (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html):
every condition of one filter must match, and a record reaches the function if it matches any
of the filters. Records that match none are dropped before batching, never retried or parked.

What can be expressed, and why not more:

- ``event_names``: ``{"eventName": ["MODIFY"]}``.
- ``keys_equal``: a string key equals a value, ``{"dynamodb": {"Keys": {"PK": {"S": ["FRUIT"]}}}}``.
- ``new_image_has`` / ``old_image_has``: an attribute exists in the new / old image. Lambda's
  ``exists`` matches leaf values only, and the leaf of a stream record's attribute sits under its
  type tag, so each attribute is named with its tag:
  ``{"dynamodb": {"NewImage": {"Stocks": {"N": [{"exists": true}]}}}}``. An attribute stored with
  another type than the one named does not match. Maps (``M``) and lists (``L``) have no leaf of
  their own, so they cannot be tested this way.
- No numeric comparisons: DynamoDB streams carry numbers as strings (``{"N": "33"}``), and Lambda's
  ``numeric`` operator never matches a string, so ``Stocks < 10`` cannot be a filter. Filter on
  what can be matched (event name, key, presence of an attribute) and compare numbers in the
  handler, or keep a string or boolean attribute (e.g. ``LowStock: true``) for the filter to test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from aws_cdk import aws_lambda as lambda_

EventName = Literal["INSERT", "MODIFY", "REMOVE"]
#: The DynamoDB type tags whose value is a leaf of the record, which ``exists`` can test.
TypeTag = Literal["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS"]

EVENT_NAMES: tuple[str, ...] = get_args(EventName)
TYPE_TAGS: tuple[str, ...] = get_args(TypeTag)
# "By default, you can define up to five different filters for a single event source mapping"
# (Lambda developer guide, event filtering); a quota increase allows up to 10.
MAX_FILTERS = 5


@dataclass(frozen=True)
class ChangeFilter:
    """Which changes reach the function: a record passes when it matches every given condition.

    Give a sequence of filters to ``TableStreamLogger(filters=...)``; a record then passes when it
    matches any of them. At least one condition is required.

    :param event_names: The record's ``eventName`` is one of these: ``"INSERT"``, ``"MODIFY"``,
        ``"REMOVE"``. Default: any.
    :param keys_equal: Key attribute name to the string value it must have (keys of type ``S``),
        e.g. ``{"PK": "FRUIT"}``. Default: any key.
    :param new_image_has: Attribute name to its DynamoDB type tag (``"S"``, ``"N"``, ``"B"``,
        ``"BOOL"``, ``"NULL"``, ``"SS"``, ``"NS"``, ``"BS"``): the attribute must exist in the new
        image with that type, e.g. ``{"Stocks": "N"}``. Needs a stream with new images. A REMOVE
        has no new image, so it never matches. Default: no condition.
    :param old_image_has: The same for the old image. Needs a stream with old images. An INSERT
        has no old image, so it never matches. Default: no condition.
    """

    event_names: Sequence[EventName] = ()
    keys_equal: Mapping[str, str] = field(default_factory=dict)
    new_image_has: Mapping[str, TypeTag] = field(default_factory=dict)
    old_image_has: Mapping[str, TypeTag] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Validate, then keep read-only copies, so that a filter cannot change after it is checked.
        if isinstance(self.event_names, str) or not all(isinstance(name, str) for name in self.event_names):
            raise ValueError(f"event_names must be a list such as ['MODIFY'], got {self.event_names!r}")
        unknown = [name for name in self.event_names if name not in EVENT_NAMES]
        if unknown:
            raise ValueError(f"event_names must be among {list(EVENT_NAMES)}, got {unknown!r}")
        for name, value in _items("keys_equal", self.keys_equal):
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"keys_equal[{name!r}] must be a non-empty string (keys of type S), got {value!r}. "
                    "Numeric keys cannot be filtered on: Lambda's numeric operators do not match DynamoDB's "
                    "string-encoded numbers."
                )
        for prop in ("new_image_has", "old_image_has"):
            for name, tag in _items(prop, getattr(self, prop)):
                if tag not in TYPE_TAGS:
                    raise ValueError(
                        f"{prop}[{name!r}] must be a DynamoDB type tag among {list(TYPE_TAGS)}, got {tag!r}. "
                        "Lambda's exists operator matches leaf values only: a map (M) or a list (L) cannot be "
                        "tested for presence; test one of the item's scalar attributes instead."
                    )
        object.__setattr__(self, "event_names", tuple(self.event_names))
        for prop in ("keys_equal", "new_image_has", "old_image_has"):
            object.__setattr__(self, prop, MappingProxyType(dict(getattr(self, prop))))

        if not (self.event_names or self.keys_equal or self.new_image_has or self.old_image_has):
            raise ValueError(
                "ChangeFilter() has no condition and would let every record through; give at least one "
                "(event_names, keys_equal, new_image_has, old_image_has), or give no filters at all."
            )
        names = set(self.event_names)
        if self.new_image_has and names == {"REMOVE"}:
            raise ValueError("new_image_has can never match a REMOVE, which has no new image; use old_image_has.")
        if self.old_image_has and names == {"INSERT"}:
            raise ValueError("old_image_has can never match an INSERT, which has no old image; use new_image_has.")

    def pattern(self) -> dict[str, Any]:
        """The filter pattern as Lambda reads it, e.g. ``{"eventName": ["MODIFY"], "dynamodb": {...}}``."""
        pattern: dict[str, Any] = {}
        if self.event_names:
            pattern["eventName"] = lambda_.FilterRule.or_(*self.event_names)
        data: dict[str, Any] = {}
        if self.keys_equal:
            data["Keys"] = {name: {"S": lambda_.FilterRule.is_equal(value)} for name, value in self.keys_equal.items()}
        for image, has in (("NewImage", self.new_image_has), ("OldImage", self.old_image_has)):
            for name, tag in has.items():
                data.setdefault(image, {}).update(image_condition((name,), tag, lambda_.FilterRule.exists()))
        if data:
            pattern["dynamodb"] = data
        return pattern

    def to_filter(self) -> Mapping[str, Any]:
        """This filter as an item of ``DynamoEventSource(filters=...)``: ``{"pattern": "<JSON>"}``."""
        return lambda_.FilterCriteria.filter(self.pattern())


def image_condition(path: Sequence[str], tag: str, rule: Any) -> dict[str, Any]:
    """The condition on one attribute of an image, at a dotted path through maps.

    ``(("Price", "USD"), "N", rule)`` gives ``{"Price": {"M": {"USD": {"N": rule}}}}``: Lambda
    matches leaves only, and a map's members sit under its ``M`` tag.
    """
    condition: dict[str, Any] = {path[-1]: {tag: rule}}
    for name in reversed(path[:-1]):
        condition = {name: {"M": condition}}
    return condition


def check_filters(filters: Sequence[ChangeFilter]) -> tuple[ChangeFilter, ...]:
    """Check the ``filters`` prop of the construct; return them as a tuple."""
    if isinstance(filters, ChangeFilter) or not isinstance(filters, Sequence) or isinstance(filters, str):
        raise ValueError(f"filters must be a list of ChangeFilter, got {filters!r}")
    wrong = [one for one in filters if not isinstance(one, ChangeFilter)]
    if wrong:
        raise ValueError(
            f"filters must be ChangeFilter objects, got {wrong[0]!r}; e.g. ChangeFilter(event_names=['MODIFY'])."
        )
    if len(filters) > MAX_FILTERS:
        raise ValueError(
            f"{len(filters)} filters were given; Lambda allows {MAX_FILTERS} per event source mapping by default. "
            "Merge filters (event_names takes several names), or filter the rest in the handler."
        )
    return tuple(filters)


def _items(prop: str, mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{prop} must be a mapping of attribute names, got {mapping!r}")
    items = list(mapping.items())
    for name, _ in items:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{prop} must map non-empty attribute names, got {name!r}")
    return items
