"""Where Lambda parks a batch it gave up on: an S3 bucket or an SQS queue, built or given.

Shared by ``TableStreamLogger`` and ``ChangeAlerts`` (their ``FailureOptions``): the built bucket or
queue, and on-failure destinations that grant only what Lambda documents for each.
"""

from __future__ import annotations

from typing import cast

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..options import SQS_RETENTION_RANGE, FailureOptions
from . import iam_actions as actions
from .buckets import private_bucket
from .checks import is_bucket
from .compliance import ACCESS_LOGS_REASON
from .nag import NAG, acknowledge_wildcard
from .record_formats import PARKED_PREFIX


def build_failure_destination(
    scope: Construct, props: FailureOptions
) -> tuple[s3.IBucket | sqs.IQueue, lambda_.IEventSourceDlq]:
    """The destination (given, or one built in ``scope``) and the mapping's on-failure config."""
    given, kind, retention, removal_policy = props.destination, props.kind, props.retention, props.removal_policy
    key = props.encryption_key
    destination: s3.IBucket | sqs.IQueue
    if given is not None:
        destination = given
    elif kind == "S3":
        destination = build_failure_bucket(
            scope, retention or Duration.days(30), removal_policy or RemovalPolicy.RETAIN, key
        )
    else:
        destination = sqs.Queue(
            scope,
            "FailureQueue",
            encryption=sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=retention or SQS_RETENTION_RANGE[1],
            removal_policy=removal_policy or RemovalPolicy.RETAIN,
        )
        Validations.of(destination.node.default_child).acknowledge(  # type: ignore[arg-type]
            Acknowledgment(
                id=f"{NAG}SQS3",
                reason="This queue is itself a dead-letter queue: the on-failure destination of the "
                "event source mapping, which the rule cannot see. Nothing consumes it to need one of its own.",
            )
        )
    if kind == "S3":
        return destination, _S3FailureDestination(cast(s3.IBucket, destination))
    return destination, _SendOnlySqsDestination(cast(sqs.IQueue, destination))


def build_failure_bucket(
    scope: Construct, retention: Duration, removal_policy: RemovalPolicy, encryption_key: kms.IKey | None = None
) -> s3.Bucket:
    """The bucket that keeps each parked batch, with its records, for ``retention``."""
    bucket = private_bucket(
        scope,
        "FailureBucket",
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireParkedBatches",
                expiration=retention,
                noncurrent_version_expiration=retention,
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=removal_policy,
        encryption_key=encryption_key,
    )
    Validations.of(bucket.node.default_child).acknowledge(  # type: ignore[arg-type]
        Acknowledgment(id=f"{NAG}S1", reason=ACCESS_LOGS_REASON)
    )
    return bucket


@jsii.implements(lambda_.IEventSourceDlq)
class _S3FailureDestination:
    """An S3 on-failure destination that grants only what Lambda documents for it.

    The Lambda developer guide ("Capturing discarded batches ..." for Kafka sources, the same
    destinations as for DynamoDB streams) lists ``s3:PutObject`` and ``s3:ListBucket`` for an
    S3 destination, and ``kms:GenerateDataKey`` when the bucket has a KMS key. CDK's
    ``S3OnFailureDestination`` grants read and write (``grant_read_write``) instead.
    """

    def __init__(self, bucket: s3.IBucket) -> None:
        self._bucket = bucket

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        target_handler.add_to_role_policy(
            # Under aws/lambda/ only, where Lambda writes its on-failure records: no function may write
            # the redrive's replayed/ markers, nor the logger's oversized/ copies but the logger.
            iam.PolicyStatement(
                actions=[actions.S3_PUT_OBJECT], resources=[self._bucket.arn_for_objects(f"{PARKED_PREFIX}*")]
            )
        )
        target_handler.add_to_role_policy(
            iam.PolicyStatement(actions=[actions.S3_LIST_BUCKET], resources=[self._bucket.bucket_arn])
        )
        if self._bucket.encryption_key is not None:
            self._bucket.encryption_key.grant(target_handler, actions.KMS_GENERATE_DATA_KEY)
        return lambda_.DlqDestinationConfig(destination=self._bucket.bucket_arn)


@jsii.implements(lambda_.IEventSourceDlq)
class _SendOnlySqsDestination:
    """An SQS on-failure destination that grants only ``sqs:SendMessage``.

    CDK's ``SqsDlq`` grants everything of ``grant_send_messages()``, which also includes
    ``sqs:GetQueueAttributes`` and ``sqs:GetQueueUrl``; Lambda needs neither to deliver a
    failure record. A built queue uses SQS-managed encryption, so no KMS permission is
    needed; a given queue with a KMS key gets ``kms:Decrypt`` and ``kms:GenerateDataKey`` on
    it, as the Lambda developer guide lists for an SQS destination with a customer key.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        self._queue.grant(target_handler, actions.SQS_SEND_MESSAGE)
        if self._queue.encryption_master_key is not None:
            self._queue.encryption_master_key.grant(target_handler, actions.KMS_DECRYPT, actions.KMS_GENERATE_DATA_KEY)
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


# Where the logger's handler copies a record too big for one log line (lambda/stream_logger.py's
# OVERSIZED_PREFIX; a test checks they agree).
OVERSIZED_PREFIX = "oversized"


def allow_oversized_copies(function: lambda_.Function, destination: s3.IBucket | sqs.IQueue) -> None:
    """With a failure bucket, tell the logger's function its name and let it write its oversized-record
    copies there, under ``oversized/`` and nowhere else; a queue holds no copy."""
    if not is_bucket(destination):
        return
    bucket = cast(s3.IBucket, destination)
    function.add_environment("FAILURE_BUCKET", bucket.bucket_name)
    oversized = bucket.arn_for_objects(f"{OVERSIZED_PREFIX}/*")
    function.add_to_role_policy(iam.PolicyStatement(actions=[actions.S3_PUT_OBJECT], resources=[oversized]))
    assert function.role is not None  # the consumer's own role
    acknowledge_wildcard(
        function.role,
        oversized,
        f"s3:PutObject under {OVERSIZED_PREFIX}/ of the failure bucket only: the handler names each "
        "copy by table, day and sequence number, so no narrower key is known in advance.",
    )
