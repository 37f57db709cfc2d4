"""A reusable construct that logs every change of a DynamoDB table to CloudWatch Logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, cast, get_args

from aws_cdk import Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._core import iam_actions as actions
from ._core.compliance import skip_archive_findings
from ._core.failure_destinations import (
    FailureDestinationProps,
    FailureDestinationType,
    allow_oversized_copies,
    is_bucket,
)
from ._core.log_levels import LogLevel
from ._core.monitoring import DROPPED_METRIC, PARKED_METRIC, AlarmProps, mapping_metric
from ._core.nag import acknowledge_grant_wildcard
from ._core.queries import history_index_fields, save_queries
from ._core.stream_consumer import (
    FunctionLimits,
    FunctionProps,
    StreamConsumer,
    StreamReading,
    check_function_props,
    handler_code,
    handler_environment,
)
from ._core.tables import (
    IMAGES_DELIVERED,
    check_stream_view_type,
    check_table_props,
    existing_key_names,
    key_names,
)
from .archive.change_archive import ChangeArchive, check_archive_props
from .filters import ChangeFilter, check_filters

#: The default handler, in the handler asset (see ``handler_asset_dir``).
HANDLER = "stream_logger.handler"
HANDLER_FILE = "stream_logger.py"

#: What a log line carries of the item (``log_images``); typed so that mypy catches a typo.
LogImages = Literal["NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES"]
#: Where the Lambda context keys go (``log_context_keys``).
LogContextKeys = Literal["ONCE", "EVERY_LINE"]
LOG_IMAGES_CHOICES: tuple[LogImages, ...] = get_args(LogImages)
LOG_CONTEXT_KEYS_CHOICES: tuple[LogContextKeys, ...] = get_args(LogContextKeys)

# What the handler emits (lambda/stream_logger.py): one embedded-metric-format line per
# invocation, in the namespace `metrics_namespace`, with the dimension `service`.
HANDLER_METRICS = ("InsertRecords", "ModifyRecords", "RemoveRecords", "FailedRecords")

# What the default handler needs from the stream, per log_images mode.
IMAGES_NEEDED = {
    "NEW_AND_CHANGES": {"new", "old"},
    "NEW_AND_OLD": {"new", "old"},
    "CHANGES": {"new", "old"},
    "NEW": {"new"},
}


class TableStreamLogger(StreamConsumer):
    """Logs every item-level change of a DynamoDB table as one JSON line in CloudWatch Logs.

    It builds or accepts a table with a stream, and wires that stream through an event
    source mapping to a Python function (with Powertools) that writes to its own log group.
    Batches the function cannot process end up, after bounded retries, in an S3 bucket that
    keeps the whole batch (or, if chosen, an SQS queue that keeps only its position in the
    stream). Alarms and a dashboard watch the lag, the errors and the parked batches.

    It is one reader of the stream; DynamoDB advises at most two per shard. A ``ChangeAlerts``
    on the same table is the second (and ``table``, ``failure_destination`` can be shared with it).

    Table (give either ``table`` or ``partition_key``, not both):

    :param table: An existing table to log, which must have a stream. An imported table
        works when its stream ARN is given, e.g. ``Table.from_table_attributes(...,
        table_stream_arn=...)``. Default: none, the construct builds a table.
    :param stream_view_type: The view type of an imported table's stream, which CDK cannot
        read; when given, it is checked against ``log_images`` and ``filters`` like the view
        type of a ``Table`` or ``TableV2`` of the app is. Only with ``table``; given for a
        table of the app, it must equal the table's. Default: none, an imported table's view
        type is not checked.
    :param partition_key: Partition key of the table to build. Required when no ``table``.
    :param sort_key: Sort key of the table to build. Default: none.
    :param removal_policy: Removal policy of the table to build. Default:
        ``RemovalPolicy.RETAIN``, so that deleting the stack never deletes data.
    :param deletion_protection: Deletion protection of the table to build: DynamoDB refuses
        to delete it until it is turned off. Default: ``False``.
    :param encryption_key: A customer-managed KMS key for the table to build. Default: none,
        the table is encrypted with an AWS owned key (DynamoDB's default, no KMS charges and
        no key policy to manage). With a key, the function may ``kms:Decrypt`` with it.
    :param time_to_live_attribute: The attribute of the table to build that holds each item's
        expiry time (a number, seconds since 1970): DynamoDB's TTL deletes an item after that
        time, typically within a few days, and the logger marks its REMOVE ``ttl_expired``.
        Default: none, no TTL.

    Function:

    :param service_name: ``POWERTOOLS_SERVICE_NAME``, the ``service`` of every log line.
        Default: ``"table-stream-logger"``.
    :param log_level: Which lines the function writes: DEBUG or INFO (every change), WARN
        or ERROR (only records that fail; the per-invocation metrics line is written at every
        level). Default: ``"INFO"``. The handler applies it itself; Lambda's own log-level
        filter is kept at INFO (DEBUG for DEBUG), so that it never drops the metrics line.
    :param log_retention: Retention of the function's log group. Default:
        ``RetentionDays.ONE_MONTH`` (30 days).
    :param log_encryption_key: A customer-managed KMS key for the function's log group, which
        holds every item change. Its key policy gets a statement that lets CloudWatch Logs of the
        stack's region use it for this log group only (an imported key's policy is yours to
        set). Default: none, CloudWatch Logs encrypts the group with its own keys.
    :param log_deletion_protection: Protect the function's log group from deletion: CloudWatch
        Logs refuses ``DeleteLogGroup`` (console, CLI or a script) until protection is turned off.
        The group is kept when the stack is deleted either way (RETAIN). Default: ``False``.
    :param log_group_class: The log group's class. Default: ``LogGroupClass.STANDARD``, because
        our own features need it: the archive's subscription filter and the dashboard's graphs
        of the handler's embedded metrics. ``INFREQUENT_ACCESS`` costs about half as much per
        GB ingested and keeps Logs Insights queries (the saved ones included; not the
        ``pattern``, ``diff``, ``filterIndex`` and ``unmask`` commands), but gives up
        subscription filters, metric filters and embedded-metric extraction, Live Tail and
        anomaly detection; it is refused with ``archive=True`` or ``dashboard=True``. A log
        group's class cannot change: changing it replaces the group. A ``STANDARD`` group gets a
        field index policy on the key fields (``keys.<name>``, unless redacted) and
        ``event_name``, so that a history query (``python -m table_stream_logger history``)
        scans only the item's lines; an ``INFREQUENT_ACCESS`` group has no field indexes.
    :param log_images: What each log line carries of the item. ``NEW_AND_CHANGES`` (default):
        the new image, and for a MODIFY the old and new value of each changed attribute
        (``changes``), from which the old image is rebuilt exactly; a REMOVE logs the old image.
        ``NEW_AND_OLD``: both images in full. ``NEW``: the new image only (a REMOVE the old one).
        ``CHANGES``: a MODIFY logs only the changed attributes, an INSERT or REMOVE its one
        image. Default: ``"NEW_AND_CHANGES"``, lossless at about half the bytes of
        ``NEW_AND_OLD``. ``NEW_AND_CHANGES``, ``NEW_AND_OLD`` and ``CHANGES`` need a
        ``NEW_AND_OLD_IMAGES`` stream, ``NEW`` a ``NEW_IMAGE`` or ``NEW_AND_OLD_IMAGES`` one.
    :param log_context_keys: Where the Lambda context keys (service, cold start, function
        name, ARN and memory, X-Ray trace) go: ``ONCE``, on one line per invocation (each
        record line keeps its request id), or ``EVERY_LINE``, on every record line too, as the
        Powertools Logger writes them, for queries that filter on them. Default: ``"ONCE"``,
        since CloudWatch bills every byte.
    :param saved_queries: Save CloudWatch Logs Insights queries for this log group (history
        of one item, changes of one attribute, failed records, changes per minute, TTL
        expiries). Default: ``True``.
    :param redact: Attribute names or dotted paths (``"card.number"``) whose values are
        replaced before logging; ``"card\\.number"`` names a top-level attribute with a dot in
        its name. A path whose parent is not a map hides the parent whole. Default: none.
    :param memory_size: Memory of the function in MB. Default: 256. Lambda allots CPU in
        proportion to memory; 256 MB decodes a batch of 100 records well within the timeout
        while costing little more than the 128 MB minimum.
    :param timeout: Timeout of the function. Default: 30 seconds, ample for logging one batch,
        short enough that a hung invocation does not hold its shard for long.
    :param reserved_concurrent_executions: Concurrency reserved for the function (and the most
        it gets), at least 1; below shards times ``parallelization_factor`` the stream lags.
        Default: none: the stream bounds the function's concurrency already (one batch per shard
        and ``parallelization_factor``), from the account's unreserved pool.
    :param metrics_namespace: ``POWERTOOLS_METRICS_NAMESPACE``. Default:
        ``"TableStreamLogger"``.
    :param powertools_layer: The Powertools layer. Default: the public Powertools for AWS
        Lambda (Python) layer, version ``POWERTOOLS_VERSION``, for arm64 and Python 3.14.
    :param code: Your own handler's code, e.g. ``lambda_.Code.from_asset("handlers")``, given
        together with ``handler``. The function then runs it (Python 3.14, arm64), with
        everything else unchanged: the role and its grants, the layer, the environment, the
        event source mapping and its filters, the failure destination, the alarms and the
        dashboard (whose per-event-name graphs stay empty unless your code writes the same
        metrics). ``log_images`` is then not checked against the stream: your code decides
        what it needs. Default: none, the logger of this package.
    :param handler: Your handler, ``"module.function"``, given together with ``code``.
        Default: ``"stream_logger.handler"``, the logger of this package.

    Archive (README: Keeping changes for years):

    :param archive: Also keep every change line in S3, queryable with Athena: a subscription
        filter sends the change lines to Amazon Data Firehose, which writes them, GZIP
        compressed, under ``changes/year=/month=/day=/`` of an encrypted, versioned, SSL-only
        bucket; a Glue table (partition projection), an Athena workgroup and saved queries
        read them. Default: ``False``.
    :param archive_retention: How long the archive keeps a change line, in whole days; only
        with ``archive=True``. Default: 365 days.
    :param archive_bytes_scanned_limit: The most one query of the archive's workgroup may
        scan, at least 10 MiB; only with ``archive=True``. Default: 10 GiB (about 5 cents a
        query at Athena's price).
    :param archive_encryption_key: A customer-managed KMS key for the archive bucket (SSE-KMS, with
        an S3 bucket key) and the Athena results: the archive holds every change line for
        ``archive_retention``. Firehose's role gets what it needs to write with it, and
        ``archive.grant_query`` what a reader needs. Only with ``archive=True``. Default: none,
        S3-managed keys.

    Event source mapping:

    :param batch_size: Most records per invocation, 1 to 10000. Default: 100, as in the AWS
        CLI walkthrough.
    :param max_batching_window: How long to gather records before invoking, up to 5
        minutes. Default: 1 second: at most a second of delay, far fewer invocations under
        load.
    :param starting_position: Where a new mapping starts reading the stream. Default:
        ``TRIM_HORIZON``, the oldest record still in the stream, so no change is missed.
    :param retry_attempts: Retries of a failing batch before it goes to the failure
        destination, 0 to 10000. Default: 10. With ``bisect_batch_on_error`` and partial
        batch responses this isolates a poison record quickly instead of blocking its shard
        until the record expires after a day.
    :param max_record_age: Records older than this go to the failure destination unprocessed,
        60 seconds to 7 days. Default: 6 hours, which leaves 18 of the stream's 24 hours of
        retention to replay a failed batch from the failure record.
    :param bisect_batch_on_error: Split a failing batch in two and retry each half. Default:
        ``True``.
    :param parallelization_factor: Concurrent batches per shard, 1 to 10. Default: 1, which
        processes each shard strictly in order.
    :param filters: Which records reach the function, as typed ``ChangeFilter`` objects
        (Lambda event filtering): a record passes if it matches any of them, and the others
        are dropped before batching. At most 5, Lambda's default quota. A filter on
        ``new_image_has`` / ``old_image_has`` needs a stream with those images. Numbers cannot
        be compared: DynamoDB streams carry them as strings, which Lambda's numeric filters
        never match. Default: none, every record reaches the function.

    Failure destination (where Lambda parks a batch it gave up on):

    :param failure_destination: An existing S3 bucket or SQS queue to use; the construct then
        builds neither. Default: none, the construct builds one (see
        ``failure_destination_type``).
    :param failure_destination_type: What to build: ``"S3"`` or ``"SQS"``. Default: ``"S3"``.
        For an S3 destination Lambda writes the whole invocation, records included, so a
        parked batch outlives the stream's 24 hours; an SQS (or SNS) destination receives
        only the batch's position in the stream.
    :param failure_retention: How long a built destination keeps a parked batch. Default: 30
        days for a bucket (whole days, at least 1), 14 days for a queue (60 seconds to 14
        days, the most SQS keeps a message).
    :param failure_removal_policy: Removal policy of the built bucket or queue. Default:
        ``RemovalPolicy.RETAIN``: parked batches are data, deleting the stack keeps them.
        With ``DESTROY``, CloudFormation deletes an empty bucket but fails on one that still
        holds objects; nothing empties it behind your back.
    :param failure_encryption_key: A customer-managed KMS key for the built bucket (SSE-KMS, with
        an S3 bucket key) or queue: a parked batch holds its records' items, unredacted. The
        function's role gets what Lambda needs to write with it. Default: none, S3- or
        SQS-managed encryption. Not with ``failure_destination`` (encrypt your own).

    Monitoring:

    :param alarms: Create the alarms (stream lag, function errors, throttles, parked and
        dropped records). Default: ``True``.
    :param iterator_age_threshold: The stream lag alarm fires when the mapping's
        ``IteratorAge`` (maximum per minute) is above this in 3 of 5 minutes. Default:
        60 seconds, far above the 1-second batching window of a healthy mapping.
    :param alarm_action: Added to every alarm for both the ALARM and the OK state, e.g.
        ``cloudwatch_actions.SnsAction(topic)``, so that whoever is told of a problem is
        also told when it is over. Default: none (the alarms only change state).
    :param dashboard: Create a CloudWatch dashboard with these metrics and the handler's own.
        Default: ``True``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable | None = None,
        stream_view_type: dynamodb.StreamViewType | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        removal_policy: RemovalPolicy | None = None,
        deletion_protection: bool | None = None,
        encryption_key: kms.IKey | None = None,
        time_to_live_attribute: str | None = None,
        service_name: str = "table-stream-logger",
        log_level: LogLevel = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_encryption_key: kms.IKey | None = None,
        log_deletion_protection: bool = False,
        log_group_class: logs.LogGroupClass = logs.LogGroupClass.STANDARD,
        log_images: LogImages = "NEW_AND_CHANGES",
        log_context_keys: LogContextKeys = "ONCE",
        saved_queries: bool = True,
        redact: Sequence[str] = (),
        memory_size: int = 256,
        timeout: Duration | None = None,
        reserved_concurrent_executions: int | None = None,
        metrics_namespace: str = "TableStreamLogger",
        powertools_layer: lambda_.ILayerVersion | None = None,
        code: lambda_.Code | None = None,
        handler: str | None = None,
        batch_size: int = 100,
        max_batching_window: Duration | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        retry_attempts: int = 10,
        max_record_age: Duration | None = None,
        bisect_batch_on_error: bool = True,
        parallelization_factor: int = 1,
        filters: Sequence[ChangeFilter] = (),
        failure_destination: s3.IBucket | sqs.IQueue | None = None,
        failure_destination_type: FailureDestinationType | None = None,
        failure_retention: Duration | None = None,
        failure_removal_policy: RemovalPolicy | None = None,
        failure_encryption_key: kms.IKey | None = None,
        alarms: bool = True,
        iterator_age_threshold: Duration | None = None,
        alarm_action: cloudwatch.IAlarmAction | None = None,
        dashboard: bool = True,
        archive: bool = False,
        archive_retention: Duration | None = None,
        archive_bytes_scanned_limit: Size | None = None,
        archive_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Build the logger; every argument, with its default, is described above (``help(TableStreamLogger)``)."""
        # Defaults that are objects are set here, so that help() shows None rather than an object's address.
        timeout = timeout or Duration.seconds(30)
        max_batching_window = max_batching_window or Duration.seconds(1)
        max_record_age = max_record_age or Duration.hours(6)
        iterator_age_threshold = iterator_age_threshold or Duration.seconds(60)
        # Validate everything before building anything, the construct's own node included, so
        # that a mistake surfaces as one clear error at synth rather than as a half-built tree.
        check_table_props(
            table, partition_key, sort_key, removal_policy, deletion_protection, encryption_key, time_to_live_attribute
        )
        check_function_props(log_level, redact)
        if log_images not in LOG_IMAGES_CHOICES:
            raise ValueError(f"log_images must be one of {list(LOG_IMAGES_CHOICES)}, got {log_images!r}")
        if log_context_keys not in LOG_CONTEXT_KEYS_CHOICES:
            raise ValueError(
                f"log_context_keys must be one of {list(LOG_CONTEXT_KEYS_CHOICES)}, got {log_context_keys!r}"
            )
        if reserved_concurrent_executions is not None and reserved_concurrent_executions < 1:
            raise ValueError(
                f"reserved_concurrent_executions must be at least 1, got {reserved_concurrent_executions}: "
                "the function would never run and the stream would wait for it."
            )
        if log_encryption_key is not None and not hasattr(log_encryption_key, "key_arn"):
            raise ValueError(
                "log_encryption_key must be a KMS key (kms.Key(...) or kms.Key.from_key_arn(...)), "
                f"got {log_encryption_key!r}"
            )
        reading = StreamReading(
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            starting_position=starting_position,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            bisect_batch_on_error=bisect_batch_on_error,
            parallelization_factor=parallelization_factor,
        )
        failure = FailureDestinationProps(
            failure_destination,
            failure_destination_type,
            failure_retention,
            failure_removal_policy,
            failure_encryption_key,
        )
        alarm_props = AlarmProps(alarms, iterator_age_threshold, alarm_action)
        if (code is None) != (handler is None):
            raise ValueError(
                "Give both code and handler for your own handler (e.g. code=lambda_.Code.from_asset('handlers'), "
                "handler='mine.handler'), or neither for the logger of this package: "
                f"only {'code' if code is not None else 'handler'} was given."
            )
        change_filters = check_filters(filters)
        check_archive_props(
            log_group_class,
            archive=archive,
            dashboard=dashboard,
            retention=archive_retention,
            bytes_scanned_limit=archive_bytes_scanned_limit,
            encryption_key=archive_encryption_key,
        )
        view_type = check_stream_view_type(table, stream_view_type)
        _check_images(
            view_type,
            # Your own handler decides which images it needs; the filters need theirs regardless.
            log_images if code is None else None,
            change_filters,
            table.node.path if table is not None else None,
        )
        if code is None:
            code = handler_code(HANDLER_FILE)
            description = "Logs every change of a DynamoDB table as one JSON line"
        else:
            description = "Handles every change of a DynamoDB table"

        super().__init__(scope, construct_id)

        if table is None:
            table = dynamodb.Table(
                self,
                "Table",
                partition_key=partition_key,
                sort_key=sort_key,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                # Without a key, the CloudFormation default: an AWS owned key.
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED if encryption_key else None,
                encryption_key=encryption_key,
                deletion_protection=deletion_protection,
                time_to_live_attribute=time_to_live_attribute,
                removal_policy=removal_policy or RemovalPolicy.RETAIN,
            )
            key_attributes: list[str] | None = key_names(partition_key, sort_key)
        else:
            key_attributes = existing_key_names(table)
        stream_arn = table.table_stream_arn
        assert stream_arn is not None  # checked above
        self._table = table
        self._stream_arn = stream_arn
        self._redact = tuple(redact)

        environment = handler_environment(
            service_name,
            log_level,
            redact,
            key_attributes,
            POWERTOOLS_METRICS_NAMESPACE=metrics_namespace,
            LOG_IMAGES=log_images,
            LOG_CONTEXT_KEYS=log_context_keys,
        )
        # The log group is the record of every change to the table: kept (RETAIN) when the stack
        # is deleted, to expire with its retention.
        self._read_stream(
            table,
            FunctionProps(
                description=description,
                role_description="Reads the table's stream and writes the function's log group",
                code=code,
                handler=handler or HANDLER,
                environment=environment,
                log_group_class=log_group_class,
                log_encryption_key=log_encryption_key,
                log_deletion_protection=log_deletion_protection,
                reserved_concurrent_executions=reserved_concurrent_executions,
                index_fields=history_index_fields(key_attributes, redact),
                # The handler applies log_level; Lambda's filter stays at INFO (lambda_log_level).
                limits=FunctionLimits(log_level, log_retention, memory_size, timeout, powertools_layer),
            ),
            reading,
            failure,
            alarm_props,
            filters=[change_filter.to_filter() for change_filter in change_filters],
            # The EventCount group feeds the dashboard too.
            event_count_metrics=dashboard,
        )
        if is_bucket(self._failure_destination):
            bucket = cast(s3.IBucket, self._failure_destination)
            self._function.add_environment("FAILURE_BUCKET", bucket.bucket_name)
            allow_oversized_copies(self._function, bucket)
        self._queries = save_queries(self, self._log_group, key_attributes) if saved_queries else []
        self._dashboard = (
            self._build_dashboard(metrics_namespace, service_name, iterator_age_threshold) if dashboard else None
        )
        self._archive = (
            ChangeArchive(
                self,
                "Archive",
                log_group=self._log_group,
                key_names=key_attributes,
                retention=archive_retention,
                bytes_scanned_limit=archive_bytes_scanned_limit,
                alarm_action=alarm_action,
                alarms=alarms,
                encryption_key=archive_encryption_key,
            )
            if archive
            else None
        )
        if self._archive is not None:
            self._alarms.update(self._archive.alarms)
            skip_archive_findings(self._archive)

    @property
    def stream_arn(self) -> str:
        """The ARN of the table's stream."""
        return self._stream_arn

    @property
    def redact(self) -> tuple[str, ...]:
        """What the handler redacts; a ``ChangeAlerts`` on the same table redacts it too."""
        return self._redact

    @property
    def log_group(self) -> logs.LogGroup:
        """The function's log group, where the change log lines go."""
        return self._log_group

    @property
    def queries(self) -> Sequence[logs.QueryDefinition]:
        """The saved Logs Insights queries; empty with ``saved_queries=False``."""
        return self._queries

    @property
    def alarms(self) -> Mapping[str, cloudwatch.Alarm]:
        """The alarms by name: ``IteratorAge``, ``Errors``, ``Throttles``, ``RecordsParked``,
        ``RecordsDropped``, with the archive also ``ArchiveDelivery`` and ``ArchiveSubscription``;
        empty with ``alarms=False``."""
        return dict(self._alarms)

    @property
    def archive(self) -> ChangeArchive | None:
        """The change archive (bucket, delivery stream, Glue table, Athena workgroup and queries);
        ``None`` with ``archive=False``."""
        return self._archive

    @property
    def dashboard(self) -> cloudwatch.Dashboard | None:
        """The dashboard; ``None`` with ``dashboard=False``."""
        return self._dashboard

    def grant_history(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give ``grantee`` what ``python -m table_stream_logger history --stack-name S`` needs to
        read an item's history from this logger, and nothing else (docs/operations.md: Who may read
        the history). The history holds item data, unredacted but for ``redact``: grant it as you
        would read access to the log group.

        - ``cloudformation:DescribeStacks`` and ``cloudformation:ListStackResources`` on this stack
          (its outputs name the log group and the archive; without them ``history`` finds the
          logger among the stack's mappings: ``lambda:GetEventSourceMapping`` on this one,
          ``lambda:GetFunctionConfiguration`` on the function, and, with other readers in the
          stack, their ``grant_status``);
        - ``logs:StartQuery`` and ``logs:GetQueryResults`` on the log group; ``logs:DescribeLogGroups``
          (its retention, class and creation time), ``logs:DescribeIndexPolicies`` (its field
          indexes) and ``logs:StopQuery`` (a query past ``--timeout``), which IAM grants on ``*`` only;
        - with the archive, its ``grant_query`` (Athena, for the time before the log group's retention).
        """

        def allow(actions_: list[str], resources: list[str]) -> iam.Grant:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions_, resource_arns=resources)

        stack_actions = [actions.CLOUDFORMATION_DESCRIBE_STACKS, actions.CLOUDFORMATION_LIST_STACK_RESOURCES]
        grant = allow(stack_actions, [Stack.of(self).stack_id])
        mapping_arn = self.event_source_mapping.event_source_mapping_arn
        grant = grant.combine(allow([actions.LAMBDA_GET_EVENT_SOURCE_MAPPING], [mapping_arn]))
        grant = grant.combine(allow([actions.LAMBDA_GET_FUNCTION_CONFIGURATION], [self.function.function_arn]))
        grant = grant.combine(self._log_group.grant(grantee, actions.LOGS_START_QUERY, actions.LOGS_GET_QUERY_RESULTS))
        unscoped = [actions.LOGS_DESCRIBE_LOG_GROUPS, actions.LOGS_DESCRIBE_INDEX_POLICIES, actions.LOGS_STOP_QUERY]
        grant = grant.combine(allow(unscoped, ["*"]))
        acknowledge_grant_wildcard(
            grantee, "*", "history describes the log group and stops its query: actions without a resource type"
        )
        if self._archive is not None:
            grant = grant.combine(self._archive.grant_query(grantee))
        return grant

    def _build_dashboard(
        self, metrics_namespace: str, service_name: str, iterator_age_threshold: Duration
    ) -> cloudwatch.Dashboard:
        minute = Duration.minutes(1)

        def handler_metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=name,
                dimensions_map={"service": service_name},
                statistic="Sum",
                period=minute,
            )

        insert, modify, remove, failed = (handler_metric(name) for name in HANDLER_METRICS)
        rows: list[list[cloudwatch.IWidget]] = [
            [
                cloudwatch.GraphWidget(
                    title="Stream lag: IteratorAge (ms, maximum)",
                    left=[self._function.metric("IteratorAge", period=minute, statistic="Maximum")],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(
                            value=iterator_age_threshold.to_milliseconds(), label="alarm threshold"
                        )
                    ],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Function errors and throttles",
                    left=[
                        self._function.metric_errors(period=minute, statistic="Sum"),
                        self._function.metric_throttles(period=minute, statistic="Sum"),
                    ],
                    width=12,
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Records logged, by event name",
                    left=[insert, modify, remove],
                    stacked=True,
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Failed records: reported, parked, dropped",
                    left=[
                        failed,
                        mapping_metric(self._event_source_mapping, PARKED_METRIC, minute),
                        mapping_metric(self._event_source_mapping, DROPPED_METRIC, minute),
                    ],
                    width=12,
                ),
            ],
        ]
        # No dashboard_name: CloudFormation generates one, so two stacks never collide.
        return cloudwatch.Dashboard(self, "Dashboard", widgets=rows)


def _check_images(
    view_type: str | None, log_images: str | None, filters: Sequence[ChangeFilter], table_path: str | None
) -> None:
    """Check that a stream of this view type delivers the images that the handler and the filters need."""
    if view_type is None or view_type not in IMAGES_DELIVERED:
        return
    delivered = IMAGES_DELIVERED[view_type]
    stream = f"the stream of {table_path}" if table_path else "the stream"
    if log_images is not None and not IMAGES_NEEDED[log_images] <= delivered:
        if log_images == "NEW":
            what = "the new image"
            fix = "Give the table a NEW_IMAGE or NEW_AND_OLD_IMAGES stream"
        else:
            what = "the new and the old image"
            fix = "Give the table a NEW_AND_OLD_IMAGES stream"
            if "new" in delivered:
                fix += ", or log with log_images='NEW'"
        raise ValueError(
            f"log_images={log_images!r} needs {what} of each change, but {stream} is {view_type}. {fix} "
            "(changing a stream's view type gives the table a new stream, with a new ARN)."
        )
    for index, change_filter in enumerate(filters):
        for side, prop, images in (
            ("new", "new_image_has", change_filter.new_image_has),
            ("old", "old_image_has", change_filter.old_image_has),
        ):
            if images and side not in delivered:
                raise ValueError(
                    f"filters[{index}] tests {prop}, but {stream} is {view_type}, without {side} images: the "
                    f"filter would drop every record. Give the table a stream with {side} images "
                    f"({'NEW_IMAGE or ' if side == 'new' else 'OLD_IMAGE or '}NEW_AND_OLD_IMAGES), or filter on "
                    "event_names or keys_equal instead."
                )
