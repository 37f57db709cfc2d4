"""A reusable construct that logs every change of a DynamoDB table to CloudWatch Logs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

# Resolved from this file, not from the current directory, so that `cdk` can run from
# anywhere and the construct still finds its handler.
LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"
HANDLER = "stream_logger.handler"

# The newest Python runtime the Powertools layer is published for.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64

# Must equal the aws-lambda-powertools pin in requirements-dev.txt (a test checks it), so that
# the tests exercise the same Powertools the function runs with.
POWERTOOLS_VERSION = "3.37.0"
# Public parameter that Powertools publishes in every region for each layer version. Resolving
# it at deploy time keeps the template environment-agnostic and synth free of lookups.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"

LOG_IMAGES_CHOICES = ("NEW_AND_OLD", "NEW", "CHANGES")
LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARN": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


class TableStreamLogger(Construct):
    """Logs every item-level change of a DynamoDB table as one JSON line in CloudWatch Logs.

    It builds or accepts a table with a stream, and wires that stream through an event
    source mapping to a Python function (with Powertools) that writes to its own log group.
    Batches the function cannot process end up, after bounded retries, in an encrypted SQS
    queue.

    Table (give either ``table`` or ``partition_key``, not both):

    :param table: An existing table to log, which must have a stream. An imported table
        works when its stream ARN is given, e.g. ``Table.from_table_attributes(...,
        table_stream_arn=...)``. Default: none, the construct builds a table.
    :param partition_key: Partition key of the table to build. Required when no ``table``.
    :param sort_key: Sort key of the table to build. Default: none.
    :param removal_policy: Removal policy of the table to build. Default:
        ``RemovalPolicy.RETAIN``, so that deleting the stack never deletes data.

    Function:

    :param service_name: ``POWERTOOLS_SERVICE_NAME``, the ``service`` of every log line.
        Default: ``"table-stream-logger"``.
    :param log_level: Application log level: DEBUG, INFO, WARN or ERROR. Default: ``"INFO"``.
    :param log_retention: Retention of the function's log group. Default:
        ``RetentionDays.ONE_MONTH`` (30 days).
    :param log_images: Which item images each log line carries: ``NEW_AND_OLD`` (both),
        ``NEW`` (the new image only) or ``CHANGES`` (only the attributes that changed).
        Default: ``"NEW_AND_OLD"``.
    :param redact: Attribute names or dotted paths (``"card.number"``) whose values are
        replaced before logging. Default: none.
    :param memory_size: Memory of the function in MB. Default: 256. Lambda allots CPU in
        proportion to memory; 256 MB decodes a batch of 100 records well within the timeout
        while costing little more than the 128 MB minimum.
    :param timeout: Timeout of the function. Default: 30 seconds, ample for logging one batch,
        short enough that a hung invocation does not hold its shard for long.
    :param metrics_namespace: ``POWERTOOLS_METRICS_NAMESPACE``. Default:
        ``"TableStreamLogger"``.
    :param powertools_layer: The Powertools layer. Default: the public Powertools for AWS
        Lambda (Python) layer, version ``POWERTOOLS_VERSION``, for arm64 and Python 3.14.

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
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        removal_policy: RemovalPolicy | None = None,
        service_name: str = "table-stream-logger",
        log_level: str = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_images: str = "NEW_AND_OLD",
        redact: Sequence[str] = (),
        memory_size: int = 256,
        timeout: Duration = Duration.seconds(30),
        metrics_namespace: str = "TableStreamLogger",
        powertools_layer: lambda_.ILayerVersion | None = None,
        batch_size: int = 100,
        max_batching_window: Duration = Duration.seconds(1),
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        retry_attempts: int = 10,
        max_record_age: Duration = Duration.hours(6),
        bisect_batch_on_error: bool = True,
        parallelization_factor: int = 1,
    ) -> None:
        super().__init__(scope, construct_id)

        # Validate everything before building anything, so that a mistake surfaces as one
        # clear error at synth rather than as a half-built tree.
        _check_table_props(table, partition_key, sort_key, removal_policy)
        if log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {sorted(LOG_LEVELS)}, got {log_level!r}")
        if log_images not in LOG_IMAGES_CHOICES:
            raise ValueError(f"log_images must be one of {list(LOG_IMAGES_CHOICES)}, got {log_images!r}")
        if isinstance(redact, str) or not all(isinstance(p, str) and p for p in redact):
            raise ValueError(f"redact must be a list of attribute names or dotted paths, got {redact!r}")
        _check_range("batch_size", batch_size, 1, 10_000)
        _check_range("max_batching_window (seconds)", max_batching_window.to_seconds(), 0, 300)
        _check_range("retry_attempts", retry_attempts, 0, 10_000)
        _check_range("max_record_age (seconds)", max_record_age.to_seconds(), 60, 604_800)
        _check_range("parallelization_factor", parallelization_factor, 1, 10)

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
        self._log_group = logs.LogGroup(self, "LogGroup", retention=log_retention)

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
            "REDACT_ATTRIBUTES": json.dumps(list(redact), separators=(",", ":")),
        }
        if key_attributes is not None:
            environment["KEY_ATTRIBUTES"] = json.dumps(key_attributes, separators=(",", ":"))

        self._function = lambda_.Function(
            self,
            "Function",
            description="Logs every change of a DynamoDB table as one JSON line",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(LAMBDA_DIR),
                exclude=["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"],
            ),
            layers=[powertools_layer],
            role=self._role,
            memory_size=memory_size,
            timeout=timeout,
            environment=environment,
            log_group=self._log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=LOG_LEVELS[log_level],
            # Lambda's own start/report lines are INFO: they would add three lines to every
            # invocation. Its warnings and errors still come through.
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
        )

        # Swappable on its own: a later change may replace the queue by another destination.
        self._failure_destination = sqs.Queue(
            self,
            "FailureQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )

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
            on_failure=_SendOnlySqsDestination(self._failure_destination),
        )
        self._function.add_event_source(self._event_source)
        (self._event_source_mapping,) = (
            child for child in self._function.node.children if isinstance(child, lambda_.EventSourceMapping)
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
    def failure_destination(self) -> sqs.Queue:
        """The queue that receives a record of each batch given up on."""
        return self._failure_destination


@jsii.implements(lambda_.IEventSourceDlq)
class _SendOnlySqsDestination:
    """An SQS on-failure destination that grants only ``sqs:SendMessage``.

    CDK's ``SqsDlq`` grants everything of ``grant_send_messages()``, which also includes
    ``sqs:GetQueueAttributes`` and ``sqs:GetQueueUrl``; Lambda needs neither to deliver a
    failure record. The queue uses SQS-managed encryption, so no KMS permission is needed.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        self._queue.grant(target_handler, "sqs:SendMessage")
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


def _check_table_props(
    table: dynamodb.ITable | None,
    partition_key: dynamodb.Attribute | None,
    sort_key: dynamodb.Attribute | None,
    removal_policy: RemovalPolicy | None,
) -> None:
    table_props = {
        "partition_key": partition_key,
        "sort_key": sort_key,
        "removal_policy": removal_policy,
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
        raise ValueError(
            f"The table {table.node.path} has no stream. Enable a NEW_AND_OLD_IMAGES stream "
            "on it (stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES), or, for an imported "
            "table, give its stream ARN: "
            "dynamodb.Table.from_table_attributes(..., table_stream_arn=...)."
        )


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _key_names(partition_key: dynamodb.Attribute | None, sort_key: dynamodb.Attribute | None) -> list[str]:
    return [key.name for key in (partition_key, sort_key) if key is not None]


def _existing_key_names(table: dynamodb.ITable) -> list[str] | None:
    """Key names of a table defined in this app; None for an imported one (unknown)."""
    if isinstance(table, dynamodb.Table):
        schema = table.schema()
        return _key_names(schema.partition_key, schema.sort_key)
    return None
