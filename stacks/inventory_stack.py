"""The shop inventory of the AWS tutorials, with every change logged, back-in-stock alerts and expiring listings."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.settings import check_stage
from stacks.table_stream_logger import (
    ArchiveOptions,
    ChangeAlerts,
    Expires,
    FailureOptions,
    LogLevel,
    LogOptions,
    Monitoring,
    NewTable,
    RisesAbove,
    TableStreamLogger,
)

#: The app's alert: an item whose Stocks rises from 0 or less (or none) to more than 0.
BACK_IN_STOCK = RisesAbove(
    "Stocks",
    0,
    name="back-in-stock",
    title="Back in stock",
    # A restock of an item already listed; a new listing is not "back".
    include_inserts=False,
)
#: The table's TTL attribute: a listing with it (a seasonal fruit, an offer) ends at that time,
#: in seconds since 1970, and DynamoDB's TTL then deletes the item (typically within a few days).
EXPIRES_AT = "ExpiresAt"
#: The app's other alert: a listing that DynamoDB's TTL removed (a delete by the shop does not fire).
LISTING_EXPIRED = Expires(name="listing-expired", title="Listing expired")


class InventoryStack(Stack):
    """An inventory table (keys ``PK``/``SK``) whose stream is logged by a TableStreamLogger
    and watched by ChangeAlerts, which publishes to an SNS topic when an item is back in stock
    and when DynamoDB's TTL removes a listing whose ``ExpiresAt`` has passed.

    :param service_name: The ``service`` of every log line.
    :param log_level: The functions' log level: the logger's and the alerts'.
    :param stage: ``dev`` or ``prod``. Default: ``dev``. ``prod`` turns on the table's
        and the log group's deletion protection, the change archive (S3, Athena) and a key of its own for the log
        group; the table and the failure bucket are retained on delete in both stages unless
        ``destroy_on_delete``.
    :param destroy_on_delete: Delete the table and the failure bucket with the stack.
        Default: ``False``. Refused with ``stage="prod"``.
    :param alarm_topic_arn: An SNS topic that every alarm notifies, on ALARM and on OK.
        Default: none.
    :param alert_email: An e-mail address subscribed to the alerts topic, both rules (SNS
        sends it a confirmation link first). Default: none, no subscription.
    :param kwargs: Passed to ``Stack`` (``env``, ``description``, ...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        log_level: LogLevel,
        stage: str = "dev",
        destroy_on_delete: bool = False,
        alarm_topic_arn: str | None = None,
        alert_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_stage(stage, destroy_on_delete)
        super().__init__(scope, construct_id, **kwargs)

        # The same construct tree in every stage, so that the stateful resources keep their
        # logical IDs: only their properties and policies differ, and prod adds the log's key.
        removal_policy = RemovalPolicy.DESTROY if destroy_on_delete else RemovalPolicy.RETAIN
        alarm_action = (
            cloudwatch_actions.SnsAction(sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic_arn))
            if alarm_topic_arn
            else None
        )
        log_key = self._log_key() if stage == "prod" else None
        data_key = self._data_key() if stage == "prod" else None
        logger = TableStreamLogger(
            self,
            "InventoryLogger",
            new_table=NewTable(
                partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
                removal_policy=removal_policy,
                # Omitted (DynamoDB's default: off) rather than false in dev.
                deletion_protection=True if stage == "prod" else None,
                time_to_live_attribute=EXPIRES_AT,
            ),
            log=LogOptions(
                service_name=service_name,
                level=log_level,
                encryption_key=log_key,
                deletion_protection=stage == "prod",
            ),
            failure=FailureOptions(removal_policy=removal_policy, encryption_key=data_key),
            monitoring=Monitoring(alarm_action=alarm_action),
            archive=ArchiveOptions(encryption_key=data_key) if stage == "prod" else None,
        )
        self.logger = logger
        # The stream's second reader (DynamoDB advises two at most). Batches it gives up on are
        # parked with the logger's, in the same bucket: one place to look.
        self.alerts = ChangeAlerts(
            self,
            "InventoryAlerts",
            table=logger.table,
            rules=[BACK_IN_STOCK, LISTING_EXPIRED],
            log=LogOptions(level=log_level, encryption_key=log_key),
            failure=FailureOptions(destination=logger.failure_destination),
            monitoring=Monitoring(alarm_action=alarm_action),
        )
        if alert_email:
            self.alerts.topic.add_subscription(subscriptions.EmailSubscription(alert_email))

        self._outputs(logger)

    def _outputs(self, logger: TableStreamLogger) -> None:
        """Where things are, for the operator and the docs' commands (the redrive command finds them
        from the stack's resources)."""
        assert isinstance(logger.failure_destination, s3.Bucket) and logger.dashboard is not None
        CfnOutput(self, "TableName", value=logger.table.table_name)
        CfnOutput(self, "StreamArn", value=logger.stream_arn)
        CfnOutput(self, "FunctionName", value=logger.function.function_name)
        CfnOutput(self, "LogGroupName", value=logger.log_group.log_group_name)
        # The AWS walkthrough has users note this UUID to inspect or update the mapping.
        CfnOutput(
            self,
            "EventSourceMappingUuid",
            value=logger.event_source_mapping.event_source_mapping_id,
        )
        # Where the batches are parked (docs/operations.md: When RecordsParked fires).
        CfnOutput(self, "FailureBucketName", value=logger.failure_destination.bucket_name)
        CfnOutput(self, "DashboardName", value=logger.dashboard.dashboard_name)
        # Subscribe to it: `aws sns subscribe --topic-arn ... --protocol email ...` (README: Alerts).
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)
        # The bucket's other reader, whose batches are parked there too.
        CfnOutput(self, "AlertsFunctionName", value=self.alerts.function.function_name)
        if logger.archive is not None:
            # Where the archive is read from (README: Keeping changes for years).
            CfnOutput(self, "ArchiveBucketName", value=logger.archive.bucket.bucket_name)
            CfnOutput(self, "ArchiveWorkGroup", value=logger.archive.workgroup.ref)
            CfnOutput(self, "ArchiveDatabaseName", value=logger.archive.database_name)

    def _log_key(self) -> kms.Key:
        """The prod log group's key: the group holds every item change, whole, for 30 days.

        With a key of its own, who may read the change log is decided by a key policy and every
        decryption is in CloudTrail, for a key's monthly charge. Retained on delete like the log
        group itself, whose lines stay readable only with it.
        """
        return kms.Key(
            self,
            "LogKey",
            description="Encrypts the change log and the alerts' log (the functions' log groups)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _data_key(self) -> kms.Key:
        """The prod buckets' key: the parked batches and oversized records (unredacted, 30 days)
        and the archive (every change line, a year) are readable only by whom its policy and
        the grants allow (``grant_redrive``, ``archive.grant_query``); every decryption is in
        CloudTrail. Retained on delete like the buckets."""
        return kms.Key(
            self,
            "DataKey",
            description="Encrypts the parked batches, oversized records and the change archive (S3)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
