"""The alerts end to end on moto: the story's writes, the alerts' mapping, SNS, and an SQS subscriber.

The same pieces as ``make local`` (the template's table, mapping settings, filter and handler,
the poller), with moto's SNS in place of the local stand-in: the handler publishes with boto3
to a moto topic, which delivers to SQS queues subscribed to it, as a subscriber in AWS would
receive it. Sleeping only moves the poller's clock forward.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local import backend, items
from local.filtering import compile_patterns
from local.function import load_handler
from local.poller import FunctionIdentity, Poller
from local.template import load, read


@dataclass
class Subscribers:
    sqs: Any
    everything: str
    low_stock_only: str

    def received(self, queue_url: str) -> list[dict[str, Any]]:
        """The SNS notifications (SNS's JSON envelope) that reached a queue."""
        messages = []
        while batch := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages


@pytest.fixture
def story_on_moto(template_path: Path) -> Iterator[Subscribers]:
    model = read(load(template_path), "InventoryStack")
    (alerts,) = model.others
    with backend.embedded():
        session = backend.session(None, None)
        dynamodb, sns, sqs = (session.client(name) for name in ("dynamodb", "sns", "sqs"))
        stream_arn = backend.create_table(dynamodb, model.table, model.table_name)

        topic_arn = sns.create_topic(Name="back-in-stock")["TopicArn"]
        queues = {}
        for name, policy in (("everything", None), ("low-stock-only", {"rule": ["low-stock"]})):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
            queues[name] = url

        handler, _ = load_handler(alerts.function.handler, {**alerts.function.environment, "TOPIC_ARN": topic_arn})
        offset = [0.0]
        poller = Poller(
            backend.StreamsSource(session.client("dynamodbstreams"), stream_arn, session.region_name),
            alerts.mapping,
            handler,
            FunctionIdentity("alerts", session.region_name, memory_mb=256, timeout=30),
            filter_record=compile_patterns(alerts.mapping.filter_patterns),
            clock=lambda: time.time() + offset[0],
            sleep=lambda seconds: offset.__setitem__(0, offset[0] + seconds),
        )
        poller.start()
        for operation in items.STORY:
            items.apply(dynamodb, model.table_name, operation)
        poller.drain()

        assert poller.lost() == 0 and poller.stats.parked == 0
        yield Subscribers(sqs, queues["everything"], queues["low-stock-only"])


def test_a_subscriber_gets_one_notification_for_the_restocked_chair(story_on_moto: Subscribers) -> None:
    (notification,) = story_on_moto.received(story_on_moto.everything)

    assert notification["Type"] == "Notification"
    assert notification["Subject"] == "Back in stock: FURNITURE / CHAIR#ERGONOMIC"
    assert notification["MessageAttributes"] == {
        "rule": {"Type": "String", "Value": "back-in-stock"},
        "event_name": {"Type": "String", "Value": "MODIFY"},
        "table": {"Type": "String", "Value": "InventoryStack-InventoryLoggerTableB5D61A0C"},
    }
    message = json.loads(notification["Message"], parse_float=Decimal)
    assert message["summary"] == "Stocks 0 → 5"
    assert (message["attribute"], message["old"], message["new"]) == ("Stocks", 0, 5)
    assert message["keys"] == {"PK": "FURNITURE", "SK": "CHAIR#ERGONOMIC"}
    assert message["new_image"] == {
        "PK": "FURNITURE",
        "SK": "CHAIR#ERGONOMIC",
        "Stocks": 5,
        "Price": {"USD": Decimal("129.99"), "INR": 10999},
    }
    # What a subscriber needs to drop a duplicate of an at-least-once delivery.
    assert message["event_id"] and message["sequence_number"]


def test_a_subscription_filter_policy_on_the_rule_attribute_filters(story_on_moto: Subscribers) -> None:
    assert story_on_moto.received(story_on_moto.low_stock_only) == []
