"""The alerts end to end on moto: the story's writes, the alerts' mapping, SNS, and SQS subscribers.

The same pieces as ``make local`` (the template's table and its TTL, mapping settings, filter
and handler, the poller, the story with the mango's TTL expiry simulated as ``make local`` does),
with moto's SNS in place of the local stand-in: the handler publishes with boto3 to a moto topic,
which delivers to SQS queues subscribed to it, as a subscriber in AWS would receive it. Sleeping
only moves the poller's clock forward.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local import backend, expiry, writes
from local.filtering import compile_patterns
from local.lambda_context import FunctionIdentity
from local.poller import Poller
from local.story import story
from local.template import load, read
from stacks.table_stream_logger.operations.lambda_runtime import LambdaRuntime

TABLE = "InventoryStack-InventoryLoggerTableB5D61A0C"
# Each queue's subscription filter policy on the notification's ``rule`` attribute (None: every one).
FILTER_POLICIES: dict[str, dict[str, list[str]] | None] = {
    "everything": None,
    "back-in-stock-only": {"rule": ["back-in-stock"]},
    "listing-expired-only": {"rule": ["listing-expired"]},
    "low-stock-only": {"rule": ["low-stock"]},  # no rule of the app has this name
}


@dataclass
class Subscribers:
    sqs: Any
    queues: dict[str, str]

    def received(self, queue: str) -> list[dict[str, Any]]:
        """The SNS notifications (SNS's JSON envelope) that reached a queue."""
        messages = []
        queue_url = self.queues[queue]
        while batch := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages


# Once for the module: each test reads a queue of its own.
@pytest.fixture(scope="module")
def story_on_moto(template_path: Path) -> Iterator[Subscribers]:
    model = read(load(template_path), "InventoryStack", template_path.parent)
    (alerts,) = model.others
    with backend.embedded(), backend.local_services(backend.REGION) as services, ExitStack() as stack:
        session = backend.session(None, None)
        dynamodb = session.client("dynamodb")
        sns, sqs = services.client("sns"), services.client("sqs")
        stream_arn = backend.create_table(dynamodb, model.table, model.table_name)

        topic_arn = sns.create_topic(Name="inventory-alerts")["TopicArn"]
        queues = {}
        for name, policy in FILTER_POLICIES.items():
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
            queues[name] = url

        # The handler in its own process, as Lambda runs it; it publishes to moto's SNS with boto3.
        config = alerts.function.config(
            "alerts", session.region_name, {**alerts.function.environment, "TOPIC_ARN": topic_arn}
        )
        runtime = stack.enter_context(LambdaRuntime(config, environment=services.function_environment))
        offset = [0.0]

        def clock() -> float:
            return time.time() + offset[0]

        poller = Poller(
            backend.StreamsSource(session.client("dynamodbstreams"), stream_arn, session.region_name),
            alerts.mapping,
            runtime,
            FunctionIdentity("alerts", session.region_name, memory_mb=256, timeout=30),
            filter_record=compile_patterns(alerts.mapping.filter_patterns),
            clock=clock,
            sleep=lambda seconds: offset.__setitem__(0, offset[0] + seconds),
        )
        poller.start()
        ttl_attribute = model.table.ttl_attribute
        for operation in story(clock(), ttl_attribute):
            if operation["op"] == "expire":  # the mango's listing ends: DynamoDB's TTL, simulated as make local does
                expiry.expire(dynamodb, model.table_name, operation["key"], ttl_attribute, simulated=True, now=clock())
            else:
                writes.apply(dynamodb, model.table_name, operation)
        poller.drain()

        # The mapping's filter lets through the MODIFYs with a stock and the TTL's REMOVE, not ORANGE's delete.
        assert (poller.stats.delivered, poller.stats.parked, poller.lost()) == (5, 0, 0)
        yield Subscribers(sqs, queues)


def test_a_subscriber_gets_one_notification_for_the_chair_and_one_for_the_mango(story_on_moto: Subscribers) -> None:
    received = story_on_moto.received("everything")

    assert sorted(notification["Subject"] for notification in received) == [
        "Back in stock: FURNITURE / CHAIR#ERGONOMIC",
        "Listing expired: FRUIT / MANGO#ALPHONSO",
    ]


def test_the_restocked_chair_arrives_with_its_attributes(story_on_moto: Subscribers) -> None:
    (notification,) = story_on_moto.received("back-in-stock-only")

    assert notification["Type"] == "Notification"
    assert notification["Subject"] == "Back in stock: FURNITURE / CHAIR#ERGONOMIC"
    assert notification["MessageAttributes"] == {
        "rule": {"Type": "String", "Value": "back-in-stock"},
        "event_name": {"Type": "String", "Value": "MODIFY"},
        "table": {"Type": "String", "Value": TABLE},
    }
    message = json.loads(notification["Message"], parse_float=Decimal)
    assert message["summary"] == "Stocks 0 → 5"
    assert (message["attribute"], message["old"], message["new"]) == ("Stocks", 0, 5)
    assert message["keys"] == {"PK": "FURNITURE", "SK": "CHAIR#ERGONOMIC"}
    assert "new_image" not in message  # the rest of the item only with include_image=True
    # What a subscriber needs to drop a duplicate of an at-least-once delivery.
    assert message["event_id"] and message["sequence_number"]


def test_the_expired_listing_arrives_with_its_attributes(story_on_moto: Subscribers) -> None:
    # The mango's REMOVE by DynamoDB's TTL, through moto's SNS, to the queue that asked for this rule only
    (notification,) = story_on_moto.received("listing-expired-only")

    assert notification["Type"] == "Notification"
    assert notification["Subject"] == "Listing expired: FRUIT / MANGO#ALPHONSO"
    assert notification["MessageAttributes"] == {
        "rule": {"Type": "String", "Value": "listing-expired"},
        "event_name": {"Type": "String", "Value": "REMOVE"},
        "table": {"Type": "String", "Value": TABLE},
    }
    message = json.loads(notification["Message"], parse_float=Decimal)
    assert (message["rule"], message["summary"], message["event_name"]) == (
        "listing-expired",
        "expired (TTL)",
        "REMOVE",
    )
    assert message["keys"] == {"PK": "FRUIT", "SK": "MANGO#ALPHONSO"}
    # no attribute or old/new of a change rule, and no image (include_image is off)
    assert not {"attribute", "old", "new", "new_image", "old_image"} & set(message)
    assert message["event_id"] and message["sequence_number"]


def test_a_filter_policy_on_a_rule_no_alert_has_gets_nothing(story_on_moto: Subscribers) -> None:
    assert story_on_moto.received("low-stock-only") == []
