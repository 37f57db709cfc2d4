"""DynamoDB JSON -> plain JSON text, exactly.

Stream records carry attribute values in DynamoDB JSON (``{"N": "0.8"}``). We write
plain JSON *text* straight from them instead of deserializing to Python objects
first: a number stays the literal DynamoDB sent (``0.8``, never ``"0.8"`` and
never a float approximation), and one pass is all the work there is.

Every function raises ``InvalidValue`` with a reason that names the type tag and
where it sits, never the value itself, so error lines cannot leak redacted data.
"""

from __future__ import annotations

import binascii
import re
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring as _json_string  # the C encoder
from typing import Any

REDACTED = '"[REDACTED]"'

# What DynamoDB's TTL process writes as the userIdentity of the REMOVE it makes (the library's
# copy, for the alerts' event filter, is table_stream_logger._core.record_formats.TTL_IDENTITY; a test pins both).
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def is_ttl_deletion(record: dict[str, Any]) -> bool:
    """Whether a stream record is a REMOVE by DynamoDB's TTL process rather than by a user.

    The identity's two members are compared, not the whole object: a member AWS may add
    later does not turn an expiry into a delete.
    """
    identity = record.get("userIdentity")
    return (
        record.get("eventName") == "REMOVE"
        and type(identity) is dict
        and all(identity.get(name) == value for name, value in TTL_IDENTITY.items())
    )


# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99...E+125.
_MAX_DIGITS = 38
_MIN_EXPONENT = -130
_MAX_EXPONENT = 125
_OUT_OF_RANGE = "N value is out of DynamoDB's range (1E-130 to 9.9E+125)"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?").fullmatch
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?").fullmatch
# Plain literals of at most 38 characters cannot break DynamoDB's limits: the hot path.
_SHORT_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?").fullmatch


class InvalidValue(ValueError):
    """An attribute value that is not valid DynamoDB JSON."""

    def __init__(self, reason: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def at(self, segment: str) -> InvalidValue:
        return InvalidValue(self.reason, (segment, *self.path))

    def __str__(self) -> str:
        return self.describe()

    def describe(self, redact: RedactionTree | None = None, prefix: tuple[str, ...] = ()) -> str:
        """The reason and where, safe for a log line: the names below a redacted attribute are
        ``[REDACTED]``, and a name that is not short, printable text is ``?``."""
        where = ".".join(_where(prefix + self.path, redact or {}))
        return f"{where}: {self.reason}" if where else self.reason


_MAX_NAME_CHARS = 100  # names in a reason; DynamoDB's may be 64 KiB


def _where(path: tuple[str, ...], redact: Any) -> list[str]:
    shown = []
    node = redact
    for name in path:
        if node is True:
            shown.append("[REDACTED]")  # a name under a redacted attribute is its data too
            break
        shown.append(name if len(name) <= _MAX_NAME_CHARS and name.isprintable() and _is_unicode(name) else "?")
        child = node.get(name)
        # A list's index: the rule applies to each element (see render_redacted), so it stays.
        node = child if child is not None else node if name.isdigit() else {}
    return shown


def _is_unicode(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def number(text: Any) -> str:
    """Return the JSON literal of a DynamoDB ``N`` value, exact to the last digit."""
    if type(text) is not str:
        raise InvalidValue("N value is not a string")
    # Most numbers are plain integers: str methods are several times cheaper than the pattern.
    if text.isdigit() and text.isascii() and len(text) <= _MAX_DIGITS and (text[0] != "0" or text == "0"):
        return text
    if len(text) <= _MAX_DIGITS and _SHORT_PLAIN_NUMBER(text):
        return text
    if not _NUMBER(text):
        raise InvalidValue("N value is not a number")
    try:
        value = Decimal(text)  # exact: the constructor never rounds
    except InvalidOperation:  # an exponent beyond what Decimal holds (about 10**18)
        raise InvalidValue(_OUT_OF_RANGE) from None
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, as the pattern admits no NaN/Infinity
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    if significant > _MAX_DIGITS:
        raise InvalidValue(f"N value has more than {_MAX_DIGITS} significant digits")
    if any(digits):
        adjusted = exponent + len(digits) - 1
        if not _MIN_EXPONENT <= adjusted <= _MAX_EXPONENT:
            raise InvalidValue(_OUT_OF_RANGE)
    # str() of a finite Decimal is always a valid JSON number ("1E+5", "0.5", "-0").
    return text if _JSON_NUMBER(text) else str(value)


def _bytes(text: Any) -> bytes:
    if type(text) is not str:
        raise InvalidValue("B value is not a base64 string")
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        raise InvalidValue("B value is not valid base64") from None


def _members(value: Any, tag: str) -> list[Any]:
    if type(value) is not list:
        raise InvalidValue(f"{tag} value is not a list")
    return value


def _check_set(identities: list[Any], tag: str) -> None:
    """Refuse the sets DynamoDB cannot hold, as for an out-of-range number.

    DynamoDB rejects an empty set and a set with a repeated member (ValidationException), so
    no stream record carries one: such a record was not written by DynamoDB. Logging it as
    given would show a set DynamoDB never had, and dropping the repeat would change the data;
    the record is reported instead and Lambda parks it whole. Members are the same when their
    values are: numbers by value ("1" and "1.0"), binaries by their bytes.
    """
    if not identities:
        raise InvalidValue(f"{tag} value is an empty set")
    if len(set(identities)) != len(identities):
        raise InvalidValue(f"{tag} value repeats a member")


_NOT_ATTRIBUTE = "not a DynamoDB attribute value (an object with one type tag)"


def render(attribute: Any) -> str:
    """Return the plain JSON text of one DynamoDB attribute value."""
    if type(attribute) is not dict:
        raise InvalidValue(_NOT_ATTRIBUTE)
    try:
        (tag,) = attribute
    except ValueError:
        raise InvalidValue(_NOT_ATTRIBUTE) from None
    value = attribute[tag]
    # The tags in the order of how often items carry them.
    if tag == "S":
        if type(value) is not str:
            raise InvalidValue("S value is not a string")
        return _json_string(value)
    if tag == "N":
        return number(value)
    if tag == "M":
        return render_map(value)
    if tag == "BOOL":
        if type(value) is not bool:
            raise InvalidValue("BOOL value is not a boolean")
        return "true" if value else "false"
    if tag == "L":
        return _render_list(value)
    if tag == "NULL":
        if value is not True:
            raise InvalidValue("NULL value is not true")
        return "null"
    return _render_set_or_binary(tag, value)


def _render_set_or_binary(tag: str, value: Any) -> str:
    """The sets and binaries, after the tags items carry more often: ``render`` stays short."""
    if tag == "SS":
        members = _members(value, tag)
        for member in members:
            if type(member) is not str:
                raise InvalidValue("SS member is not a string")
        _check_set(members, tag)
        return f"[{','.join([_json_string(m) for m in sorted(members)])}]"
    if tag == "NS":
        literals = [number(m) for m in _members(value, tag)]
        _check_set([Decimal(literal) for literal in literals], tag)
        return f"[{','.join(sorted(literals, key=Decimal))}]"
    if tag == "B":
        _bytes(value)
        return _json_string(value)
    if tag == "BS":
        members = _members(value, tag)
        _check_set([_bytes(member) for member in members], tag)
        return f"[{','.join([_json_string(m) for m in sorted(members)])}]"
    raise InvalidValue("unknown type tag (not one of DynamoDB's ten)")  # never echoed: it is input


# Attribute names repeat from record to record: encode each once (bounded, for tables whose
# items carry ever-new names).
_MEMBERS: dict[str, str] = {}


def member(name: str) -> str:
    """``"name":`` as JSON text."""
    text = _MEMBERS.get(name)
    if text is None:
        text = _json_string(name) + ":"
        if len(_MEMBERS) < 10_000:
            _MEMBERS[name] = text
    return text


def render_members(value: Any) -> dict[str, str]:
    """Each attribute of a map (``M``) or item image as ``"name":value`` JSON text, in order."""
    if type(value) is not dict:
        raise InvalidValue("M value is not an object")
    fragments = {}
    for name, attribute in value.items():
        try:
            fragments[name] = (_MEMBERS.get(name) or member(name)) + render(attribute)
        except InvalidValue as error:
            raise error.at(name) from None
    return fragments


def render_map(value: Any) -> str:
    """Return the JSON object text of a DynamoDB map (``M``) or item image.

    The loop of ``render_members`` into a list: nested maps are the most frequent
    container, and a dict for each made rendering an item 13% slower.
    """
    if type(value) is not dict:
        raise InvalidValue("M value is not an object")
    parts = []
    for name, attribute in value.items():
        try:
            parts.append((_MEMBERS.get(name) or member(name)) + render(attribute))
        except InvalidValue as error:
            raise error.at(name) from None
    return f"{{{','.join(parts)}}}"  # one string built, where "{" + ... + "}" builds two


def _render_list(value: Any) -> str:
    parts = []
    for index, element in enumerate(_members(value, "L")):
        try:
            parts.append(render(element))
        except InvalidValue as error:
            raise error.at(str(index)) from None
    return f"[{','.join(parts)}]"


# --- redaction -------------------------------------------------------------------
# A redaction tree maps attribute names to True (redact the whole value) or to a
# subtree for dotted paths: ["email", "card.number"] -> {"email": True, "card": {"number": True}}.
# In a path, "\\." is a dot of the name and "\\\\" a backslash: "card\\.number" is the top-level
# attribute named "card.number".
RedactionTree = dict[str, Any]


def split_path(path: str) -> list[str]:
    """A redaction path's names: split at each dot that is not escaped as ``\\.``."""
    if "\\" not in path:
        return path.split(".")
    names: list[str] = []
    name: list[str] = []
    escaped = False
    for char in path:
        if escaped:
            name.append(char if char in ".\\" else "\\" + char)  # another backslash is itself
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            names.append("".join(name))
            name = []
        else:
            name.append(char)
    names.append("".join(name) + ("\\" if escaped else ""))
    return names


def redaction_tree(paths: list[str]) -> RedactionTree:
    tree: RedactionTree = {}
    for path in paths:
        node = tree
        *parents, leaf = split_path(path)
        for name in parents:
            child = node.get(name)
            if child is True:
                break  # an ancestor is redacted whole already
            node = node.setdefault(name, {})
        else:
            node[leaf] = True
    return tree


def render_redacted(attribute: Any, rule: Any) -> str:
    """Render an attribute under a redaction rule; the value must already be valid."""
    if rule is True:
        return REDACTED
    (tag,) = attribute
    value = attribute[tag]
    if tag == "M":
        parts = []
        for name, child in value.items():
            sub = rule.get(name)
            text = render(child) if sub is None else render_redacted(child, sub)
            parts.append(member(name) + text)
        return "{" + ",".join(parts) + "}"
    if tag == "L":  # a path through a list applies to each of its elements
        return "[" + ",".join([render_redacted(element, rule) for element in value]) + "]"
    # A path into a value that is not a map ("card.number" where card is a string): the value
    # may be what the path meant to hide (a card number written flat), so it is hidden whole.
    return REDACTED
