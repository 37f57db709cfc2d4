"""A deployed inventory in moto, in this process: its table and stream, failure bucket and queue,
log groups and stacks, with batches parked by ``python -m local``'s writer.

The stacks are found as the command finds any stack, from their resources: each has the event
source mappings of its readers (moto's CloudFormation creates them, and ListStackResources names
them). The functions themselves are a botocore Stubber on a Lambda client (moto's Lambda needs
Docker to run code): each test says what Lambda answers (the mappings, the configurations, the
invocations), and the Stubber checks the exact request.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from local.backend import EMBEDDED_ENVIRONMENT, REGION
from local.bookkeeping import Entry, Outcome
from local.on_failure import failure_document
from stacks.table_stream_logger import operations
from stacks.table_stream_logger.operations.stream_records import lambda_record

FUNCTION = "inventory-fn"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
LOG_GROUP = f"/aws/lambda/{FUNCTION}"
STACK = "InventoryStack"
# The stream's second reader, parking in the same bucket (the app's ChangeAlerts).
ALERTS = "inventory-alerts-fn"
ALERTS_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{ALERTS}"
ALERTS_LOG_GROUP = f"/aws/lambda/{ALERTS}"
APP_STACK = "InventoryApp"
BUCKET_ARN = "arn:aws:s3:::inventory-failures"


def mapped_table() -> dict[str, Any]:
    """The table a stack's mappings read. Not the inventory table the tests write: on each write to
    a mapped table moto runs the function (in Docker). The command reads the inventory's stream
    through the parked batches, which name it."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    }


def mapping(function: str, destination: Any) -> dict[str, Any]:
    """A reader's event source mapping, as the constructs build it: the stream, its on-failure destination."""
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": function,
            "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
            "StartingPosition": "TRIM_HORIZON",
            "DestinationConfig": {"OnFailure": {"Destination": destination}},
        },
    }


# The logger's stack: its mapping parks in the bucket (the queue is there for --queue-url).
STACK_TEMPLATE = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "inventory-failures"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "inventory-failures"}},
        "Table": mapped_table(),
        "FunctionDynamoDBEventSource": mapping(FUNCTION, {"Fn::GetAtt": ["Bucket", "Arn"]}),
    },
}
# The app's: both readers of the stream park in one bucket, the logger's mapping first.
APP_TEMPLATE = {
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Table": mapped_table(),
        "LoggerDynamoDBEventSource": mapping(FUNCTION, BUCKET_ARN),
        "AlertsDynamoDBEventSource": mapping(ALERTS, BUCKET_ARN),
    },
}


def mapping_answer(uuid: str, function_arn: str, stream_arn: str, destination: str) -> dict[str, Any]:
    """Lambda's GetEventSourceMapping answer for a stream mapping with an on-failure destination,
    field by field as Lambda gives it (the API reference's DynamoDB example)."""
    return {
        "UUID": uuid,
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": stream_arn,
        "FunctionArn": function_arn,
        "LastModified": datetime(2026, 12, 1, tzinfo=UTC),
        "LastProcessingResult": "OK",
        "State": "Enabled",
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {"Destination": destination}},
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 10,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "EventSourceMappingArn": f"arn:aws:lambda:{REGION}:123456789012:event-source-mapping:{uuid}",
    }


def stack_resources_answer(*resources: tuple[str, str, str]) -> dict[str, Any]:
    """CloudFormation's ListStackResources answer for (logical ID, physical ID, type) resources."""
    return {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": physical_id,
                "ResourceType": resource_type,
                "LastUpdatedTimestamp": datetime(2026, 11, 1, tzinfo=UTC),
                "ResourceStatus": "CREATE_COMPLETE",
                "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
            }
            for logical_id, physical_id, resource_type in resources
        ]
    }


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class Function:
    """The deployed function: a Stubber that expects the calls each test queues."""

    client: Any
    stubber: Stubber
    # The stacks' mappings, as Lambda answers GetEventSourceMapping, in the stack's order: by stack name.
    mappings_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=lambda: {"REDACT_ATTRIBUTES": '["SK"]', "LOG_IMAGES": "NEW"})

    def mappings(self, stack: str = STACK) -> None:
        """Expect the command to read the stack's event source mappings (``--stack-name``)."""
        for answer in self.mappings_of[stack]:
            self.stubber.add_response("get_event_source_mapping", answer, {"UUID": answer["UUID"]})

    def configuration(self) -> None:
        """Expect the command to read the logger's configuration."""
        self.configuration_of(FUNCTION, "stream_logger.handler", self.environment)

    def alerts_configuration(self, environment: dict[str, str] | None = None) -> None:
        """Expect the command to read the alerts' configuration."""
        self.configuration_of(ALERTS, "change_alerts.handler", environment or {"REDACT_ATTRIBUTES": "[]"})

    def configuration_of(self, name: str, handler: str, environment: dict[str, str]) -> None:
        self.stubber.add_response(
            "get_function_configuration",
            {
                "FunctionName": name,
                "FunctionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
                "Handler": handler,
                "Environment": {"Variables": environment},
                "LoggingConfig": {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{name}"},
            },
            {"FunctionName": name},
        )

    def answers(
        self,
        payload: str,
        response: Any,
        *,
        function_error: str | None = None,
        log: list[dict[str, Any]] = (),  # type: ignore[assignment]
        function_name: str = FUNCTION,
    ) -> None:
        """Expect an invocation with exactly ``payload``; answer ``response`` and these log lines."""
        body = json.dumps(response).encode()
        answer: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
            "LogResult": base64.b64encode("".join(json.dumps(line) + "\n" for line in log).encode()).decode(),
            "ExecutedVersion": "$LATEST",
        }
        if function_error:
            answer["FunctionError"] = function_error
        self.stubber.add_response(
            "invoke",
            answer,
            {
                "FunctionName": function_name,
                "InvocationType": "RequestResponse",
                "LogType": "Tail",
                "Payload": payload.encode(),
            },
        )


def error_line(record: dict[str, Any], reason: str) -> dict[str, Any]:
    """The handler's ERROR line for a record."""
    return {
        "level": "ERROR",
        "location": "_report_failure:300",
        "message": f"Record cannot be processed: {reason}",
        "timestamp": "2026-12-01 10:00:00,000+0000",
        "service": "inventory",
        "event_id": record["eventID"],
        "sequence_number": record["dynamodb"]["SequenceNumber"],
        "reason": reason,
    }


class Inventory:
    """The moto side of a deployed InventoryStack, and a way to park its stream's records."""

    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.logs = boto3.client("logs", region_name=REGION)
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        self.clients = {
            "dynamodbstreams": self.streams,
            "s3": self.s3,
            "sqs": self.sqs,
            "logs": self.logs,
            "cloudformation": cloudformation,
        }
        self._create_functions()
        self.mappings = {
            name: self._deploy(cloudformation, name, template)
            for name, template in ((STACK, STACK_TEMPLATE), (APP_STACK, APP_TEMPLATE))
        }
        self.bucket = "inventory-failures"
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.queue_url = self.sqs.get_queue_url(QueueName="inventory-failures")["QueueUrl"]
        for group in (LOG_GROUP, ALERTS_LOG_GROUP):
            self.logs.create_log_group(logGroupName=group)
            self.logs.create_log_stream(logGroupName=group, logStreamName="2026/12/01/[$LATEST]abc")
        self.stream_arn = self.dynamodb.create_table(
            TableName="inventory",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        self.shard_id = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0][
            "ShardId"
        ]
        self._read = 0

    @staticmethod
    def _create_functions() -> None:
        """The readers, in moto's Lambda so that CloudFormation can map them (one function of a name
        for both stacks); the command's own Lambda client is the Stubber."""
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="reader", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )["Role"]["Arn"]
        functions = boto3.client("lambda", region_name=REGION)
        for name, handler in ((FUNCTION, "stream_logger.handler"), (ALERTS, "change_alerts.handler")):
            functions.create_function(
                FunctionName=name,
                Runtime="python3.14",
                Role=role,
                Handler=handler,
                Code={"ZipFile": b"PK\x05\x06" + bytes(18)},  # an empty zip: never run
            )

    @staticmethod
    def _deploy(cloudformation: Any, name: str, template: dict[str, Any]) -> list[dict[str, Any]]:
        """Create the stack; Lambda's answers for its mappings, in ListStackResources' order."""
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
        functions = boto3.client("lambda", region_name=REGION)
        answers = []
        for resource in cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::Lambda::EventSourceMapping":
                made = functions.get_event_source_mapping(UUID=resource["PhysicalResourceId"])
                destination = made["DestinationConfig"]["OnFailure"]["Destination"]
                answers.append(mapping_answer(made["UUID"], made["FunctionArn"], made["EventSourceArn"], destination))
        return answers

    def write(self, *sks: str) -> list[dict[str, Any]]:
        """Put FRUIT/<sk> for each; return their stream records as Lambda delivers them."""
        for stocks, sk in enumerate(sks):
            self.dynamodb.put_item(
                TableName="inventory",
                Item={"PK": {"S": "FRUIT"}, "SK": {"S": sk}, "Stocks": {"N": str(stocks)}, "Secret": {"S": "s3cr3t"}},
            )
        iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        raw = self.streams.get_records(ShardIterator=iterator)["Records"][self._read :]
        self._read += len(raw)
        return [lambda_record(record, self.stream_arn, REGION) for record in raw]

    def document(
        self,
        records: list[dict[str, Any]],
        *,
        condition: str = "RetryAttemptsExhausted",
        function_error: str | None = None,
        parked_at: datetime | None = None,
        function_arn: str = FUNCTION_ARN,
    ) -> dict[str, Any]:
        """The failure record Lambda writes, by ``python -m local``'s writer."""
        entries = [Entry(record, self.shard_id, invocations=11) for record in records]
        when = (parked_at or datetime.now(UTC)).timestamp()
        return failure_document(
            entries,
            condition=condition,
            outcome=Outcome(False, function_error=function_error, request_id="req-1"),
            function_arn=function_arn,
            stream_arn=self.stream_arn,
            now=when,
        )

    def park(
        self,
        records: list[dict[str, Any]],
        name: str = "batch-1",
        *,
        mapping: str = "11111111-2222-3333-4444-555555555555",
        **options: Any,
    ) -> str:
        """Park in the S3 destination as Lambda does, under the mapping's UUID; return the object's key."""
        key = f"aws/lambda/{mapping}/{self.shard_id}/2026/12/01/{name}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(self.document(records, **options)))
        return key

    def park_in_queue(self, records: list[dict[str, Any]], *, first_arrival: str | None = None, **options: Any) -> str:
        """Park in the SQS destination: the same record without its payload. Returns the message ID."""
        document = self.document(records, **options)
        del document["payload"]
        if first_arrival:
            document["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] = first_arrival
        return str(self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(document))["MessageId"])

    def log(self, *lines: dict[str, Any], group: str = LOG_GROUP) -> None:
        now = int(datetime.now(UTC).timestamp() * 1000)
        self.logs.put_log_events(
            logGroupName=group,
            logStreamName="2026/12/01/[$LATEST]abc",
            logEvents=[{"timestamp": now, "message": json.dumps(line)} for line in lines],
        )

    def keys(self, prefix: str = "") -> list[str]:
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])]


@pytest.fixture
def inventory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inventory]:
    for name, value in EMBEDDED_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield Inventory()


@pytest.fixture
def environment() -> Iterator[None]:
    """The handler's configuration comes from this process's environment with --folder."""
    saved = dict(os.environ)
    os.environ.update({"REDACT_ATTRIBUTES": "[]", "KEY_ATTRIBUTES": '["PK","SK"]', "POWERTOOLS_SERVICE_NAME": "local"})
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def function(inventory: Inventory) -> Iterator[Function]:
    client = botocore.session.get_session().create_client("lambda", region_name=REGION)
    with Stubber(client) as stubber:
        yield Function(client, stubber, inventory.mappings)
        stubber.assert_no_pending_responses()


class Runner:
    """Runs the command with moto's clients and the stubbed function; the pause between batches
    is only recorded (``pauses``), unless a test gives ``sleep`` something else to do."""

    def __init__(self, inventory: Inventory, function: Function) -> None:
        self.clients = {**inventory.clients, "lambda": function.client}
        self.pauses: list[float] = []
        self.sleep: Callable[[float], None] = self.pauses.append

    def __call__(self, *arguments: str) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = operations.main(
            list(arguments),
            stdout=stdout,
            stderr=stderr,
            clients=self.clients.__getitem__,
            sleep=lambda seconds: self.sleep(seconds),
        )
        return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def run(inventory: Inventory, function: Function) -> Runner:
    return Runner(inventory, function)
