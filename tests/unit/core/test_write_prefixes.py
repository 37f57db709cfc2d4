"""Each function's role writes the failure bucket only where it must (#26).

Lambda writes its on-failure records under ``aws/lambda/``, the logger's handler its oversized
copies under ``oversized/``; ``replayed/`` (the redrive's markers) is written by the operator's
grant alone, so a function cannot make redrive skip a batch by writing a marker for it.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb

from stacks.table_stream_logger import ChangeAlerts, Expires, NewTable, TableStreamLogger
from stacks.table_stream_logger._core.failure_destinations import OVERSIZED_PREFIX
from stacks.table_stream_logger._core.record_formats import PARKED_PREFIX, REPLAYED_PREFIX
from tests.conftest import CDK_CONTEXT

LOGGER_ROLE = "InventoryLoggerRoleCA5AC158"


def _objects(resource: Any) -> str:
    """The key pattern of an ``<bucket ARN>/<pattern>`` resource (Fn::Join of the ARN and a literal)."""
    separator, (_, pattern) = resource["Fn::Join"]
    assert separator == ""
    return str(pattern)


def put_object_patterns(template: assertions.Template) -> dict[str, list[str]]:
    """Each function role's s3:PutObject key patterns, by the role's logical ID."""
    roles = {
        logical_id
        for logical_id, role in template.find_resources("AWS::IAM::Role").items()
        if "lambda.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])
    }
    patterns: dict[str, list[str]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        properties = policy["Properties"]
        (role,) = [role["Ref"] for role in properties["Roles"]]
        if role not in roles:
            continue
        for statement in properties["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "s3:PutObject" in actions:
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                patterns.setdefault(role, []).extend(_objects(resource) for resource in resources)
    return patterns


def test_the_app_functions_write_lambdas_records_and_the_loggers_copies_only(template: assertions.Template) -> None:
    patterns = put_object_patterns(template)

    assert sorted(patterns.pop(LOGGER_ROLE)) == [f"/{PARKED_PREFIX}*", f"/{OVERSIZED_PREFIX}/*"]
    # The alerts' function: Lambda's on-failure records, nothing else.
    assert list(patterns.values()) == [[f"/{PARKED_PREFIX}*"]]
    assert REPLAYED_PREFIX not in str(patterns)


def test_no_function_can_write_a_replayed_marker_in_a_shared_bucket() -> None:
    # GIVEN the alerts beside the logger on its table (the app's shape, outside the app)
    stack = cdk.Stack(cdk.App(context=CDK_CONTEXT), "Shared")
    logger = TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)),
    )
    ChangeAlerts(stack, "Alerts", table=logger.table, rules=[Expires()])
    patterns = put_object_patterns(assertions.Template.from_stack(stack))

    # THEN no pattern of any function reaches replayed/, nor the whole bucket
    written = [pattern for role in patterns.values() for pattern in role]
    assert written and all(pattern in (f"/{PARKED_PREFIX}*", f"/{OVERSIZED_PREFIX}/*") for pattern in written)
