"""The InventoryStack's alerts (back in stock, listing expired): the tutorial's use cases, as the app deploys them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from stacks.settings import AppSettings
from tests.conftest import build_inventory_app
from tests.unit.app.test_inventory_stack import (
    ALERTS_FUNCTION,
    ALERTS_LOG_GROUP,
    ALERTS_MAPPING,
    ALERTS_TOPIC,
    BUCKET,
    TABLE,
    get_att,
    objects_of,
    ref,
)

ALERTS_POLICY = "InventoryAlertsRoleDefaultPolicyAC663909"
ALERTS_ROLE = "InventoryAlertsRoleEBA478F1"


def test_the_alerts_read_the_table_stream_for_restocks_and_ttl_deletions_only(template: assertions.Template) -> None:
    mapping = template.find_resources("AWS::Lambda::EventSourceMapping")[ALERTS_MAPPING]["Properties"]

    assert mapping["EventSourceArn"] == get_att(TABLE, "StreamArn")
    assert mapping["FunctionName"] == ref(ALERTS_FUNCTION)
    # Parked with the logger's batches, in the one failure bucket.
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": get_att(BUCKET, "Arn")}}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert [json.loads(item["Pattern"]) for item in mapping["FilterCriteria"]["Filters"]] == [
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"Stocks": {"N": [{"exists": True}]}}}},
        # A REMOVE by DynamoDB's TTL process: a delete by the shop never reaches the function.
        {"eventName": ["REMOVE"], "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
    ]


def test_the_alerts_function_publishes_back_in_stock_and_listing_expired(template: assertions.Template) -> None:
    function = template.find_resources("AWS::Lambda::Function")[ALERTS_FUNCTION]["Properties"]
    variables = function["Environment"]["Variables"]

    assert function["Handler"] == "change_alerts.handler"
    assert variables["TOPIC_ARN"] == ref(ALERTS_TOPIC)
    assert variables["KEY_ATTRIBUTES"] == '["PK","SK"]'
    assert json.loads(variables["ALERT_RULES"]) == [
        {
            "name": "back-in-stock",
            "kind": "rises_above",
            "title": "Back in stock",
            "attribute": "Stocks",
            "event_names": ["MODIFY"],
            "threshold": "0",
        },
        {"name": "listing-expired", "kind": "expires", "title": "Listing expired"},
    ]


def test_the_alerts_policy_is_exactly_least_privilege(template: assertions.Template) -> None:
    policies = template.find_resources("AWS::IAM::Policy")

    assert policies[ALERTS_POLICY]["Properties"]["Roles"] == [ref(ALERTS_ROLE)]
    assert policies[ALERTS_POLICY]["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": get_att(ALERTS_LOG_GROUP, "Arn"),
        },
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": ref(ALERTS_TOPIC)},
        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": objects_of(BUCKET, "aws/lambda/")},
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(BUCKET, "Arn")},
        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"},
        {
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Effect": "Allow",
            "Resource": get_att(TABLE, "StreamArn"),
        },
    ]


def test_no_subscription_without_alert_email(template: assertions.Template) -> None:
    assert template.find_resources("AWS::SNS::Subscription") == {}


def test_alert_email_subscribes_to_the_topic(tmp_path: Path) -> None:
    _, stack = build_inventory_app(tmp_path, alert_email="shop@example.com")
    template = dict(assertions.Template.from_stack(stack).to_json())

    (subscription,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Subscription")
    assert subscription["Properties"] == {
        "Endpoint": "shop@example.com",
        "Protocol": "email",
        "TopicArn": ref(ALERTS_TOPIC),
    }


@pytest.mark.parametrize("value", ["shop", "shop@", "@example.com", "shop@example", "a b@example.com"])
def test_alert_email_must_be_an_address(value: Any) -> None:
    with pytest.raises(ValueError, match=f"alert_email must be an e-mail address, got '{value}'"):
        AppSettings(service_name="s", log_level="INFO", alert_email=value)
