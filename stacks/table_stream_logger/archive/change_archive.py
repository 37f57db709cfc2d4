"""The change log as an audit trail: every change line also kept in S3, queryable with Athena.

The path is AWS's own, with no function of ours in it: a subscription filter on the logger's
log group sends the change lines (and only them) to Amazon Data Firehose, which decompresses
what CloudWatch Logs sends, extracts the log messages, ends each record with a newline,
compresses the batch with GZIP and writes it to an S3 bucket under date partitions. A Glue
table with partition projection and an Athena workgroup make it queryable with SQL.

What Firehose writes, and ``make local ARGS="--archive DIR"`` imitates (``local/archive.py``)::

    changes/year=2026/month=12/day=01/<stream>-1-2026-12-01-13-55-00-<id>.gz

each object a GZIP file of change lines, one JSON object per line, exactly as the handler
logged them. Firehose's partitions are the time a batch reached it (UTC), not the time of
the change: the lines carry that as ``approximate_creation_time``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._core import iam_actions as actions
from .._core.buckets import private_bucket
from .._core.compliance import ARCHIVE_ACCESS_LOGS_REASON
from .._core.nag import acknowledge_grant_wildcard, acknowledge_rule
from ..options import ArchiveOptions, Monitoring
from .catalog import athena_name, build_queries, build_tables, build_workgroup
from .delivery import build_delivery_alarms, build_delivery_role, build_delivery_stream, build_subscription_filter
from .layout import (
    DATA_PREFIX,
    ERROR_PREFIX,
    LINES_TABLE_NAME,
    RESULTS_PREFIX,
    RESULTS_RETENTION_DAYS,
    TABLE_NAME,
)


class ChangeArchive(Construct):
    """Keeps every change line of a log group in S3, queryable with Athena.

    :param log_group: The logger's log group, of the STANDARD class (an INFREQUENT_ACCESS group
        cannot feed a subscription filter).
    :param key_names: The table's key names, partition key first, for the saved query of one
        item's history; none (an imported table) leaves that query out.
    :param options: The archive's retention, query limit and key (``ArchiveOptions``).
    :param monitoring: ``alarms`` and ``alarm_action`` of the alarms on delivery failures (``Monitoring``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        key_names: Sequence[str] | None,
        options: ArchiveOptions | None = None,
        monitoring: Monitoring | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        options, monitoring = options or ArchiveOptions(), monitoring or Monitoring()
        self._key = options.encryption_key
        self._bucket = self._build_bucket(options.retention)

        self.delivery_log_group = logs.LogGroup(
            self, "DeliveryLogGroup", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.delivery_log_stream = logs.LogStream(
            self, "DeliveryLogStream", log_group=self.delivery_log_group, removal_policy=RemovalPolicy.DESTROY
        )
        self.delivery_role = build_delivery_role(
            self, self._bucket, self._key, self.delivery_log_group, self.delivery_log_stream
        )
        self._delivery_stream = build_delivery_stream(
            self, self._bucket, self.delivery_role, self.delivery_log_group, self.delivery_log_stream
        )
        self._subscription_filter = build_subscription_filter(self, log_group, self._delivery_stream)

        self._database_name = athena_name(self, "Database")
        table = build_tables(self, self._bucket, self._database_name)
        self._workgroup = build_workgroup(self, self._bucket, self._key, options.bytes_scanned_limit)
        self._queries = build_queries(self, self._database_name, self._workgroup, table, key_names)
        self._alarms = (
            build_delivery_alarms(self, log_group, self._delivery_stream, monitoring.alarm_action)
            if monitoring.alarms
            else {}
        )

    @property
    def bucket(self) -> s3.Bucket:
        """The archive bucket: change lines under ``changes/``, Firehose's errors under ``errors/``,
        Athena's results under ``athena-results/``."""
        return self._bucket

    @property
    def delivery_stream(self) -> firehose.CfnDeliveryStream:
        """The Firehose stream that writes the change lines to the bucket."""
        return self._delivery_stream

    @property
    def subscription_filter(self) -> logs.CfnSubscriptionFilter:
        """The subscription filter that sends the change lines to the delivery stream."""
        return self._subscription_filter

    @property
    def database_name(self) -> str:
        """The Glue database of the archive's table."""
        return self._database_name

    @property
    def table_name(self) -> str:
        """The Glue table over the change lines: ``change_lines``."""
        return TABLE_NAME

    @property
    def workgroup(self) -> athena.CfnWorkGroup:
        """The Athena workgroup of the saved queries; ``workgroup.ref`` is its name."""
        return self._workgroup

    @property
    def queries(self) -> Mapping[str, athena.CfnNamedQuery]:
        """The saved queries by id: ``ItemHistory`` (not for an imported table), ``AttributeChanges``,
        ``TtlExpiries``, ``ChangesPerDay``."""
        return dict(self._queries)

    @property
    def alarms(self) -> Mapping[str, cloudwatch.Alarm]:
        """``ArchiveDelivery`` and ``ArchiveSubscription``; empty with ``monitoring.alarms=False``."""
        return dict(self._alarms)

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give ``grantee`` what an Athena query of the archive needs, in its workgroup, and nothing
        else: the saved queries, ``history`` (for the time before the log group's retention), or a
        query of one's own. Athena reads the catalog and S3 as the caller.

        - ``athena:StartQueryExecution``, ``GetQueryExecution``, ``GetQueryResults`` and
          ``StopQueryExecution`` on the workgroup;
        - ``glue:GetDatabase`` on the catalog and the database, ``glue:GetTable`` and
          ``glue:GetPartitions`` on them and the two tables (``change_lines``, ``change_lines_text``);
        - ``s3:ListBucket`` and ``s3:GetBucketLocation`` on the bucket, ``s3:GetObject`` on the lines
          (``changes/*``), and what Athena does with the results it writes for the caller
          (``athena-results/*``): ``s3:PutObject``, ``s3:GetObject``, ``s3:AbortMultipartUpload``,
          ``s3:ListMultipartUploadParts``, with ``s3:ListBucketMultipartUploads`` on the bucket;
        - with the archive's key, ``kms:Decrypt`` and ``kms:GenerateDataKey`` on it.
        """

        def allow(actions_: list[str], resources: list[str]) -> iam.Grant:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions_, resource_arns=resources)

        stack = Stack.of(self)

        def glue_arn(resource: str, name: str = "") -> str:
            return stack.format_arn(
                service="glue", resource=resource, resource_name=name or None, arn_format=ArnFormat.SLASH_RESOURCE_NAME
            )

        workgroup = stack.format_arn(
            service="athena",
            resource="workgroup",
            resource_name=self._workgroup.ref,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        catalog, database = glue_arn("catalog"), glue_arn("database", self._database_name)
        tables = [glue_arn("table", f"{self._database_name}/{name}") for name in (TABLE_NAME, LINES_TABLE_NAME)]
        results = self._bucket.arn_for_objects(f"{RESULTS_PREFIX}*")
        grant = allow(
            [
                actions.ATHENA_START_QUERY_EXECUTION,
                actions.ATHENA_GET_QUERY_EXECUTION,
                actions.ATHENA_GET_QUERY_RESULTS,
                actions.ATHENA_STOP_QUERY_EXECUTION,
            ],
            [workgroup],
        )
        grant = grant.combine(allow([actions.GLUE_GET_DATABASE], [catalog, database]))
        table_actions = [actions.GLUE_GET_TABLE, actions.GLUE_GET_PARTITIONS]
        grant = grant.combine(allow(table_actions, [catalog, database, *tables]))
        grant = grant.combine(
            allow(
                [actions.S3_LIST_BUCKET, actions.S3_GET_BUCKET_LOCATION, actions.S3_LIST_BUCKET_MULTIPART_UPLOADS],
                [self._bucket.bucket_arn],
            )
        )
        lines = self._bucket.arn_for_objects(f"{DATA_PREFIX}*")
        grant = grant.combine(allow([actions.S3_GET_OBJECT], [lines, results]))
        grant = grant.combine(
            allow(
                [actions.S3_PUT_OBJECT, actions.S3_ABORT_MULTIPART_UPLOAD, actions.S3_LIST_MULTIPART_UPLOAD_PARTS],
                [results],
            )
        )
        if self._key is not None:  # read the lines, write and read the results
            grant = grant.combine(self._key.grant(grantee, actions.KMS_DECRYPT, actions.KMS_GENERATE_DATA_KEY))
        for resource, reason in (
            (lines, "Athena reads every archived object of the table"),
            (results, "Athena writes and reads the query's results under athena-results/"),
        ):
            acknowledge_grant_wildcard(grantee, resource, reason)
        return grant

    # --- storage --------------------------------------------------------------------

    def _build_bucket(self, retention: Duration) -> s3.Bucket:
        bucket = private_bucket(
            self,
            "Bucket",
            lifecycle_rules=[
                *(
                    s3.LifecycleRule(
                        id=rule_id, prefix=prefix, expiration=retention, noncurrent_version_expiration=retention
                    )
                    for rule_id, prefix in (("ExpireChanges", DATA_PREFIX), ("ExpireErrors", ERROR_PREFIX))
                ),
                s3.LifecycleRule(
                    id="ExpireQueryResults",
                    prefix=RESULTS_PREFIX,
                    expiration=Duration.days(RESULTS_RETENTION_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            # The archive is the record of every change: deleting the stack keeps it.
            removal_policy=RemovalPolicy.RETAIN,
            encryption_key=self._key,
        )
        acknowledge_rule(bucket.node.default_child, "S1", ARCHIVE_ACCESS_LOGS_REASON)
        return bucket
