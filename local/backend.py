"""The DynamoDB the local run talks to: moto in-process, or an endpoint, or AWS itself.

Known differences of the embedded backend, moto 5.2.5, measured against what AWS documents
(the tests do not depend on any of them):

- An update or put that changes nothing still emits a MODIFY record; AWS writes no record
  when an item does not change.
- An UpdateItem that creates an item emits two INSERT records, the first with only the key
  attributes in its NewImage, the second with the whole item; AWS emits one INSERT.
- ``SizeBytes`` is larger than AWS's (339 for a small item AWS counts as about 100), and
  records say ``eventVersion`` "1.0" where AWS says "1.1" (the poller delivers "1.1", as
  Lambda passes on what AWS sends). ``ApproximateCreationDateTime`` has milliseconds; the
  poller rounds it down to the second, as AWS does.
- Shard iterators never expire and can be read again; AWS's expire after 15 minutes and
  each is meant to be used once.
- No TTL process: moto stores a table's TTL setting and never expires an item, so the run
  simulates DynamoDB's TTL (``expire_in_moto``, local/expiry.py). DynamoDB Local has one, whose
  records ``StreamsSource`` reads as AWS writes them (``DYNAMODB_LOCAL_EXPIRY``).
- A stream record can be changed after the write that made it; the ``poison`` operation uses
  that to give the handler a record it cannot process (``poison_in_moto``, local/poison.py).
- Without ``AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled``, current botocore sends DescribeStream,
  GetShardIterator and GetRecords to an account-ID endpoint that moto does not intercept
  (it answers 404 "Not yet implemented"), so the embedded mode sets it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.bookkeeping import Shard
from local.stack_model import TableDefinition
from stacks.table_stream_logger._core.record_formats import STREAMS_TTL_IDENTITY

REGION = "us-east-1"
# DynamoDB Local (2026-05-28) deletes expired items, but writes each such REMOVE with this
# eventName (the AWS SDK's name for a value it does not know, its internal EXPIRE) and no
# userIdentity: its code means to rewrite it into a REMOVE by the TTL process, and never does.
DYNAMODB_LOCAL_EXPIRY = "UNKNOWN_TO_SDK_VERSION"

# Dummy credentials and the endpoint mode moto's stream APIs need; only for the embedded mode.
EMBEDDED_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


class BackendError(RuntimeError):
    """The table or its stream cannot be had from the chosen backend."""


@contextmanager
def environment(variables: dict[str, str], *, remove: tuple[str, ...] = ()) -> Iterator[None]:
    """Set environment variables for a while, then put back what was there."""
    saved = {name: os.environ.get(name) for name in (*variables, *remove)}
    for name in remove:
        os.environ.pop(name, None)
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def embedded() -> Iterator[None]:
    """moto's DynamoDB, DynamoDB Streams and S3, in this process, for as long as the block runs."""
    from moto import mock_aws  # imported here: only the embedded mode needs it

    # A profile named in AWS_PROFILE would take precedence over the dummy keys, or fail.
    with environment(EMBEDDED_ENVIRONMENT, remove=("AWS_PROFILE",)), mock_aws():
        yield


# The credentials the function's process gets for the local services, as Lambda gives it its role's.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


@dataclass(frozen=True)
class LocalServices:
    """moto's S3, SNS and SQS as a server on a local port: what the function's own process calls."""

    url: str
    region: str

    @property
    def function_environment(self) -> dict[str, str]:
        """What the function's process needs to reach them: the SDK's endpoint variables, credentials."""
        return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL_S3": self.url, "AWS_ENDPOINT_URL_SNS": self.url}

    def client(self, service: str) -> Any:
        keys = {name.lower(): value for name, value in LOCAL_CREDENTIALS.items()}
        return boto3.session.Session(region_name=self.region, **keys).client(service, endpoint_url=self.url)


@contextmanager
def local_services(region: str) -> Iterator[LocalServices]:
    """Start moto's server on a free local port for as long as the block runs.

    The function runs in a process of its own (table_stream_logger.operations.lambda_runtime), which moto
    in this process cannot reach: its AWS calls (the oversized copies, the alerts' Publish)
    go to this server, whose state this process reads.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield LocalServices(f"http://{host}:{port}", region)
    finally:
        server.stop()


def session(region: str | None, endpoint_url: str | None) -> boto3.session.Session:
    """A boto3 session with a region, and with credentials for an endpoint that needs none."""
    current = boto3.session.Session(region_name=region)
    if endpoint_url and current.get_credentials() is None:
        # DynamoDB Local accepts any credentials, but boto3 refuses to sign without some.
        return boto3.session.Session(
            region_name=region or current.region_name or REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
    if current.region_name is None:
        return boto3.session.Session(region_name=REGION)
    return current


def create_table(dynamodb: Any, table: TableDefinition, table_name: str) -> str:
    """Create the table as the template defines it, its TTL included; return its stream ARN.

    An existing table of that name is an error rather than reused: the story expects an
    empty table, and an endpoint may hold someone's data.
    """
    try:
        description = dynamodb.create_table(**table.create_table_arguments(table_name))["TableDescription"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceInUseException":
            raise BackendError(
                f"a table named {table_name} already exists there: delete it, or pass --table-name"
            ) from None
        raise
    for _ in range(120):  # DynamoDB Local and moto are ACTIVE at once; AWS takes seconds
        if description.get("TableStatus") == "ACTIVE":
            break
        time.sleep(0.5)
        description = dynamodb.describe_table(TableName=table_name)["Table"]
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True}
        )
    return str(description["LatestStreamArn"])


def expire_in_moto(table_name: str, key: dict[str, Any]) -> None:
    """Remove an item from the embedded moto's table as DynamoDB's TTL process does.

    moto's own delete writes the REMOVE record (the item's last image, the stream's next
    sequence number); the TTL process's identity is then given to that record, which every
    reader of the stream gets as it would from AWS. ``key`` is in DynamoDB JSON.
    """
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    database = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    shard = database.get_table(table_name).stream_shard
    assert shard is not None  # the local table has a stream
    if database.delete_item(table_name, key) is None:
        raise BackendError(f"moto's table {table_name} has no such item: nothing to expire")
    shard.items[-1].record["userIdentity"] = dict(STREAMS_TTL_IDENTITY)


def poison_in_moto(table_name: str, attribute: str, value: dict[str, Any]) -> None:
    """Give the last stream record of the embedded moto's table a ``NewImage`` attribute of
    ``value``, as no DynamoDB record has it (local/poison.py); every reader gets it so."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table_name).stream_shard
    assert shard is not None and shard.items  # the local table has a stream, and the item was just put
    record = shard.items[-1].record["dynamodb"]
    record.setdefault("NewImage", {})[attribute] = dict(value)


def table_stream(dynamodb: Any, table_name: str) -> str:
    """The stream ARN of an existing table."""
    description = dynamodb.describe_table(TableName=table_name)["Table"]
    if not description.get("LatestStreamArn") or not description.get("StreamSpecification", {}).get("StreamEnabled"):
        raise BackendError(f"the table {table_name} has no stream enabled")
    return str(description["LatestStreamArn"])


def deployed_table(cloudformation: Any, stack_name: str, logical_id: str) -> str:
    """The physical name of the deployed stack's table."""
    try:
        resource = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)
    except ClientError as error:
        raise BackendError(f"the stack {stack_name} has no resource {logical_id}: {error}") from None
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


class StreamsSource:
    """The poller's view of a stream, through a boto3 DynamoDB Streams client."""

    def __init__(self, streams: Any, stream_arn: str, region: str) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.region = region
        # Where each shard was read up to, to take a fresh iterator if one expires.
        self._last_read: dict[str, str] = {}
        self._shard_of: dict[str, str] = {}

    def shards(self) -> list[Shard]:
        shards: list[Shard] = []
        arguments: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**arguments)["StreamDescription"]
            shards += [Shard(shard["ShardId"], shard.get("ParentShardId")) for shard in description["Shards"]]
            if not description.get("LastEvaluatedShardId"):
                return shards
            arguments["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    def shard_iterator(self, shard_id: str, iterator_type: str) -> str:
        iterator = str(
            self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=iterator_type
            )["ShardIterator"]
        )
        self._shard_of[iterator] = shard_id
        return iterator

    def get_records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        shard_id = self._shard_of.pop(iterator, "")
        try:
            response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExpiredIteratorException" or shard_id not in self._last_read:
                raise
            # An iterator unused for 15 minutes expires on AWS: continue after the last record read.
            fresh = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=self._last_read[shard_id],
            )["ShardIterator"]
            response = self.streams.get_records(ShardIterator=fresh, Limit=limit)
        # DynamoDB Local's TTL deletion, read as AWS writes it.
        records: list[dict[str, Any]] = [
            {**record, "eventName": "REMOVE", "userIdentity": dict(STREAMS_TTL_IDENTITY)}
            if record.get("eventName") == DYNAMODB_LOCAL_EXPIRY
            else record
            for record in response["Records"]
        ]
        if records and shard_id:
            self._last_read[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        next_iterator = response.get("NextShardIterator")
        if next_iterator:
            self._shard_of[next_iterator] = shard_id
        return records, next_iterator
