"""The ChangeAlerts construct: its topic, function, mapping, policy and alarms, and its checks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from stacks.table_stream_logger import (
    Becomes,
    ChangeAlerts,
    Expires,
    FailureOptions,
    LogLevel,
    LogOptions,
    Monitoring,
    RisesAbove,
    StreamReading,
)
from tests.conftest import CDK_CONTEXT

NewStack = Callable[[], cdk.Stack]
PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING)
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
RULES = [RisesAbove("Stocks", 0, name="back-in-stock", title="Back in stock"), Expires()]


def table(
    stack: cdk.Stack, view: dynamodb.StreamViewType = dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
) -> dynamodb.Table:
    return dynamodb.Table(stack, "Inventory", partition_key=PK, sort_key=SK, stream=view)


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((name, resource),) = resources(template, resource_type).items()
    return name, resource["Properties"]


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """A table of the app watched by ChangeAlerts with its defaults: the topic and bucket it builds."""
    stack = cdk.Stack(cdk.App(context=CDK_CONTEXT), "Shop")
    ChangeAlerts(stack, "Alerts", table=table(stack), rules=RULES)
    return dict(assertions.Template.from_stack(stack).to_json())


def test_the_policy_is_exactly_what_the_function_needs(built: dict[str, Any]) -> None:
    log_group, _ = only(built, "AWS::Logs::LogGroup")
    topic, _ = only(built, "AWS::SNS::Topic")
    bucket, _ = only(built, "AWS::S3::Bucket")
    table_id, _ = only(built, "AWS::DynamoDB::Table")
    role, _ = only(built, "AWS::IAM::Role")

    _, policy = only(built, "AWS::IAM::Policy")
    assert policy["Roles"] == [{"Ref": role}]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow", "Resource": get_att(log_group)},
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic}},
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [get_att(bucket), "/aws/lambda/*"]]},
        },
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(bucket)},
        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"},
        {
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Effect": "Allow",
            "Resource": get_att(table_id, "StreamArn"),
        },
    ]
    _, role_properties = only(built, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role_properties


def test_the_topic_is_encrypted_and_refuses_requests_without_tls(built: dict[str, Any]) -> None:
    topic, properties = only(built, "AWS::SNS::Topic")
    _, topic_policy = only(built, "AWS::SNS::TopicPolicy")

    assert properties == {"DisplayName": "Change alerts", "KmsMasterKeyId": "alias/aws/sns"}
    assert topic_policy["Topics"] == [{"Ref": topic}]
    assert topic_policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "sns:Publish",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": "*",
            "Resource": {"Ref": topic},
            "Sid": "AllowPublishThroughSSLOnly",
        }
    ]


def test_the_function_gets_its_rules_topic_and_keys(built: dict[str, Any]) -> None:
    topic, _ = only(built, "AWS::SNS::Topic")
    _, function = only(built, "AWS::Lambda::Function")

    assert (function["Handler"], function["Runtime"], function["Architectures"]) == (
        "change_alerts.handler",
        "python3.14",
        ["arm64"],
    )
    variables = function["Environment"]["Variables"]
    assert json.loads(variables.pop("ALERT_RULES")) == [rule.config() for rule in RULES]
    assert variables == {
        "POWERTOOLS_SERVICE_NAME": "change-alerts",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "TOPIC_ARN": {"Ref": topic},
        "REDACT_ATTRIBUTES": "[]",
        "KEY_ATTRIBUTES": '["PK","SK"]',
    }


def test_include_image_asks_the_function_for_the_image_and_is_off_by_default(new_stack: NewStack) -> None:
    stack = new_stack()
    ChangeAlerts(stack, "Alerts", table=table(stack), rules=RULES, include_image=True)

    _, function = only(dict(assertions.Template.from_stack(stack).to_json()), "AWS::Lambda::Function")

    assert function["Environment"]["Variables"]["INCLUDE_IMAGE"] == "true"


@pytest.mark.parametrize(
    ("log_level", "lambda_level"), [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("WARN", "INFO"), ("ERROR", "INFO")]
)
def test_lambda_filters_at_info_or_below_and_the_handler_applies_log_level(
    new_stack: NewStack, log_level: LogLevel, lambda_level: str
) -> None:
    stack = new_stack()
    ChangeAlerts(stack, "Alerts", table=table(stack), rules=RULES, log=LogOptions(level=log_level))

    _, function = only(dict(assertions.Template.from_stack(stack).to_json()), "AWS::Lambda::Function")
    assert function["LoggingConfig"]["ApplicationLogLevel"] == lambda_level
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == log_level


def test_the_mapping_lets_through_only_candidates_and_reports_item_failures(built: dict[str, Any]) -> None:
    function, _ = only(built, "AWS::Lambda::Function")
    bucket, _ = only(built, "AWS::S3::Bucket")
    table_id, _ = only(built, "AWS::DynamoDB::Table")

    _, mapping = only(built, "AWS::Lambda::EventSourceMapping")
    assert mapping == {
        "BatchSize": 100,
        "BisectBatchOnFunctionError": True,
        "DestinationConfig": {"OnFailure": {"Destination": get_att(bucket)}},
        "EventSourceArn": get_att(table_id, "StreamArn"),
        "FilterCriteria": {
            "Filters": [
                {
                    "Pattern": '{"eventName":["INSERT","MODIFY"],'
                    '"dynamodb":{"NewImage":{"Stocks":{"N":[{"exists":true}]}}}}'
                },
                {
                    "Pattern": '{"eventName":["REMOVE"],'
                    '"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}'
                },
            ]
        },
        "FunctionName": {"Ref": function},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumBatchingWindowInSeconds": 1,
        "MaximumRecordAgeInSeconds": 21600,
        "MaximumRetryAttempts": 10,
        "MetricsConfig": {"Metrics": ["EventCount"]},
        "ParallelizationFactor": 1,
        "StartingPosition": "TRIM_HORIZON",
    }


def test_alarms_watch_this_consumer(built: dict[str, Any]) -> None:
    function, _ = only(built, "AWS::Lambda::Function")
    alarms = {
        r["Properties"]["MetricName"]: r["Properties"] for r in resources(built, "AWS::CloudWatch::Alarm").values()
    }

    assert sorted(alarms) == sorted(
        ["IteratorAge", "Errors", "Throttles", "OnFailureDestinationDeliveredEventCount", "DroppedEventCount"]
    )
    assert alarms["Errors"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    mapping, _ = only(built, "AWS::Lambda::EventSourceMapping")
    assert alarms["DroppedEventCount"]["Dimensions"] == [{"Name": "EventSourceMappingUUID", "Value": {"Ref": mapping}}]


def test_a_given_topic_with_a_customer_managed_key_gets_that_key_granted(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Mine", master_key=key, enforce_ssl=True)
    shared = ChangeAlerts(stack, "Alerts", table=table(stack), rules=RULES, monitoring=Monitoring(alarms=False))
    alerts = ChangeAlerts(
        stack,
        "Alerts2",
        table=shared.table,
        rules=RULES,
        topic=topic,
        reading=StreamReading(batch_size=10, starting_position=cdk.aws_lambda.StartingPosition.LATEST),
        failure=FailureOptions(destination=shared.failure_destination),
        monitoring=Monitoring(alarms=False),
    )
    template = dict(assertions.Template.from_stack(stack).to_json())
    key_id = stack.get_logical_id(key.node.default_child)  # type: ignore[arg-type]
    policy_id = stack.get_logical_id(alerts.role.node.find_child("DefaultPolicy").node.default_child)  # type: ignore[arg-type]

    statements = template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    assert statements[1:3] == [
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": stack.resolve(topic.topic_arn)["Ref"]}},
        {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": get_att(key_id)},
    ]
    assert alerts.topic is topic
    assert len(resources(template, "AWS::SNS::Topic")) == 2  # the given one and the first construct's
    assert len(resources(template, "AWS::S3::Bucket")) == 1  # shared
    assert resources(template, "AWS::CloudWatch::Alarm") == {}
    mapping_id = stack.get_logical_id(alerts.event_source_mapping.node.default_child)  # type: ignore[arg-type]
    mapping = template["Resources"][mapping_id]["Properties"]
    assert (mapping["BatchSize"], mapping["StartingPosition"]) == (10, "LATEST")
    assert "MetricsConfig" not in mapping


# --- checks at synth ------------------------------------------------------------------------


def test_rules_that_compare_values_need_both_images(new_stack: NewStack) -> None:
    stack = new_stack()
    keys_only = table(stack, dynamodb.StreamViewType.KEYS_ONLY)

    with pytest.raises(ValueError, match=r"The rule 'Status-becomes-GONE' \(Becomes\) compares the old and the new"):
        ChangeAlerts(stack, "Alerts", table=keys_only, rules=[Expires(), Becomes("Status", "GONE")])
    with pytest.raises(ValueError, match=r"is NEW_IMAGE\. Give the table a NEW_AND_OLD_IMAGES stream"):
        ChangeAlerts(
            stack,
            "Alerts",
            table=dynamodb.Table.from_table_attributes(
                stack, "Orders", table_name="orders", table_stream_arn=STREAM_ARN
            ),
            stream_view_type=dynamodb.StreamViewType.NEW_IMAGE,
            rules=[RisesAbove("Stocks", 0)],
        )
    # An expiry needs no image: any stream will do.
    ChangeAlerts(stack, "Expiries", table=keys_only, rules=[Expires()])


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (lambda: {"rules": []}, "at least one rule"),
        (lambda: {"log": LogOptions(level="LOUD")}, "log.level must be one of"),  # type: ignore[arg-type]
        (lambda: {"redact": "Stocks"}, "redact must be a list"),
        (
            lambda: {"monitoring": Monitoring(alarms=False, alarm_action=object())},  # type: ignore[arg-type]
            "monitoring.alarm_action was given with monitoring.alarms=False",
        ),
        (
            lambda: {"failure": FailureOptions(destination_type="SNS")},  # type: ignore[arg-type]
            "failure.destination_type must be one of",
        ),
        (lambda: {"reading": True}, r"^reading takes StreamReading\(...\), got True$"),
    ],
)
def test_bad_props_are_a_clear_error_before_anything_is_built(
    new_stack: NewStack, props: Callable[[], dict[str, Any]], message: str
) -> None:
    stack = new_stack()
    inventory = table(stack)

    with pytest.raises(ValueError, match=message):
        ChangeAlerts(stack, "Alerts", table=inventory, **{"rules": RULES, **props()})
    assert stack.node.try_find_child("Alerts") is None


def test_a_table_without_a_stream_is_a_clear_error(new_stack: NewStack) -> None:
    stack = new_stack()
    without = dynamodb.Table(stack, "NoStream", partition_key=PK)

    with pytest.raises(ValueError, match=r"has no stream\. Enable a NEW_AND_OLD_IMAGES stream"):
        ChangeAlerts(stack, "Alerts", table=without, rules=RULES)


def test_stream_reading_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^reading\.batch_size must be between 1 and 10000, got 0$"):
        StreamReading(batch_size=0)


def _alerts_redaction(template: Mapping[str, Any]) -> list[str]:
    functions = resources(dict(template), "AWS::Lambda::Function")
    (alerts,) = [f for f in functions.values() if "ALERT_RULES" in f["Properties"]["Environment"]["Variables"]]
    redact: list[str] = json.loads(alerts["Properties"]["Environment"]["Variables"]["REDACT_ATTRIBUTES"])
    return redact


@pytest.mark.parametrize("alerts_first", [False, True])
def test_the_alerts_redact_what_the_logger_of_their_table_redacts(alerts_first: bool) -> None:
    # GIVEN a logger that redacts customer.email, and alerts on the same table with a rule of their own
    from stacks.table_stream_logger import TableStreamLogger

    stack = cdk.Stack(cdk.App(context=CDK_CONTEXT), "Shop")
    inventory = table(stack)

    def alerts() -> None:
        ChangeAlerts(stack, "Alerts", table=inventory, rules=RULES, redact=["Supplier", "customer.email"])

    if alerts_first:
        alerts()
    logger = TableStreamLogger(stack, "Logger", table=inventory, redact=["customer.email", "card\\.number"])
    if not alerts_first:
        alerts()

    # THEN the alerts' handler redacts both lists (each path once), whichever was built first
    assert _alerts_redaction(assertions.Template.from_stack(stack).to_json()) == [
        "Supplier",
        "customer.email",
        "card\\.number",
    ]
    assert logger.redact == ("customer.email", "card\\.number")


def test_the_alerts_inherit_the_redaction_of_a_logger_on_the_same_imported_table() -> None:
    from stacks.table_stream_logger import TableStreamLogger

    app = cdk.App(context=CDK_CONTEXT)
    logs_stack, alerts_stack = cdk.Stack(app, "Logs"), cdk.Stack(app, "Alerts")
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    for stack, name in ((logs_stack, "A"), (alerts_stack, "B")):
        imported = dynamodb.Table.from_table_attributes(stack, name, table_arn=arn, table_stream_arn=STREAM_ARN)
        if stack is logs_stack:
            TableStreamLogger(stack, "Logger", table=imported, redact=["email"])
        else:
            ChangeAlerts(stack, "Alerts", table=imported, rules=RULES)
    other = cdk.Stack(app, "Other")
    other_table = dynamodb.Table.from_table_attributes(
        other, "C", table_arn=arn.replace("orders", "users"), table_stream_arn=STREAM_ARN.replace("orders", "users")
    )
    ChangeAlerts(other, "Alerts", table=other_table, rules=RULES)

    assert _alerts_redaction(assertions.Template.from_stack(alerts_stack).to_json()) == ["email"]
    assert _alerts_redaction(assertions.Template.from_stack(other).to_json()) == []  # another table
