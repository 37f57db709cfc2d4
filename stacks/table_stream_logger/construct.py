"""A reusable construct that logs every change of a DynamoDB table to CloudWatch Logs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast, get_args

import jsii
from aws_cdk import (
    Acknowledgment,
    Annotations,
    CfnResource,
    Duration,
    IStableAnyProducer,
    Lazy,
    RemovalPolicy,
    Size,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .archive import ChangeArchive, check_archive_props
from .buckets import private_bucket
from .compliance import ACCESS_LOGS_REASON, skip_checkov_findings
from .filters import ChangeFilter, check_filters
from .log_encryption import allow_logs_to_use_key
from .queries import save_queries

#: The default handler, in the handler asset (see ``handler_asset_dir``).
HANDLER = "stream_logger.handler"
HANDLER_FILE = "stream_logger.py"

# The newest Python runtime the Powertools layer is published for.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64

# Must equal the aws-lambda-powertools pin in requirements-dev.txt (a test checks it), so that
# the tests exercise the same Powertools the function runs with.
POWERTOOLS_VERSION = "3.37.0"
# Public parameter that Powertools publishes in every region for each layer version. Resolving
# it at deploy time keeps the template environment-agnostic and synth free of lookups.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"

LOG_IMAGES_CHOICES = ("NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES")
LOG_CONTEXT_KEYS_CHOICES = ("ONCE", "EVERY_LINE")
LogLevel = Literal["DEBUG", "INFO", "WARN", "ERROR"]
FailureDestinationType = Literal["S3", "SQS"]
LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARN": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}
FAILURE_DESTINATION_TYPES: tuple[str, ...] = get_args(FailureDestinationType)
# An SQS queue keeps a message 60 seconds to 14 days.
SQS_RETENTION_RANGE = (Duration.seconds(60), Duration.days(14))

# What the handler emits (lambda/stream_logger.py): one embedded-metric-format line per
# invocation, in the namespace `metrics_namespace`, with the dimension `service`.
HANDLER_METRICS = ("InsertRecords", "ModifyRecords", "RemoveRecords", "FailedRecords")
# The event source mapping's own metrics (group EventCount) live in AWS/Lambda under this
# dimension; see "Event source mapping metrics" in the Lambda developer guide.
ESM_DIMENSION = "EventSourceMappingUUID"
PARKED_METRIC = "OnFailureDestinationDeliveredEventCount"
DROPPED_METRIC = "DroppedEventCount"

# "No more than two processes at most should be reading from the same streams shard at the same
# time. Having more than two readers per shard can result in throttling." (DynamoDB developer guide,
# Change data capture for DynamoDB Streams)
MAX_STREAM_READERS = 2

# A view type that cannot be read (an imported table): not checked.
_UNKNOWN = object()
# What the default handler needs from the stream, per log_images mode.
NEW_AND_OLD_IMAGES = dynamodb.StreamViewType.NEW_AND_OLD_IMAGES.value
IMAGES_DELIVERED = {
    dynamodb.StreamViewType.NEW_AND_OLD_IMAGES.value: {"new", "old"},
    dynamodb.StreamViewType.NEW_IMAGE.value: {"new"},
    dynamodb.StreamViewType.OLD_IMAGE.value: {"old"},
    dynamodb.StreamViewType.KEYS_ONLY.value: set(),
}
IMAGES_NEEDED = {
    "NEW_AND_CHANGES": {"new", "old"},
    "NEW_AND_OLD": {"new", "old"},
    "CHANGES": {"new", "old"},
    "NEW": {"new"},
}

# cdk-nag (AwsSolutions pack) reads acknowledgements through CDK's own Validations API, so
# the construct records them without depending on cdk-nag. "AwsSolutions::" is the plugin's
# prefix: the finding then shows up as acknowledged, with its reason, in the validation report.
NAG = "AwsSolutions::AwsSolutions-"


def handler_asset_dir() -> Path:
    """The directory of the default handler (``stream_logger.py`` and ``dynamo_json.py``).

    Found from this file, never from the current directory, so that ``cdk`` runs from anywhere:

    - installed from the wheel, the handler files are packaged next to this module, in
      ``table_stream_logger/lambda/`` (pyproject.toml's ``force-include``);
    - in the repository, this module is ``stacks/table_stream_logger/construct.py`` and the
      handler is the top-level ``lambda/``, two folders up.
    """
    here = Path(__file__).resolve()
    candidates = (here.parent / "lambda", here.parents[2] / "lambda")
    for candidate in candidates:
        if (candidate / HANDLER_FILE).is_file():
            return candidate
    raise FileNotFoundError(
        f"The handler {HANDLER_FILE} of TableStreamLogger is missing: looked in "
        f"{' and '.join(str(path) for path in candidates)}. Reinstall the table-stream-logger package, "
        "or give your own handler with code=... and handler=...."
    )


class TableStreamLogger(Construct):
    """Logs every item-level change of a DynamoDB table as one JSON line in CloudWatch Logs.

    It builds or accepts a table with a stream, and wires that stream through an event
    source mapping to a Python function (with Powertools) that writes to its own log group.
    Batches the function cannot process end up, after bounded retries, in an S3 bucket that
    keeps the whole batch (or, if chosen, an SQS queue that keeps only its position in the
    stream). Alarms and a dashboard watch the lag, the errors and the parked batches.

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
    :param log_group_class: The log group's class. Default: ``LogGroupClass.STANDARD``, because
        our own features need it: the archive's subscription filter and the dashboard's graphs
        of the handler's embedded metrics. ``INFREQUENT_ACCESS`` costs about half as much per
        GB ingested and keeps Logs Insights queries (the saved ones included; not the
        ``pattern``, ``diff``, ``filterIndex`` and ``unmask`` commands), but gives up
        subscription filters, metric filters and embedded-metric extraction, Live Tail and
        anomaly detection; it is refused with ``archive=True`` or ``dashboard=True``. A log
        group's class cannot change: changing it replaces the group.
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
        replaced before logging. Default: none.
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
        service_name: str = "table-stream-logger",
        log_level: LogLevel = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_encryption_key: kms.IKey | None = None,
        log_group_class: logs.LogGroupClass = logs.LogGroupClass.STANDARD,
        log_images: str = "NEW_AND_CHANGES",
        log_context_keys: str = "ONCE",
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
        alarms: bool = True,
        iterator_age_threshold: Duration | None = None,
        alarm_action: cloudwatch.IAlarmAction | None = None,
        dashboard: bool = True,
        archive: bool = False,
        archive_retention: Duration | None = None,
        archive_bytes_scanned_limit: Size | None = None,
    ) -> None:
        """Build the logger; every argument, with its default, is described above (``help(TableStreamLogger)``)."""
        # Defaults that are objects are set here, so that help() shows None rather than an object's address.
        timeout = timeout or Duration.seconds(30)
        max_batching_window = max_batching_window or Duration.seconds(1)
        max_record_age = max_record_age or Duration.hours(6)
        iterator_age_threshold = iterator_age_threshold or Duration.seconds(60)
        # Validate everything before building anything, the construct's own node included, so
        # that a mistake surfaces as one clear error at synth rather than as a half-built tree.
        _check_table_props(table, partition_key, sort_key, removal_policy, deletion_protection, encryption_key)
        if log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {sorted(LOG_LEVELS)}, got {log_level!r}")
        if log_images not in LOG_IMAGES_CHOICES:
            raise ValueError(f"log_images must be one of {list(LOG_IMAGES_CHOICES)}, got {log_images!r}")
        if log_context_keys not in LOG_CONTEXT_KEYS_CHOICES:
            raise ValueError(
                f"log_context_keys must be one of {list(LOG_CONTEXT_KEYS_CHOICES)}, got {log_context_keys!r}"
            )
        if isinstance(redact, str) or not all(isinstance(p, str) and all(p.split(".")) for p in redact):
            raise ValueError(
                f"redact must be a list of attribute names or dotted paths (no empty name: 'card.number', "
                f"not 'card..number'), got {redact!r}"
            )
        _check_range("batch_size", batch_size, 1, 10_000)
        _check_range("max_batching_window (seconds)", max_batching_window.to_seconds(), 0, 300)
        _check_range("retry_attempts", retry_attempts, 0, 10_000)
        _check_range("max_record_age (seconds)", max_record_age.to_seconds(), 60, 604_800)
        _check_range("parallelization_factor", parallelization_factor, 1, 10)
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
        destination_type = _check_failure_props(
            failure_destination, failure_destination_type, failure_retention, failure_removal_policy
        )
        if iterator_age_threshold.to_milliseconds() <= 0:
            raise ValueError(f"iterator_age_threshold must be positive, got {iterator_age_threshold.to_human_string()}")
        if alarm_action is not None and not alarms:
            raise ValueError("alarm_action was given with alarms=False: there would be no alarm to act on.")
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
        )
        view_type = _check_stream_view_type(table, stream_view_type)
        _check_images(
            view_type,
            # Your own handler decides which images it needs; the filters need theirs regardless.
            log_images if code is None else None,
            change_filters,
            table.node.path if table is not None else None,
        )
        if code is None:
            code = lambda_.Code.from_asset(
                str(handler_asset_dir()),
                exclude=["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"],
            )
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
                removal_policy=removal_policy or RemovalPolicy.RETAIN,
            )
            key_attributes: list[str] | None = _key_names(partition_key, sort_key)
        else:
            key_attributes = _existing_key_names(table)
        stream_arn = table.table_stream_arn
        assert stream_arn is not None  # checked above
        self._table = table
        self._stream_arn = stream_arn

        # The function writes to this group only. CDK's default for a log group, RETAIN, is
        # kept: the group is the record of every change to the table, so deleting the stack
        # leaves it to expire with its retention instead of erasing it.
        self._log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=log_retention,
            # STANDARD is CloudFormation's default and stays unsaid: a class newly written into the
            # template would read as a change of class, which replaces the group.
            log_group_class=None if log_group_class == logs.LogGroupClass.STANDARD else log_group_class,
            encryption_key=log_encryption_key,
        )
        if log_encryption_key is not None:
            allow_logs_to_use_key(self._log_group, log_encryption_key)

        # A role of our own instead of CDK's default one, which attaches
        # AWSLambdaBasicExecutionRole (logs:* on every log group). Each grant below adds
        # exactly the permissions the function needs.
        self._role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Reads the table's stream and writes the function's log group",
        )
        self._log_group.grant_write(self._role)
        if table.encryption_key is not None:
            table.encryption_key.grant(self._role, "kms:Decrypt")

        if powertools_layer is None:
            powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
                self,
                "PowertoolsLayer",
                ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER),
            )

        environment = {
            "POWERTOOLS_SERVICE_NAME": service_name,
            "POWERTOOLS_LOG_LEVEL": log_level,
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
            "LOG_IMAGES": log_images,
            "LOG_CONTEXT_KEYS": log_context_keys,
            "REDACT_ATTRIBUTES": json.dumps(list(redact), separators=(",", ":")),
        }
        if key_attributes is not None:
            environment["KEY_ATTRIBUTES"] = json.dumps(key_attributes, separators=(",", ":"))

        self._function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler or HANDLER,
            code=code,
            layers=[powertools_layer],
            role=self._role,
            memory_size=memory_size,
            timeout=timeout,
            reserved_concurrent_executions=reserved_concurrent_executions,
            environment=environment,
            log_group=self._log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # The handler applies log_level to its own lines. Lambda's filter stays at INFO (DEBUG
            # for DEBUG): its per-invocation metrics line is INFO, and the dashboard needs it at
            # every log_level.
            application_log_level_v2=LOG_LEVELS["DEBUG" if log_level == "DEBUG" else "INFO"],
            # Lambda's own start/report lines are INFO: they would add three lines to every
            # invocation. Its warnings and errors still come through.
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
        )

        on_failure: lambda_.IEventSourceDlq
        if failure_destination is not None:
            self._failure_destination: s3.IBucket | sqs.IQueue = failure_destination
        elif destination_type == "S3":
            self._failure_destination = self._build_failure_bucket(
                failure_retention or Duration.days(30), failure_removal_policy or RemovalPolicy.RETAIN
            )
        else:
            self._failure_destination = sqs.Queue(
                self,
                "FailureQueue",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=failure_retention or SQS_RETENTION_RANGE[1],
                removal_policy=failure_removal_policy or RemovalPolicy.RETAIN,
            )
            Validations.of(self._failure_destination.node.default_child).acknowledge(  # type: ignore[arg-type]
                Acknowledgment(
                    id=f"{NAG}SQS3",
                    reason="This queue is itself a dead-letter queue: the on-failure destination of the "
                    "event source mapping, which the rule cannot see. Nothing consumes it to need one of its own.",
                )
            )
        if destination_type == "S3":
            on_failure = _S3FailureDestination(cast(s3.IBucket, self._failure_destination))
            # Where the handler copies a record too big for one log line (oversized/...): the
            # role's s3:PutObject on the bucket's objects already covers it.
            self._function.add_environment("FAILURE_BUCKET", cast(s3.IBucket, self._failure_destination).bucket_name)
        else:
            on_failure = _SendOnlySqsDestination(cast(sqs.IQueue, self._failure_destination))

        # DynamoEventSource calls grant_stream_read() on the table it is given, which adds
        # kms:DescribeKey as well when the table has a customer-managed key. A key-less view
        # of the same stream limits its grant to the stream itself; kms:Decrypt is granted
        # above.
        stream = dynamodb.Table.from_table_attributes(
            self, "Stream", table_arn=table.table_arn, table_stream_arn=stream_arn
        )
        self._event_source = event_sources.DynamoEventSource(
            stream,
            starting_position=starting_position,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            report_batch_item_failures=True,
            bisect_batch_on_error=bisect_batch_on_error,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            parallelization_factor=parallelization_factor,
            filters=[change_filter.to_filter() for change_filter in change_filters] or None,
            on_failure=on_failure,
            # The EventCount group (records polled, invoked, parked, dropped, ...): the alarms
            # and the dashboard read it; without either it stays off.
            metrics_config=(
                lambda_.MetricsConfig(metrics=[lambda_.MetricType.EVENT_COUNT]) if alarms or dashboard else None
            ),
        )
        self._function.add_event_source(self._event_source)
        (self._event_source_mapping,) = (
            child for child in self._function.node.children if isinstance(child, lambda_.EventSourceMapping)
        )

        self._acknowledge_policy_findings()
        self._depend_on_grants_only()
        self._warn_of_too_many_readers()

        self._queries = save_queries(self, self._log_group, key_attributes) if saved_queries else []

        self._alarms: dict[str, cloudwatch.Alarm] = {}
        if alarms:
            self._alarms = self._build_alarms(iterator_age_threshold, alarm_action)
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
            )
            if archive
            else None
        )
        if self._archive is not None:
            self._alarms.update(self._archive.alarms)
        skip_checkov_findings(
            self,
            table=table,
            log_group=self._log_group,
            function=self._function,
            failure_destination=self._failure_destination,
            archive=self._archive,
        )

    @property
    def table(self) -> dynamodb.ITable:
        """The table whose stream is logged, built or given."""
        return self._table

    @property
    def stream_arn(self) -> str:
        """The ARN of the table's stream."""
        return self._stream_arn

    @property
    def function(self) -> lambda_.Function:
        """The function that logs the stream records."""
        return self._function

    @property
    def role(self) -> iam.Role:
        """The function's execution role."""
        return self._role

    @property
    def log_group(self) -> logs.LogGroup:
        """The function's log group, where the change log lines go."""
        return self._log_group

    @property
    def event_source(self) -> event_sources.DynamoEventSource:
        """The event source that connects the stream to the function."""
        return self._event_source

    @property
    def event_source_mapping(self) -> lambda_.EventSourceMapping:
        """The event source mapping; its ``event_source_mapping_id`` is the mapping's UUID."""
        return self._event_source_mapping

    @property
    def failure_destination(self) -> s3.IBucket | sqs.IQueue:
        """The bucket or queue that receives a record of each batch given up on."""
        return self._failure_destination

    @property
    def alarms(self) -> Mapping[str, cloudwatch.Alarm]:
        """The alarms by name: ``IteratorAge``, ``Errors``, ``Throttles``, ``RecordsParked``,
        ``RecordsDropped``, with the archive also ``ArchiveDelivery`` and ``ArchiveSubscription``;
        empty with ``alarms=False``."""
        return dict(self._alarms)

    @property
    def queries(self) -> Sequence[logs.QueryDefinition]:
        """The saved Logs Insights queries; empty with ``saved_queries=False``."""
        return self._queries

    @property
    def dashboard(self) -> cloudwatch.Dashboard | None:
        """The dashboard; ``None`` with ``dashboard=False``."""
        return self._dashboard

    @property
    def archive(self) -> ChangeArchive | None:
        """The change archive (bucket, delivery stream, Glue table, Athena workgroup and queries);
        ``None`` with ``archive=False``."""
        return self._archive

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give ``grantee`` what ``python -m table_stream_logger`` needs, and nothing else, to list,
        show and replay the batches parked by this construct (README: When RecordsParked fires):

        - ``cloudformation:DescribeStacks`` on this stack: ``--stack-name`` reads its outputs;
        - ``lambda:GetFunctionConfiguration`` (the redacted attributes, the log group) and
          ``lambda:InvokeFunction`` on the function, and ``logs:FilterLogEvents`` on its log group;
        - an S3 destination: ``s3:ListBucket`` on the bucket, ``s3:GetObject`` on the parked batches
          (``aws/lambda/*``) and on their replayed copies (``replayed/aws/lambda/*``), ``s3:PutObject``
          on the copies and ``s3:DeleteObject`` on the parked batches (a replayed batch is moved); with a
          KMS key, ``kms:Decrypt`` and ``kms:GenerateDataKey`` on it;
        - an SQS destination: ``sqs:ReceiveMessage``, ``sqs:ChangeMessageVisibility`` and
          ``sqs:DeleteMessage`` on the queue (``kms:Decrypt`` on its key, if any), and
          ``dynamodb:GetShardIterator`` and ``dynamodb:GetRecords`` on the stream (``kms:Decrypt`` on
          the table's key, if any), from which a replay reads the records back.
        """

        def allow(actions: list[str], resources: list[str]) -> iam.Grant:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=resources)

        grant = allow(["cloudformation:DescribeStacks"], [Stack.of(self).stack_id])
        grant = grant.combine(
            allow(["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"], [self._function.function_arn])
        )
        grant = grant.combine(self._log_group.grant(grantee, "logs:FilterLogEvents"))
        key: kms.IKey | None
        if _is_bucket(self._failure_destination):
            bucket = cast(s3.IBucket, self._failure_destination)
            parked, replayed = bucket.arn_for_objects("aws/lambda/*"), bucket.arn_for_objects("replayed/aws/lambda/*")
            grant = grant.combine(allow(["s3:ListBucket"], [bucket.bucket_arn]))
            grant = grant.combine(allow(["s3:GetObject"], [parked, replayed]))
            grant = grant.combine(allow(["s3:PutObject"], [replayed]))
            grant = grant.combine(allow(["s3:DeleteObject"], [parked]))
            key = bucket.encryption_key
            if key is not None:
                grant = grant.combine(key.grant(grantee, "kms:Decrypt", "kms:GenerateDataKey"))
        else:
            queue = cast(sqs.IQueue, self._failure_destination)
            grant = grant.combine(
                queue.grant(grantee, "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage")
            )
            grant = grant.combine(allow(["dynamodb:GetShardIterator", "dynamodb:GetRecords"], [self._stream_arn]))
            for key in (queue.encryption_master_key, self._table.encryption_key):
                if key is not None:
                    grant = grant.combine(key.grant(grantee, "kms:Decrypt"))
        return grant

    def _warn_of_too_many_readers(self) -> None:
        """Warn at synth when this mapping makes more than two readers of the stream in this stack."""
        stack = Stack.of(self)
        stream = stack.resolve(self._stream_arn)
        readers = [
            node
            for node in stack.node.find_all()
            if isinstance(node, lambda_.CfnEventSourceMapping) and stack.resolve(node.event_source_arn) == stream
        ]
        if len(readers) > MAX_STREAM_READERS:
            Annotations.of(self).add_warning_v2(
                "table-stream-logger:too-many-stream-readers",
                f"The stream of {self._table.node.path} now has {len(readers)} readers in this stack "
                f"({', '.join(reader.node.path for reader in readers)}). DynamoDB advises at most "
                f"{MAX_STREAM_READERS} processes reading a stream's shard at once: more are throttled, and every "
                "reader falls behind. Log the table once, with filters=[...] for what each needs, or read the "
                "stream through one function that fans out.",
            )

    def _build_failure_bucket(self, retention: Duration, removal_policy: RemovalPolicy) -> s3.Bucket:
        bucket = private_bucket(
            self,
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
        )
        Validations.of(bucket.node.default_child).acknowledge(  # type: ignore[arg-type]
            Acknowledgment(id=f"{NAG}S1", reason=ACCESS_LOGS_REASON)
        )
        return bucket

    def _acknowledge_policy_findings(self) -> None:
        """Acknowledge the wildcards that the role's policy needs, each at its exact resource."""
        policy = self._role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, CfnResource)
        stack = Stack.of(self)
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id=f"{NAG}IAM5[Resource::*]",
                reason="dynamodb:ListStreams, and only it, is granted on '*': the action supports no resource-level "
                "permission. Every other statement names its resource.",
            )
        )
        if _is_bucket(self._failure_destination):
            objects = stack.resolve(cast(s3.IBucket, self._failure_destination).arn_for_objects("*"))
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=f"{NAG}IAM5[Resource::{_nag_resource(objects)}]",
                    reason="s3:PutObject on the objects of the failure bucket only: Lambda names each object it "
                    "parks (by mapping, shard and time), so no narrower key is known in advance.",
                )
            )

    def _depend_on_grants_only(self) -> None:
        """Keep the function's DependsOn on its role's policy, drop the one on the role.

        CDK makes the function depend on everything under its role. The role itself is
        already a dependency through the function's ``Role`` (Fn::GetAtt), which cfn-lint
        reports as W3005; the policy is not, and it must stay: the function, and after it
        the event source mapping, may only be created once the grants are in place.
        """
        resource = self._function.node.default_child
        role = self._role.node.default_child
        assert isinstance(resource, CfnResource) and isinstance(role, CfnResource)
        resource.add_override("DependsOn", Lazy.any(_DependsOnExcept(resource, role)))

    def _build_alarms(
        self, iterator_age_threshold: Duration, alarm_action: cloudwatch.IAlarmAction | None
    ) -> dict[str, cloudwatch.Alarm]:
        five_minutes = Duration.minutes(5)
        mapping = self._event_source_mapping_metric
        # Counts alarm on any non-zero sum over 5 minutes; no data means nothing happened.
        counts: dict[str, tuple[cloudwatch.IMetric, str]] = {
            "Errors": (
                self._function.metric_errors(period=five_minutes, statistic="Sum"),
                "The function failed (an exception, a timeout or out of memory), not a record: Lambda retries "
                "the batch. Look for ERROR lines in the function's log group.",
            ),
            "Throttles": (
                self._function.metric_throttles(period=five_minutes, statistic="Sum"),
                "Invocations were throttled: the account's or the function's concurrency is exhausted, and the "
                "stream lags meanwhile.",
            ),
            "RecordsParked": (
                mapping(PARKED_METRIC, five_minutes),
                "Records were given up on after their retries and parked in the failure destination. List, show "
                "and replay them with python -m table_stream_logger (README: When RecordsParked fires).",
            ),
            "RecordsDropped": (
                mapping(DROPPED_METRIC, five_minutes),
                "Records were dropped without reaching the failure destination (delivery to it failed): they are "
                "lost unless replayed from the stream within its 24 hours.",
            ),
        }
        alarms = {
            "IteratorAge": cloudwatch.Alarm(
                self,
                "IteratorAgeAlarm",
                alarm_description=f"The stream lags: records waited over {iterator_age_threshold.to_human_string()} "
                "before reaching the function, in 3 of the last 5 minutes. Look at Errors and Throttles.",
                metric=self._function.metric("IteratorAge", period=Duration.minutes(1), statistic="Maximum"),
                threshold=iterator_age_threshold.to_milliseconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                # An idle stream sends no IteratorAge at all, which is not lag.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        }
        for name, (metric, description) in counts.items():
            alarms[name] = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                alarm_description=description,
                metric=metric,
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        if alarm_action is not None:
            for alarm in alarms.values():
                alarm.add_alarm_action(alarm_action)
                alarm.add_ok_action(alarm_action)
        return alarms

    def _event_source_mapping_metric(self, name: str, period: Duration) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=name,
            dimensions_map={ESM_DIMENSION: self._event_source_mapping.event_source_mapping_id},
            statistic="Sum",
            period=period,
        )

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
                        self._event_source_mapping_metric(PARKED_METRIC, minute),
                        self._event_source_mapping_metric(DROPPED_METRIC, minute),
                    ],
                    width=12,
                ),
            ],
        ]
        # No dashboard_name: CloudFormation generates one, so two stacks never collide.
        return cloudwatch.Dashboard(self, "Dashboard", widgets=rows)


@jsii.implements(IStableAnyProducer)
class _DependsOnExcept:
    """The DependsOn that CDK computed for a resource, less one resource."""

    def __init__(self, resource: CfnResource, excluded: CfnResource) -> None:
        self._resource = resource
        self._excluded = excluded

    def produce(self) -> list[str] | None:
        stack = Stack.of(self._resource)
        # Called at synthesis, once CDK has turned construct dependencies into resource ones.
        logical_ids = {
            stack.resolve(stack.get_logical_id(dependency))
            for dependency in self._resource.obtain_dependencies()
            if isinstance(dependency, CfnResource)
            and dependency.node.path != self._excluded.node.path
            and Stack.of(dependency) is stack
        }
        return sorted(logical_ids) or None


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
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self._bucket.arn_for_objects("*")])
        )
        target_handler.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self._bucket.bucket_arn])
        )
        if self._bucket.encryption_key is not None:
            self._bucket.encryption_key.grant(target_handler, "kms:GenerateDataKey")
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
        self._queue.grant(target_handler, "sqs:SendMessage")
        if self._queue.encryption_master_key is not None:
            self._queue.encryption_master_key.grant(target_handler, "kms:Decrypt", "kms:GenerateDataKey")
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


def _is_bucket(destination: object) -> bool:
    # jsii interfaces are not runtime-checkable protocols: tell them apart by their members.
    return hasattr(destination, "bucket_arn") and hasattr(destination, "arn_for_objects")


def _is_queue(destination: object) -> bool:
    return hasattr(destination, "queue_arn") and hasattr(destination, "queue_url")


def _nag_resource(resolved: Any) -> str:
    """A resolved ARN as cdk-nag names it in a finding: ``<LogicalId.Arn>/*`` or the literal."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and set(resolved) == {"Fn::Join"}:
        separator, parts = resolved["Fn::Join"]
        return str(separator).join(_nag_resource(part) for part in parts)
    if isinstance(resolved, dict) and set(resolved) == {"Fn::GetAtt"}:
        logical_id, attribute = resolved["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if isinstance(resolved, dict) and set(resolved) == {"Ref"}:
        return f"<{resolved['Ref']}>"
    return json.dumps(resolved, sort_keys=True)


def _check_table_props(
    table: dynamodb.ITable | None,
    partition_key: dynamodb.Attribute | None,
    sort_key: dynamodb.Attribute | None,
    removal_policy: RemovalPolicy | None,
    deletion_protection: bool | None,
    encryption_key: kms.IKey | None,
) -> None:
    table_props = {
        "partition_key": partition_key,
        "sort_key": sort_key,
        "removal_policy": removal_policy,
        "deletion_protection": deletion_protection,
        "encryption_key": encryption_key,
    }
    if table is None:
        if partition_key is None:
            raise ValueError(
                "Give either an existing table (table=...) or the keys of the table to build "
                "(partition_key=..., optionally sort_key=...)."
            )
        return
    given = [name for name, value in table_props.items() if value is not None]
    if given:
        raise ValueError(
            f"Give either an existing table or props for a new one, not both: table was "
            f"given together with {', '.join(given)}."
        )
    if table.table_stream_arn is None:
        raise ValueError(_no_stream_message(table))


def _no_stream_message(table: dynamodb.ITable) -> str:
    if not isinstance(table, dynamodb.Table | dynamodb.TableV2):
        return (
            f"The imported table {table.node.path} has no stream ARN. Import it with the ARN of its stream "
            "(which must be enabled on the table): dynamodb.Table.from_table_attributes(..., table_stream_arn=...)."
        )
    prop = "dynamo_stream" if isinstance(table, dynamodb.TableV2) else "stream"
    return (
        f"The table {table.node.path} has no stream. Enable a NEW_AND_OLD_IMAGES stream "
        f"on it ({prop}=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)."
    )


def _check_stream_view_type(table: dynamodb.ITable | None, given: dynamodb.StreamViewType | None) -> str | None:
    """The view type of the stream to read, or None when it cannot be known (an imported table).

    A built table has a NEW_AND_OLD_IMAGES stream. For a ``Table`` or ``TableV2`` of the app it
    is read from the L1 resource; for an imported table it is ``stream_view_type`` if given.
    """
    if table is None:
        if given is not None:
            raise ValueError(
                "stream_view_type describes the stream of an existing table (table=...); the table the "
                "construct builds always has a NEW_AND_OLD_IMAGES stream. Remove stream_view_type."
            )
        return NEW_AND_OLD_IMAGES
    known = _read_stream_view_type(table)
    if known is None:
        raise ValueError(_no_stream_message(table))
    if known is _UNKNOWN:
        return given.value if given is not None else None
    assert isinstance(known, str)
    if given is not None and given.value != known:
        raise ValueError(
            f"stream_view_type={given.value} was given, but the stream of {table.node.path} is {known}. "
            "Remove stream_view_type: the construct reads it from a table of the app."
        )
    return known


def _read_stream_view_type(table: dynamodb.ITable) -> object:
    """The view type of the stream of a table of the app, None without a stream, or ``_UNKNOWN``."""
    resource = table.node.default_child
    if isinstance(table, dynamodb.Table) and isinstance(resource, dynamodb.CfnTable):
        specification = resource.stream_specification
        if specification is None:
            return None
        if isinstance(specification, dynamodb.CfnTable.StreamSpecificationProperty):
            return specification.stream_view_type
    elif isinstance(table, dynamodb.TableV2) and isinstance(resource, dynamodb.CfnGlobalTable):
        # TableV2 sets its stream specification lazily, and reading it through the L1's
        # attribute fails in jsii; resolving the L1's properties gives it (or None without one).
        try:
            specification = Stack.of(table).resolve(resource._cfn_properties.get("streamSpecification"))
        except RuntimeError:
            return _UNKNOWN
        if specification is None:
            return None
        if isinstance(specification, dict) and isinstance(specification.get("streamViewType"), str):
            return specification["streamViewType"]
    return _UNKNOWN


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


def _check_failure_props(
    destination: s3.IBucket | sqs.IQueue | None,
    destination_type: str | None,
    retention: Duration | None,
    removal_policy: RemovalPolicy | None,
) -> str:
    """Check the failure destination props; return the destination's type, S3 or SQS."""
    if destination is not None:
        given = [
            name
            for name, value in {
                "failure_destination_type": destination_type,
                "failure_retention": retention,
                "failure_removal_policy": removal_policy,
            }.items()
            if value is not None
        ]
        if given:
            raise ValueError(
                "Give either an existing failure destination or props for a new one, not both: "
                f"failure_destination was given together with {', '.join(given)}."
            )
        if _is_bucket(destination):
            return "S3"
        if _is_queue(destination):
            return "SQS"
        raise ValueError(f"failure_destination must be an S3 bucket or an SQS queue, got {destination!r}")

    kind = destination_type or "S3"
    if kind not in FAILURE_DESTINATION_TYPES:
        raise ValueError(f"failure_destination_type must be one of {list(FAILURE_DESTINATION_TYPES)}, got {kind!r}")
    if retention is not None and kind == "S3":
        days = retention.to_days(integral=False)
        if days < 1 or days != int(days):
            raise ValueError(
                f"failure_retention of a bucket must be a whole number of days, at least 1, "
                f"got {retention.to_human_string()}"
            )
    if retention is not None and kind == "SQS":
        low, high = SQS_RETENTION_RANGE
        if not low.to_seconds() <= retention.to_seconds() <= high.to_seconds():
            raise ValueError(
                "failure_retention of a queue must be between 60 seconds and 14 days, "
                f"got {retention.to_human_string()}"
            )
    return kind


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _key_names(partition_key: dynamodb.Attribute | None, sort_key: dynamodb.Attribute | None) -> list[str]:
    return [key.name for key in (partition_key, sort_key) if key is not None]


def _existing_key_names(table: dynamodb.ITable) -> list[str] | None:
    """Key names of a table defined in this app; None for an imported one (unknown)."""
    if isinstance(table, dynamodb.Table):
        # schema_v2(), not the deprecated schema(), which prints a warning in the user's synth.
        schema = table.schema_v2()
        return [key.name for key in (*schema.partition_keys, *schema.sort_keys)]
    return None
