"""``--stack-name`` on a library user's stack, which has none of the app's outputs: the command finds
the failure destination and the functions from the stack's event source mappings (moto's
CloudFormation, Lambda and S3, in this process)."""

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
    """A user's stack: a table, loggers of it, their buckets; its only output is the user's own."""
    resources: dict[str, Any] = {"Role": ROLE, "Carts": TABLE}
    for name, bucket in loggers:
        resources[bucket] = {"Type": "AWS::S3::Bucket"}
        resources.update(logger(name, bucket))
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
        stream_arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/carts/stream/2026-12-01T00:00:00.000"
        record = {
            "eventID": "1",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "eventSourceARN": stream_arn,
            "dynamodb": {"Keys": {"id": {"S": "c-1"}}, "SequenceNumber": "100", "ApproximateCreationDateTime": 1},
        }
        document = failure_document(
            [Entry(record, "shardId-1", invocations=11)],
            condition="RetryAttemptsExhausted",
            outcome=Outcome(False, request_id="r"),
            function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{function}",
            stream_arn=stream_arn,
            now=1_796_000_000,
        )
        key = "aws/lambda/11111111-2222-3333-4444-555555555555/shardId-1/2026/12/01/batch-1.json"
        self.clients["s3"].put_object(Bucket=bucket, Key=key, Body=json.dumps(document))
        return key

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


def test_a_stack_without_a_parking_mapping_names_the_options_to_give(moto_shop: Shop) -> None:
    moto_shop.deploy("EmptyStack", {"Resources": {"Carts": TABLE}})

    result = moto_shop.run("list", "--stack-name", "EmptyStack")

    assert (result.code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: the stack EmptyStack has no outputs FunctionName and FailureBucketName (or FailureQueueUrl), "
        "nor an event source mapping with an on-failure destination: give --bucket or --queue-url, "
        "and --function-name"
    ]
