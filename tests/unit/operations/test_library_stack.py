"""``--stack-name`` on a library user's stack, which has none of the app's outputs (the command reads
none, of any stack): it finds the failure destination and the functions from the stack's event
source mappings (moto's CloudFormation, Lambda, S3 and SQS, in this process)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.backend import EMBEDDED_ENVIRONMENT, REGION
from local.bookkeeping import Entry, Outcome
from local.on_failure import failure_document
from stacks.table_stream_logger import operations
from stacks.table_stream_logger.operations.stores import SqsStore
from tests.unit.operations.conftest import Result

ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}
TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
    },
}


def logger(name: str, bucket: str) -> dict[str, Any]:
    """A TableStreamLogger's function and mapping, under the construct's logical IDs, parking in ``bucket``."""
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.14",
            "Handler": "stream_logger.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context): pass"},
            "Environment": {"Variables": {"KEY_ATTRIBUTES": '["id"]', "REDACT_ATTRIBUTES": "[]"}},
        },
    }
    mapping = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": f"{name}Function"},
            "EventSourceArn": {"Fn::GetAtt": ["Carts", "StreamArn"]},
            "StartingPosition": "TRIM_HORIZON",
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [bucket, "Arn"]}}},
        },
    }
    return {f"{name}Function": function, f"{name}FunctionDynamoDBEventSource": mapping}


def shop(*loggers: tuple[str, str]) -> dict[str, Any]:
    """A user's stack: a table, loggers of it, their failure destinations (a queue where the logical ID
    says so, else a bucket); its only output is the user's own."""
    resources: dict[str, Any] = {"Role": ROLE, "Carts": TABLE}
    for name, destination in loggers:
        resources[destination] = {"Type": "AWS::SQS::Queue" if destination.endswith("Queue") else "AWS::S3::Bucket"}
        resources.update(logger(name, destination))
    return {"Resources": resources, "Outputs": {"CartsTable": {"Value": {"Ref": "Carts"}}}}


class Shop:
    def __init__(self) -> None:
        self.clients = {
            name: boto3.client(name, region_name=REGION) for name in ("cloudformation", "lambda", "s3", "sqs", "logs")
        }

    def deploy(self, name: str, template: dict[str, Any]) -> dict[str, str]:
        """Create the stack; its physical names by logical ID."""
        cloudformation = self.clients["cloudformation"]
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
        resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        return {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in resources}

    def park(self, bucket: str, function: str) -> str:
        """A batch of one record parked by ``function`` in ``bucket``, as Lambda writes it."""
        key = "aws/lambda/11111111-2222-3333-4444-555555555555/shardId-1/2026/12/01/batch-1.json"
        self.clients["s3"].put_object(Bucket=bucket, Key=key, Body=json.dumps(self.failure(function)))
        return key

    def park_in_queue(self, queue_url: str, function: str) -> str:
        """The same batch parked in a queue: the record without its payload. Returns the message ID."""
        document = self.failure(function)
        del document["payload"]
        return str(self.clients["sqs"].send_message(QueueUrl=queue_url, MessageBody=json.dumps(document))["MessageId"])

    @staticmethod
    def failure(function: str) -> dict[str, Any]:
        """Lambda's failure record of a batch of one record parked by ``function``."""
        stream_arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/carts/stream/2026-12-01T00:00:00.000"
        record = {
            "eventID": "1",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "eventSourceARN": stream_arn,
            "dynamodb": {"Keys": {"id": {"S": "c-1"}}, "SequenceNumber": "100", "ApproximateCreationDateTime": 1},
        }
        return failure_document(
            [Entry(record, "shardId-1", invocations=11)],
            condition="RetryAttemptsExhausted",
            outcome=Outcome(False, request_id="r"),
            function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{function}",
            stream_arn=stream_arn,
            now=1_796_000_000,
        )

    def run(self, *arguments: str) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = operations.main(list(arguments), stdout=stdout, stderr=stderr, clients=self.clients.__getitem__)
        return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def moto_shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    for name, value in EMBEDDED_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield Shop()


def test_stack_name_finds_the_loggers_bucket_and_function_from_its_mapping(moto_shop: Shop) -> None:
    # GIVEN a user's stack with one logger and a batch it parked
    names = moto_shop.deploy("ShopStack", shop(("CartsLogger", "CartsLoggerFailureBucket")))
    function, bucket = names["CartsLoggerFunction"], names["CartsLoggerFailureBucket"]
    key = moto_shop.park(bucket, function)

    # WHEN the operator lists and dry-runs with the stack's name alone
    listed = moto_shop.run("list", "--stack-name", "ShopStack", "--format", "json")
    dry_run = moto_shop.run("replay", "--all", "--stack-name", "ShopStack")

    # THEN the batch is found in the mapping's bucket and goes back to the mapping's function
    assert listed.code == 0, listed.stderr
    (batch,) = json.loads(listed.stdout)
    assert (batch["key"], batch["function_arn"].split(":")[-1]) == (key, function)
    assert dry_run.code == 0, dry_run.stderr
    assert dry_run.stdout.splitlines()[0].startswith(f"dry run: would invoke {function} with 1 batch(es)")


def test_several_destinations_are_named_in_one_line_and_bucket_chooses(moto_shop: Shop) -> None:
    names = moto_shop.deploy(
        "ShopStack", shop(("CartsLogger", "CartsLoggerFailureBucket"), ("OrdersLogger", "OrdersLoggerFailureBucket"))
    )
    orders_bucket, orders = names["OrdersLoggerFailureBucket"], names["OrdersLoggerFunction"]
    moto_shop.park(orders_bucket, orders)

    unchosen = moto_shop.run("list", "--stack-name", "ShopStack")
    chosen = moto_shop.run("list", "--stack-name", "ShopStack", "--bucket", orders_bucket, "--format", "json")

    assert (unchosen.code, unchosen.stdout) == (2, "")
    (line,) = unchosen.stderr.splitlines()
    assert line.startswith("error: the stack ShopStack has 2 failure destinations: ")
    assert f"bucket {orders_bucket} ({orders})" in line and line.endswith("choose one with --bucket or --queue-url")
    assert chosen.code == 0, chosen.stderr
    assert [batch["function_arn"].split(":")[-1] for batch in json.loads(chosen.stdout)] == [orders]


def test_a_queue_among_the_destinations_is_chosen_by_its_url(moto_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a stack whose carts' logger parks in a bucket and whose orders' logger parks in a queue
    monkeypatch.setattr(SqsStore, "WAIT_SECONDS", 0)  # moto waits out a long poll on an empty queue
    names = moto_shop.deploy(
        "ShopStack", shop(("CartsLogger", "CartsLoggerFailureBucket"), ("OrdersLogger", "OrdersLoggerFailureQueue"))
    )
    queue_url, orders = names["OrdersLoggerFailureQueue"], names["OrdersLoggerFunction"]
    queue_arn = moto_shop.clients["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    # WHEN the operator lists without and then with the queue's URL, and with a URL not the stack's
    unchosen = moto_shop.run("list", "--stack-name", "ShopStack")
    chosen = moto_shop.run("list", "--stack-name", "ShopStack", "--queue-url", queue_url, "--format", "json")
    other = moto_shop.run("list", "--stack-name", "ShopStack", "--queue-url", f"{queue_url}-other")

    # THEN the line names the queue with its function, the URL chooses it, and another URL is told apart
    assert (unchosen.code, unchosen.stdout) == (2, "")
    assert f"queue {queue_arn} ({orders})" in unchosen.stderr
    assert (chosen.code, chosen.stdout) == (0, "[]\n"), chosen.stderr
    assert other.stderr == (
        f"error: the stack ShopStack has no event source mapping with the on-failure destination {queue_url}-other: "
        "give it with --function-name, without --stack-name\n"
    )


def test_a_lone_queue_is_found_from_its_arn(moto_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a stack whose one logger parks in a queue, and a batch parked there
    monkeypatch.setattr(SqsStore, "WAIT_SECONDS", 0)
    names = moto_shop.deploy("QueueStack", shop(("CartsLogger", "CartsLoggerFailureQueue")))
    function = names["CartsLoggerFunction"]
    message_id = moto_shop.park_in_queue(names["CartsLoggerFailureQueue"], function)

    # WHEN the operator lists with the stack's name alone
    result = moto_shop.run("list", "--stack-name", "QueueStack", "--format", "json")

    # THEN the queue's URL comes from the mapping's ARN (GetQueueUrl), and the batch is the mapping's function's
    assert result.code == 0, result.stderr
    (batch,) = json.loads(result.stdout)
    assert (batch["key"], batch["function_arn"].split(":")[-1]) == (message_id, function)


def test_a_stack_without_a_parking_mapping_names_the_options_to_give(moto_shop: Shop) -> None:
    moto_shop.deploy("EmptyStack", {"Resources": {"Carts": TABLE}})

    result = moto_shop.run("list", "--stack-name", "EmptyStack")

    assert (result.code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: the stack EmptyStack has no event source mapping with an on-failure destination: "
        "give --bucket or --queue-url, and --function-name"
    ]
