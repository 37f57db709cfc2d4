"""CloudWatch Logs Insights queries for the questions the README answers, saved with the log group.

Each query is written against the handler's line (lambda/stream_logger.py). The history of one
item takes its key as the saved query's parameters (``{{PK}}``); other values to fill in are in
capitals (``ATTRIBUTE``): Insights runs a query as it is saved, so the
placeholders are valid syntax that matches nothing until they are replaced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

# Replaced by an attribute's name in the queries about one attribute.
ATTRIBUTE = "ATTRIBUTE"


def _key_fields(key_names: Sequence[str] | None) -> list[str]:
    """The line's key fields, or its message (which names the key) when the key names are unknown."""
    return [f"keys.{name}" for name in key_names] if key_names else ["message"]


def history_index_fields(key_names: Sequence[str] | None, redact: Sequence[str] = ()) -> list[str]:
    """The fields of the log group's field index policy: the key fields a history query filters on
    (``filterIndex``), then ``event_name``. A redacted key is not indexed: every line says
    ``[REDACTED]`` there."""
    covered = {path.split(".", 1)[0] for path in redact}
    return [f"keys.{name}" for name in key_names or () if name not in covered] + ["event_name"]


# A saved query's parameter: referenced as {{name}} in its query string (Logs Insights QL).
PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_placeholder(name: str) -> str:
    """Where a key's value goes in the history query: the saved query's parameter ``{{PK}}``, or
    ``PK_VALUE`` to replace by hand for a key name a parameter cannot have."""
    return f"{{{{{name}}}}}" if PARAMETER_NAME.fullmatch(name) else f"{name.upper()}_VALUE"


def history_parameters(key_names: Sequence[str] | None) -> list[dict[str, str]]:
    """The history query's parameters, one per key attribute that can be one."""
    return [
        {"Name": name, "Description": f"the item's {name}"}
        for name in key_names or ()
        if PARAMETER_NAME.fullmatch(name)
    ]


def item_history(key_names: Sequence[str] | None) -> logs.QueryString:
    """Every change to one item, oldest first."""
    if key_names:
        match = " and ".join(f'keys.{name} = "{key_placeholder(name)}"' for name in key_names)
    else:
        match = '@message like /"keys":\\{[^}]*"KEY_VALUE"/'
    return logs.QueryString(
        fields=["@timestamp", "message", "sequence_number"],
        filter_statements=[match],
        sort="@timestamp asc",
    )


def attribute_changes(key_names: Sequence[str] | None) -> logs.QueryString:
    """Every change of one attribute, in any item: `changed` names it."""
    return logs.QueryString(
        fields=["@timestamp", *_key_fields(key_names), f"changes.{ATTRIBUTE}.old", f"changes.{ATTRIBUTE}.new"],
        filter_statements=[f'event_name = "MODIFY" and @message like /"changed":\\[[^\\]]*"{ATTRIBUTE}"/'],
        sort="@timestamp desc",
    )


def failed_records() -> logs.QueryString:
    """The records that could not be processed, and why (never their values)."""
    return logs.QueryString(
        fields=["@timestamp", "sequence_number", "event_id", "reason", "request_id"],
        filter_statements=['level = "ERROR"'],
        sort="@timestamp desc",
    )


def changes_per_minute() -> logs.QueryString:
    """How many changes, per minute and event name."""
    return logs.QueryString(
        filter_statements=["ispresent(event_name)"], stats_statements=["count(*) as changes by bin(1m), event_name"]
    )


def ttl_expiries(key_names: Sequence[str] | None) -> logs.QueryString:
    """The items DynamoDB's TTL deleted (told apart from deletes by a user)."""
    return logs.QueryString(
        fields=["@timestamp", *_key_fields(key_names), "approximate_creation_time"],
        filter_statements=["ispresent(ttl_expired)"],
        sort="@timestamp desc",
    )


def all_queries(key_names: Sequence[str] | None) -> dict[str, logs.QueryString]:
    """The saved queries by name."""
    return {
        "History of one item": item_history(key_names),
        "Changes of one attribute": attribute_changes(key_names),
        "Failed records": failed_records(),
        "Changes per minute": changes_per_minute(),
        "TTL expiries": ttl_expiries(key_names),
    }


def save_queries(
    scope: Construct, log_group: logs.ILogGroup, key_names: Sequence[str] | None
) -> list[logs.QueryDefinition]:
    """One saved query per question, scoped to ``log_group``, in a folder named after the construct.

    A "/" in a query's name makes a folder in the CloudWatch console: ``<stack>/<construct>/``.
    """
    folder = f"{Stack.of(scope).stack_name}/{scope.node.id}"
    saved = {
        name: logs.QueryDefinition(
            scope,
            f"Query{name.title().replace(' ', '')}",
            query_definition_name=f"{folder}/{name}",
            query_string=query,
            log_groups=[log_group],
        )
        for name, query in all_queries(key_names).items()
    }
    parameters = history_parameters(key_names)
    if parameters:
        # The L2 QueryDefinition has no parameters (aws-cdk-lib 2.275): the console asks for the key.
        history = saved["History of one item"].node.default_child
        assert isinstance(history, logs.CfnQueryDefinition)
        history.add_property_override("Parameters", parameters)
    return list(saved.values())
