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

from aws_cdk import Acknowledgment, ArnFormat, Aws, Duration, Names, RemovalPolicy, Size, Stack, Validations
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from .._core import iam_actions as actions
from .._core.buckets import private_bucket
from .._core.compliance import ARCHIVE_ACCESS_LOGS_REASON
from .._core.nag import NAG, acknowledge_grant_wildcard, nag_resource
from .layout import (
    CHANGE_LINES_PATTERN,
    COLUMNS,
    DATA_PREFIX,
    ERROR_PARTITIONS,
    ERROR_PREFIX,
    LINE_COLUMN,
    LINES_TABLE_NAME,
    PARTITION_KEYS,
    PARTITIONS,
    PROJECTION,
    RESULTS_PREFIX,
    RESULTS_RETENTION_DAYS,
    SUBSCRIPTION_FILTER_NAME,
    TABLE_NAME,
    athena_queries,
)

# Firehose gathers up to 15 minutes or 128 MB before it writes an object: an audit trail
# needs no fresher data, and fewer, larger objects are cheaper to write and to query.
BUFFER_INTERVAL = Duration.minutes(15)
BUFFER_SIZE_MB = 128


DEFAULT_RETENTION = Duration.days(365)
# About 5 cents a query at Athena's price of 5 USD per TB scanned.
DEFAULT_BYTES_SCANNED_LIMIT = Size.gibibytes(10)
# Athena refuses a smaller bytes-scanned limit per query.
MIN_BYTES_SCANNED_LIMIT = Size.mebibytes(10)


def check_archive_props(
    log_group_class: logs.LogGroupClass,
    *,
    archive: bool,
    dashboard: bool,
    retention: Duration | None,
    bytes_scanned_limit: Size | None,
    encryption_key: kms.IKey | None = None,
) -> None:
    """Refuse, at synth, what the log group's class cannot do, and archive props that are out of
    range or given without the archive.

    An INFREQUENT_ACCESS group feeds no subscription filter and extracts no embedded metrics
    (CloudWatch Logs user guide, "Log classes"; DescribeSubscriptionFilters answers "This
    operation is only supported on the Standard log class").
    """
    infrequent = log_group_class == logs.LogGroupClass.INFREQUENT_ACCESS
    if infrequent and archive:
        raise ValueError(
            "archive=True needs log_group_class=STANDARD: CloudWatch Logs sends no log line of an "
            "INFREQUENT_ACCESS log group to a subscription filter, so nothing would reach the archive."
        )
    if infrequent and dashboard:
        raise ValueError(
            "log_group_class=INFREQUENT_ACCESS extracts no embedded metrics, so the dashboard's graphs of the "
            "handler's metrics (InsertRecords, ...) would stay empty: give dashboard=False, or keep STANDARD."
        )
    if not archive:
        given = [
            name
            for name, value in (
                ("archive_retention", retention),
                ("archive_bytes_scanned_limit", bytes_scanned_limit),
                ("archive_encryption_key", encryption_key),
            )
            if value is not None
        ]
        if given:
            raise ValueError(f"{' and '.join(given)} given without archive=True: there is no archive to apply it to.")
        return
    if encryption_key is not None and not hasattr(encryption_key, "key_arn"):
        raise ValueError(
            "archive_encryption_key must be a KMS key (kms.Key(...) or kms.Key.from_key_arn(...)), "
            f"got {encryption_key!r}"
        )
    retention = retention or DEFAULT_RETENTION
    days = retention.to_days(integral=False)
    if days < 1 or days != int(days):
        raise ValueError(
            f"archive_retention must be a whole number of days, at least 1, got {retention.to_human_string()}"
        )
    if bytes_scanned_limit is not None and bytes_scanned_limit.to_bytes() < MIN_BYTES_SCANNED_LIMIT.to_bytes():
        raise ValueError(
            "archive_bytes_scanned_limit must be at least 10 MiB (Athena's minimum), "
            f"got {bytes_scanned_limit.to_bytes():g} bytes"
        )


class ChangeArchive(Construct):
    """Keeps every change line of a log group in S3, queryable with Athena.

    :param log_group: The logger's log group, of the STANDARD class (an INFREQUENT_ACCESS group
        cannot feed a subscription filter).
    :param key_names: The table's key names, partition key first, for the saved query of one
        item's history; none (an imported table) leaves that query out.
    :param retention: How long the bucket keeps each change line (and a replaced version).
    :param bytes_scanned_limit: The most data one query of the workgroup may scan.
    :param alarm_action: Added to the alarms for both the ALARM and the OK state.
    :param alarms: Create the alarms on delivery failures.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        key_names: Sequence[str] | None,
        retention: Duration | None = None,
        bytes_scanned_limit: Size | None = None,
        alarm_action: cloudwatch.IAlarmAction | None = None,
        alarms: bool = True,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = encryption_key
        self._bucket = self._build_bucket(retention or DEFAULT_RETENTION)

        self.delivery_log_group = logs.LogGroup(
            self, "DeliveryLogGroup", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.delivery_log_stream = logs.LogStream(
            self, "DeliveryLogStream", log_group=self.delivery_log_group, removal_policy=RemovalPolicy.DESTROY
        )
        self.delivery_role = self._build_delivery_role()
        self._delivery_stream = self._build_delivery_stream()
        self._subscription_filter = self._build_subscription_filter(log_group)

        self._database_name = _athena_name(self, "Database")
        table = self._build_table()
        self._build_lines_table(table)
        self._workgroup = self._build_workgroup(bytes_scanned_limit or DEFAULT_BYTES_SCANNED_LIMIT)
        self._queries: dict[str, athena.CfnNamedQuery] = {
            name: athena.CfnNamedQuery(
                self,
                f"{name}Query",
                name=title,
                description=description,
                database=self._database_name,
                work_group=self._workgroup.ref,
                query_string=sql,
            )
            for name, (title, description, sql) in athena_queries(key_names).items()
        }
        for query in self._queries.values():
            query.node.add_dependency(table)  # named by a string, not a reference

        self._alarms = self._build_alarms(log_group, alarm_action) if alarms else {}

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
        """``ArchiveDelivery`` and ``ArchiveSubscription``; empty with ``alarms=False``."""
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
        _acknowledge(bucket.node.default_child, "S1", ARCHIVE_ACCESS_LOGS_REASON)
        return bucket

    # --- delivery -------------------------------------------------------------------

    def _build_delivery_role(self) -> iam.Role:
        """What the Firehose developer guide lists for an S3 destination, on the archive's prefixes only."""
        role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": Aws.ACCOUNT_ID}}
            ),
            description="Lets Firehose write the change archive's prefixes and its own log stream",
        )
        prefixes = [self._bucket.arn_for_objects(f"{prefix}*") for prefix in (DATA_PREFIX, ERROR_PREFIX)]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[actions.S3_ABORT_MULTIPART_UPLOAD, actions.S3_GET_OBJECT, actions.S3_PUT_OBJECT],
                resources=prefixes,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    actions.S3_GET_BUCKET_LOCATION,
                    actions.S3_LIST_BUCKET,
                    actions.S3_LIST_BUCKET_MULTIPART_UPLOADS,
                ],
                resources=[self._bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[actions.LOGS_PUT_LOG_EVENTS],
                resources=[
                    Stack.of(self).format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{self.delivery_log_group.log_group_name}:log-stream:"
                        f"{self.delivery_log_stream.log_stream_name}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        if self._key is not None:  # S3 asks KMS for each object's data key as Firehose
            self._key.grant(role, actions.KMS_DECRYPT, actions.KMS_GENERATE_DATA_KEY)
        policy = role.node.find_child("DefaultPolicy").node.default_child
        for prefix, arn in zip((DATA_PREFIX, ERROR_PREFIX), prefixes, strict=True):
            _acknowledge(
                policy,
                f"IAM5[Resource::{nag_resource(Stack.of(self).resolve(arn))}]",
                f"Firehose names each object it writes under {prefix} (by time and a random id), so no narrower key "
                "is known in advance; the role reaches no other prefix of the bucket.",
            )
        return role

    def _build_delivery_stream(self) -> firehose.CfnDeliveryStream:
        # The L1 resource: the L2 S3 destination grants its role read and write on the whole
        # bucket (s3:DeleteObject included), more than Firehose needs.
        processors = [
            firehose.CfnDeliveryStream.ProcessorProperty(
                type="Decompression",
                parameters=[
                    firehose.CfnDeliveryStream.ProcessorParameterProperty(
                        parameter_name="CompressionFormat", parameter_value="GZIP"
                    )
                ],
            ),
            # Only each log event's message, the handler's line, without CloudWatch's envelope.
            firehose.CfnDeliveryStream.ProcessorProperty(
                type="CloudWatchLogProcessing",
                parameters=[
                    firehose.CfnDeliveryStream.ProcessorParameterProperty(
                        parameter_name="DataMessageExtraction", parameter_value="true"
                    )
                ],
            ),
            # A newline after each record too, so that the records of a batch never share a line.
            firehose.CfnDeliveryStream.ProcessorProperty(type="AppendDelimiterToRecord"),
        ]
        stream = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=(
                firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK")
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self._bucket.bucket_arn,
                role_arn=self.delivery_role.role_arn,
                prefix=DATA_PREFIX + PARTITIONS,
                error_output_prefix=ERROR_PREFIX + ERROR_PARTITIONS,
                compression_format="GZIP",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=int(BUFFER_INTERVAL.to_seconds()), size_in_m_bs=BUFFER_SIZE_MB
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True, processors=processors
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True,
                    log_group_name=self.delivery_log_group.log_group_name,
                    log_stream_name=self.delivery_log_stream.log_stream_name,
                ),
            ),
        )
        # Firehose checks its role when the stream is created: the grants come first.
        stream.node.add_dependency(self.delivery_role.node.find_child("DefaultPolicy"))
        return stream

    def _build_subscription_filter(self, log_group: logs.ILogGroup) -> logs.CfnSubscriptionFilter:
        """The change lines into the delivery stream, with a role that may put to it and nothing else."""
        role = iam.Role(
            self,
            "SubscriptionRole",
            # Only CloudWatch Logs acting for the logger's log group (the user guide's example allows
            # every log group of the account and region: any of them could be sent to the archive).
            # Its ARN with and without the ":*" CloudWatch Logs puts at the end of a log group's ARN.
            assumed_by=iam.ServicePrincipal(
                "logs.amazonaws.com",
                conditions={"StringLike": {"aws:SourceArn": _log_group_arns(log_group.log_group_name)}},
            ),
            description="Lets CloudWatch Logs put the change lines into the archive's delivery stream",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=[actions.FIREHOSE_PUT_RECORD], resources=[self._delivery_stream.attr_arn])
        )
        subscription = logs.CfnSubscriptionFilter(
            self,
            "SubscriptionFilter",
            log_group_name=log_group.log_group_name,
            filter_name=SUBSCRIPTION_FILTER_NAME,
            filter_pattern=CHANGE_LINES_PATTERN,
            destination_arn=self._delivery_stream.attr_arn,
            role_arn=role.role_arn,
        )
        # CloudWatch Logs sends a test message when the filter is created: the grant comes first.
        subscription.node.add_dependency(role.node.find_child("DefaultPolicy"))
        return subscription

    # --- query ----------------------------------------------------------------------

    def _build_table(self) -> glue.CfnTable:
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self._database_name, description="The change archive of a TableStreamLogger"
            ),
        )
        table = self._glue_table(
            "Table",
            TABLE_NAME,
            "One row per change line (README: Keeping changes for years)",
            classification="json",
            # The OpenX SerDe gives an object's JSON text to a string column.
            serde="org.openx.data.jsonserde.JsonSerDe",
            columns=COLUMNS,
        )
        table.node.add_dependency(database)
        return table

    def _build_lines_table(self, table: glue.CfnTable) -> glue.CfnTable:
        """``change_lines_text``: the same objects, a row per line, the line's exact text (layout.py)."""
        lines = self._glue_table(
            "LinesTable",
            LINES_TABLE_NAME,
            "One row per change line, its exact text (python -m table_stream_logger history)",
            classification="text",
            serde="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            columns=((LINE_COLUMN, "string"),),
        )
        lines.node.add_dependency(table)  # and so on the database, which both name by a string
        return lines

    def _glue_table(
        self,
        construct_id: str,
        name: str,
        description: str,
        *,
        classification: str,
        serde: str,
        columns: Sequence[tuple[str, str]],
    ) -> glue.CfnTable:
        """A table over the archive's GZIP text objects under ``changes/``, with Firehose's date partitions."""
        return glue.CfnTable(
            self,
            construct_id,
            catalog_id=Aws.ACCOUNT_ID,
            database_name=self._database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=name,
                description=description,
                table_type="EXTERNAL_TABLE",
                parameters={"classification": classification, "compressionType": "gzip", **PROJECTION},
                partition_keys=[glue.CfnTable.ColumnProperty(name=key, type="int") for key in PARTITION_KEYS],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=self._bucket.s3_url_for_object(DATA_PREFIX),
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=serde),
                    columns=[glue.CfnTable.ColumnProperty(name=column, type=kind) for column, kind in columns],
                ),
            ),
        )

    def _build_workgroup(self, bytes_scanned_limit: Size) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=_athena_name(self, "WorkGroup"),
            description="Queries of the change archive",
            # Deleting the stack deletes the workgroup and its saved queries, not the archive.
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=int(bytes_scanned_limit.to_bytes()),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self._bucket.s3_url_for_object(RESULTS_PREFIX),
                    # The results hold item data too: with the archive's key when it has one.
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self._key.key_arn
                    )
                    if self._key is not None
                    else athena.CfnWorkGroup.EncryptionConfigurationProperty(encryption_option="SSE_S3"),
                ),
            ),
        )

    # --- alarms ---------------------------------------------------------------------

    def _build_alarms(
        self, log_group: logs.ILogGroup, alarm_action: cloudwatch.IAlarmAction | None
    ) -> dict[str, cloudwatch.Alarm]:
        def build(construct_id: str, description: str, metric: cloudwatch.Metric, above_zero: bool) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=description,
                metric=metric,
                # A failure count above 0, or a success ratio below 1.
                threshold=0 if above_zero else 1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
                if above_zero
                else cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=1,
                # Nothing delivered is no failure.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        five_minutes = Duration.minutes(5)
        alarms = {
            "ArchiveDelivery": build(
                "DeliveryAlarm",
                "Firehose failed to write change lines to the archive bucket; it retries for 24 hours, then drops "
                "them. Look at the delivery stream's log group.",
                cloudwatch.Metric(
                    namespace="AWS/Firehose",
                    metric_name="DeliveryToS3.Success",
                    dimensions_map={"DeliveryStreamName": self._delivery_stream.ref},
                    statistic="Minimum",
                    period=five_minutes,
                ),
                above_zero=False,
            ),
            "ArchiveSubscription": build(
                "SubscriptionAlarm",
                "CloudWatch Logs failed to put change lines into the archive's delivery stream: it retries "
                "retryable errors for 24 hours, and drops the lines after a permission error.",
                cloudwatch.Metric(
                    namespace="AWS/Logs",
                    metric_name="DeliveryErrors",
                    dimensions_map={
                        "LogGroupName": log_group.log_group_name,
                        "DestinationType": "Firehose",
                        "FilterName": SUBSCRIPTION_FILTER_NAME,
                    },
                    statistic="Sum",
                    period=five_minutes,
                ),
                above_zero=True,
            ),
        }
        if alarm_action is not None:
            for alarm in alarms.values():
                alarm.add_alarm_action(alarm_action)
                alarm.add_ok_action(alarm_action)
        return alarms


# --- helpers ----------------------------------------------------------------------------


def _athena_name(scope: Construct, suffix: str) -> str:
    """A Glue database or Athena workgroup name, which CloudFormation cannot generate: unique per
    stack and construct path, lower case with underscores as Athena prefers."""
    name = Names.unique_resource_name(scope, max_length=100, separator="_")
    return f"{name}_{suffix}".lower()


def _acknowledge(resource: IConstruct | None, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag finding on an L1 resource, with its reason (see nag.py)."""
    assert resource is not None
    Validations.of(resource).acknowledge(Acknowledgment(id=f"{NAG}{rule}", reason=reason))


def _log_group_arns(log_group_name: str) -> list[str]:
    """The ARNs by which CloudWatch Logs names one log group: ``...:log-group:NAME`` and ``...:NAME:*``."""
    arn = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{log_group_name}"
    return [arn, f"{arn}:*"]
