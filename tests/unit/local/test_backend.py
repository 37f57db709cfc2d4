"""The calls to DynamoDB Streams and CloudFormation, checked with botocore's Stubber (no network)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local import backend
from local.bookkeeping import Shard

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Inventory/stream/2026-11-23T10:00:00.000"
SHARD_1 = "shardId-00000001763892000000-aaaaaaaa"
SHARD_2 = "shardId-00000001763906400000-bbbbbbbb"
SEQUENCE = "100000000000000000042"


def client(service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", aws_session_token="x"
    )


@pytest.fixture
def streams() -> Iterator[tuple[Any, Stubber]]:
    streams = client("dynamodbstreams")
    with Stubber(streams) as stubber:
        yield streams, stubber
        stubber.assert_no_pending_responses()


def test_deployed_table_asks_cloudformation_for_the_physical_name() -> None:
    cloudformation = client("cloudformation")
    with Stubber(cloudformation) as stubber:
        stubber.add_response(
            "describe_stack_resource",
            {
                "StackResourceDetail": {
                    "LogicalResourceId": "Table",
                    "PhysicalResourceId": "InventoryStack-Table-1A2B3C",
                    "ResourceType": "AWS::DynamoDB::Table",
                    "LastUpdatedTimestamp": "2026-11-23T10:00:00Z",
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            },
            {"StackName": "InventoryStack", "LogicalResourceId": "Table"},
        )
        stubber.add_client_error("describe_stack_resource", "ValidationError", "Stack does not exist")

        assert backend.deployed_table(cloudformation, "InventoryStack", "Table") == "InventoryStack-Table-1A2B3C"
        with pytest.raises(backend.BackendError, match="has no resource Table"):
            backend.deployed_table(cloudformation, "Missing", "Table")


def test_shards_are_read_over_every_page(streams: tuple[Any, Stubber]) -> None:
    client, stubber = streams
    page = {"StreamArn": ARN, "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES"}
    stubber.add_response(
        "describe_stream",
        {"StreamDescription": {**page, "Shards": [{"ShardId": SHARD_1}], "LastEvaluatedShardId": SHARD_1}},
        {"StreamArn": ARN},
    )
    stubber.add_response(
        "describe_stream",
        {"StreamDescription": {**page, "Shards": [{"ShardId": SHARD_2, "ParentShardId": SHARD_1}]}},
        {"StreamArn": ARN, "ExclusiveStartShardId": SHARD_1},
    )

    assert backend.StreamsSource(client, ARN, "us-east-1").shards() == [Shard(SHARD_1), Shard(SHARD_2, SHARD_1)]


def test_an_expired_iterator_is_renewed_after_the_last_record_read(streams: tuple[Any, Stubber]) -> None:
    client, stubber = streams
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": SEQUENCE, "Keys": {"PK": {"S": "A"}}}}
    stubber.add_response(
        "get_shard_iterator",
        {"ShardIterator": "i1"},
        {"StreamArn": ARN, "ShardId": SHARD_1, "ShardIteratorType": "TRIM_HORIZON"},
    )
    stubber.add_response(
        "get_records", {"Records": [record], "NextShardIterator": "i2"}, {"ShardIterator": "i1", "Limit": 100}
    )
    stubber.add_client_error("get_records", "ExpiredIteratorException", "Iterator expired")
    stubber.add_response(
        "get_shard_iterator",
        {"ShardIterator": "i3"},
        {
            "StreamArn": ARN,
            "ShardId": SHARD_1,
            "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
            "SequenceNumber": SEQUENCE,
        },
    )
    stubber.add_response("get_records", {"Records": []}, {"ShardIterator": "i3", "Limit": 100})
    source = backend.StreamsSource(client, ARN, "us-east-1")

    iterator = source.shard_iterator(SHARD_1, "TRIM_HORIZON")
    records, iterator_2 = source.get_records(iterator, 100)
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == [SEQUENCE]
    assert iterator_2 == "i2"

    records, closed = source.get_records("i2", 100)
    assert records == []
    assert closed is None  # no NextShardIterator: the shard is closed


def test_the_embedded_backend_sets_and_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone")
    monkeypatch.delenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", raising=False)

    with backend.embedded():
        assert os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
        assert "AWS_PROFILE" not in os.environ

    assert os.environ["AWS_PROFILE"] == "someone"
    assert "AWS_ACCOUNT_ID_ENDPOINT_MODE" not in os.environ


def test_dynamodb_locals_ttl_deletion_is_read_as_aws_writes_it(streams: tuple[Any, Stubber]) -> None:
    # GIVEN DynamoDB Local's record of a TTL deletion: an eventName the SDK does not know, no userIdentity
    client, stubber = streams
    stream = {"SequenceNumber": SEQUENCE, "Keys": {"PK": {"S": "A"}}, "OldImage": {"PK": {"S": "A"}}}
    deleted = {"eventName": "REMOVE", "dynamodb": {**stream, "SequenceNumber": "100000000000000000043"}}
    records = [{"eventName": "UNKNOWN_TO_SDK_VERSION", "dynamodb": stream}, deleted]
    stubber.add_response("get_records", {"Records": records}, {"ShardIterator": "i1", "Limit": 100})

    read, _ = backend.StreamsSource(client, ARN, "us-east-1").get_records("i1", 100)

    # THEN it is the REMOVE by DynamoDB's TTL that AWS writes; a delete stays a delete
    assert read == [
        {
            "eventName": "REMOVE",
            "dynamodb": stream,
            "userIdentity": {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"},
        },
        deleted,
    ]


def test_the_local_services_are_what_a_function_process_reaches_with_their_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the developer's own credentials in the environment
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "mine")

    with backend.local_services("us-east-1") as services:
        # WHEN the run creates a bucket and a topic there
        services.client("s3").create_bucket(Bucket="inventorystack-failures-local")
        topic = services.client("sns").create_topic(Name="alerts")["TopicArn"]

        # THEN a client made from the function's environment alone (the SDK's endpoint variables) sees them
        with monkeypatch.context() as function:
            for name, value in services.function_environment.items():
                function.setenv(name, value)
            session = boto3.session.Session(region_name="us-east-1")
            assert [bucket["Name"] for bucket in session.client("s3").list_buckets()["Buckets"]] == [
                "inventorystack-failures-local"
            ]
            assert [item["TopicArn"] for item in session.client("sns").list_topics()["Topics"]] == [topic]
        # AND the process's own credentials are left as they were
        assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"
