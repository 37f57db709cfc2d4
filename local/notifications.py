"""A local stand-in for SNS: the alerts function's notifications, printed instead of sent.

The alerts function publishes, from its own process, to a topic in moto's SNS (the local
services of local/backend.py), to which a queue in moto's SQS is subscribed. As each of its
invocations ends, the notifications are read from that queue and printed on stdout, clearly
labelled, and nothing leaves the machine.

``pretty`` prints one line a person reads at a glance::

    SNS (local stand-in) | Back in stock: FURNITURE / CHAIR#ERGONOMIC | Stocks 0 → 5

``json`` prints one JSON line per notification, ``{"local_sns_stand_in": {...}}``, with the
``Publish`` arguments as SNS got them (the message body parsed, numbers exact).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TextIO

LABEL = "SNS (local stand-in)"


class LocalTopic:
    """A topic in moto's SNS with a queue subscribed: ``show()`` prints what was published since.

    :param sns: An SNS client of the local services.
    :param sqs: An SQS client of the local services.
    :param name: The topic's name.
    """

    def __init__(self, sns: Any, sqs: Any, name: str, format: str, out: TextIO) -> None:
        self.sqs = sqs
        self.format = format
        self.out = out
        self.arn = sns.create_topic(Name=name)["TopicArn"]
        self.queue_url = sqs.create_queue(QueueName=f"{name}-local-stand-in")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=self.arn, Protocol="sqs", Endpoint=queue_arn)
        self.published: list[dict[str, Any]] = []

    def show(self) -> None:
        """Print each notification published since the last call, in the order SNS got them."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            for message in messages:
                self._print(_publish_arguments(json.loads(message["Body"])))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _print(self, arguments: dict[str, Any]) -> None:
        self.published.append(arguments)
        if self.format == "json":
            # The body as the handler wrote it, so that every number stays exactly as it is.
            others = json.dumps(
                {name: value for name, value in arguments.items() if name != "Message"}, separators=(",", ":")
            )
            self.out.write(f'{{"local_sns_stand_in":{others[:-1]},"Message":{arguments["Message"]}}}}}\n')
        else:
            summary = json.loads(arguments["Message"], parse_float=Decimal).get("summary", "")
            self.out.write(f"{LABEL} | {arguments['Subject']} | {summary}\n")
        self.out.flush()


def _publish_arguments(envelope: dict[str, Any]) -> dict[str, Any]:
    """The ``Publish`` arguments back from the notification SNS delivered to the queue."""
    arguments: dict[str, Any] = {"TopicArn": envelope["TopicArn"]}
    if envelope.get("Subject") is not None:
        arguments["Subject"] = envelope["Subject"]
    arguments["Message"] = envelope["Message"]
    attributes = envelope.get("MessageAttributes") or {}
    if attributes:
        arguments["MessageAttributes"] = {
            name: {"DataType": value["Type"], "StringValue": value["Value"]} for name, value in attributes.items()
        }
    return arguments
