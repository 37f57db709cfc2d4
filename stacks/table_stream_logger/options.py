"""The option types of the constructs: each groups what belongs together, with a default per field.

``TableStreamLogger`` and ``ChangeAlerts`` take the same types for what they share (``reading``,
``function``, ``log``, ``failure``, ``monitoring``); ``NewTable``, ``LogLines``, ``CustomHandler``
and ``ArchiveOptions`` are the logger's own. Each field is documented once, here, under its
definition. Each type checks its values when it is made, so that a mistake is one clear error at
synth; a deploy-time value (a token, such as ``CfnParameter(...).value_as_number``) passes every
check, as in aws-cdk's own types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from ._core.checks import (
    check_kms_key,
    check_one_of,
    check_range,
    check_seconds,
    is_bucket,
    is_queue,
    is_unresolved,
    is_whole_days,
)
from ._core.log_levels import LOG_LEVEL_NAMES, LogLevel

#: What to build as the failure destination (``FailureOptions.destination_type``).
FailureDestinationType = Literal["S3", "SQS"]
FAILURE_DESTINATION_TYPES: tuple[str, ...] = get_args(FailureDestinationType)
# An SQS queue keeps a message 60 seconds to 14 days.
SQS_RETENTION_RANGE = (Duration.seconds(60), Duration.days(14))
# Lambda's limits of a function's memory, in MB.
MEMORY_RANGE = (128, 10_240)
# Athena refuses a smaller bytes-scanned limit per query.
MIN_BYTES_SCANNED_LIMIT = Size.mebibytes(10)


@dataclass(frozen=True, kw_only=True)
class StreamReading:
    """How the event source mapping reads the stream and retries a failing batch (``reading=``)."""

    batch_size: int = 100
    """Most records per invocation, 1 to 10000. Default: 100, as in the AWS CLI walkthrough."""

    max_batching_window: Duration = Duration.seconds(1)
    """How long to gather records before invoking, up to 5 minutes. Default: 1 second: at most a
    second of delay, far fewer invocations under load."""

    starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON
    """Where a new mapping starts reading the stream. Default: ``TRIM_HORIZON``, the oldest record
    still in the stream, so no change is missed."""

    retry_attempts: int = 10
    """Retries of a failing batch before it goes to the failure destination, 0 to 10000. Default: 10.
    With ``bisect_batch_on_error`` and partial batch responses this isolates a poison record quickly
    instead of blocking its shard until the record expires after a day."""

    max_record_age: Duration = Duration.hours(6)
    """Records older than this go to the failure destination unprocessed, 60 seconds to 7 days.
    Default: 6 hours, which leaves 18 of the stream's 24 hours of retention to replay a failed batch
    from the failure record."""

    bisect_batch_on_error: bool = True
    """Split a failing batch in two and retry each half. Default: ``True``."""

    parallelization_factor: int = 1
    """Concurrent batches per shard, 1 to 10. Default: 1, which processes each shard strictly in order."""

    def __post_init__(self) -> None:
        check_range("reading.batch_size", self.batch_size, 1, 10_000)
        check_seconds("reading.max_batching_window", self.max_batching_window, 0, 300)
        check_range("reading.retry_attempts", self.retry_attempts, 0, 10_000)
        check_seconds("reading.max_record_age", self.max_record_age, 60, 604_800)
        check_range("reading.parallelization_factor", self.parallelization_factor, 1, 10)


@dataclass(frozen=True, kw_only=True)
class FunctionOptions:
    """The function that handles the stream's records (``function=``)."""

    memory_size: int = 256
    """Memory of the function in MB, 128 to 10240. Default: 256. Lambda allots CPU in proportion to
    memory; 256 MB decodes a batch of 100 records well within the timeout while costing little more
    than the 128 MB minimum."""

    timeout: Duration = Duration.seconds(30)
    """Timeout of the function. Default: 30 seconds, ample for one batch, short enough that a hung
    invocation does not hold its shard for long."""

    reserved_concurrent_executions: int | None = None
    """Concurrency reserved for the function (and the most it gets), at least 1; below shards times
    ``reading.parallelization_factor`` the stream lags. Default: none: the stream bounds the
    function's concurrency already (one batch per shard and ``parallelization_factor``), from the
    account's unreserved pool."""

    powertools_layer: lambda_.ILayerVersion | None = None
    """The Powertools layer. Default: the public Powertools for AWS Lambda (Python) layer, version
    ``POWERTOOLS_VERSION``, for arm64 and Python 3.14."""

    def __post_init__(self) -> None:
        check_range("function.memory_size", self.memory_size, *MEMORY_RANGE)
        reserved = self.reserved_concurrent_executions
        if reserved is not None and not is_unresolved(reserved) and reserved < 1:
            raise ValueError(
                f"function.reserved_concurrent_executions must be at least 1, got {reserved}: "
                "the function would never run and the stream would wait for it."
            )


@dataclass(frozen=True, kw_only=True)
class LogOptions:
    """The function's log lines and its log group (``log=``)."""

    service_name: str | None = None
    """``POWERTOOLS_SERVICE_NAME``, the ``service`` of every log line. Default: the construct's own,
    ``"table-stream-logger"`` for the logger, ``"change-alerts"`` for the alerts."""

    level: LogLevel = "INFO"
    """Which lines the function writes: DEBUG or INFO (every change the logger logs, every message the
    alerts publish), WARN or ERROR (only records that fail; the logger's per-invocation metrics line
    is written at every level). Default: ``"INFO"``. The handler applies it itself; Lambda's own
    log-level filter is kept at INFO (DEBUG for DEBUG), so that it never drops the metrics line."""

    retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    """Retention of the function's log group. Default: ``RetentionDays.ONE_MONTH`` (30 days)."""

    encryption_key: kms.IKey | None = None
    """A customer-managed KMS key for the function's log group, which holds item data (the logger's
    every change; the alerts' messages at DEBUG and ERROR lines). Its key policy gets a statement
    that lets CloudWatch Logs of the stack's region use it for this log group only (an imported
    key's policy is yours to set). Default: none, CloudWatch Logs encrypts the group with its own keys."""

    deletion_protection: bool = False
    """Protect the log group from deletion: CloudWatch Logs refuses ``DeleteLogGroup`` (console, CLI
    or a script) until protection is turned off. The group is kept when the stack is deleted either
    way (RETAIN). Default: ``False``."""

    group_class: logs.LogGroupClass = logs.LogGroupClass.STANDARD
    """The log group's class. Default: ``LogGroupClass.STANDARD``, because the logger's own features
    need it: the archive's subscription filter and the dashboard's graphs of the handler's embedded
    metrics. ``INFREQUENT_ACCESS`` costs about half as much per GB ingested and keeps Logs Insights
    queries (the saved ones included; not the ``pattern``, ``diff``, ``filterIndex`` and ``unmask``
    commands), but gives up subscription filters, metric filters and embedded-metric extraction, Live
    Tail and anomaly detection; the logger refuses it with an ``archive`` or ``dashboard=True``. A log
    group's class cannot change: changing it replaces the group. The logger's ``STANDARD`` group gets a
    field index policy on the key fields (``keys.<name>``, unless redacted) and ``event_name``, so
    that a history query (``python -m table_stream_logger history``) scans only the item's lines; an
    ``INFREQUENT_ACCESS`` group has no field indexes."""

    def __post_init__(self) -> None:
        check_one_of("log.level", self.level, LOG_LEVEL_NAMES)
        check_kms_key("log.encryption_key", self.encryption_key)


@dataclass(frozen=True, kw_only=True)
class FailureOptions:
    """Where Lambda parks a batch it gave up on, after its retries (``failure=``).

    Give an existing ``destination``, or the options of the one to build, not both.
    """

    destination: s3.IBucket | sqs.IQueue | None = None
    """An existing S3 bucket or SQS queue to use (e.g. another construct's ``failure_destination``);
    the construct then builds neither. Default: none, the construct builds one (``destination_type``)."""

    destination_type: FailureDestinationType | None = None
    """What to build: ``"S3"`` or ``"SQS"``. Default: ``"S3"``. For an S3 destination Lambda writes
    the whole invocation, records included, so a parked batch outlives the stream's 24 hours; an SQS
    (or SNS) destination receives only the batch's position in the stream."""

    retention: Duration | None = None
    """How long a built destination keeps a parked batch. Default: 30 days for a bucket (whole days,
    at least 1), 14 days for a queue (60 seconds to 14 days, the most SQS keeps a message)."""

    removal_policy: RemovalPolicy | None = None
    """Removal policy of the built bucket or queue. Default: ``RemovalPolicy.RETAIN``: parked batches
    are data, deleting the stack keeps them. With ``DESTROY``, CloudFormation deletes an empty bucket
    but fails on one that still holds objects; nothing empties it behind your back."""

    encryption_key: kms.IKey | None = None
    """A customer-managed KMS key for the built bucket (SSE-KMS, with an S3 bucket key) or queue: a
    parked batch holds its records' items, unredacted. The function's role gets what Lambda needs to
    write with it. Default: none, S3- or SQS-managed encryption. Not with ``destination`` (encrypt
    your own)."""

    def __post_init__(self) -> None:
        check_kms_key("failure.encryption_key", self.encryption_key)
        if self.destination is not None:
            self._check_given()
            return
        check_one_of("failure.destination_type", self.kind, FAILURE_DESTINATION_TYPES)
        retention = self.retention
        if retention is None or is_unresolved(retention):
            return
        if self.kind == "S3" and not is_whole_days(retention):
            raise ValueError(
                "failure.retention of a bucket must be a whole number of days, at least 1, "
                f"got {retention.to_human_string()}"
            )
        low, high = SQS_RETENTION_RANGE
        if self.kind == "SQS" and not low.to_seconds() <= retention.to_seconds() <= high.to_seconds():
            raise ValueError(
                "failure.retention of a queue must be between 60 seconds and 14 days, "
                f"got {retention.to_human_string()}"
            )

    def _check_given(self) -> None:
        given = [
            f"failure.{name}"
            for name in ("destination_type", "retention", "removal_policy", "encryption_key")
            if getattr(self, name) is not None
        ]
        if given:
            raise ValueError(
                "Give either an existing failure destination or options for a new one, not both: "
                f"failure.destination was given together with {', '.join(given)}."
            )
        if not (is_bucket(self.destination) or is_queue(self.destination)):
            raise ValueError(f"failure.destination must be an S3 bucket or an SQS queue, got {self.destination!r}")

    @property
    def kind(self) -> str:
        """The destination's type: ``"S3"`` or ``"SQS"``, given or to build."""
        if self.destination is not None:
            return "S3" if is_bucket(self.destination) else "SQS"
        return self.destination_type or "S3"


@dataclass(frozen=True, kw_only=True)
class Monitoring:
    """The alarms on the stream's reader (``monitoring=``)."""

    alarms: bool = True
    """Create the alarms (stream lag, function errors, throttles, parked and dropped records; with the
    logger's archive also its delivery failures). Default: ``True``."""

    iterator_age_threshold: Duration = Duration.seconds(60)
    """The stream lag alarm fires when the mapping's ``IteratorAge`` (maximum per minute) is above this
    in 3 of 5 minutes. Default: 60 seconds, far above the 1-second batching window of a healthy mapping."""

    alarm_action: cloudwatch.IAlarmAction | None = None
    """Added to every alarm for both the ALARM and the OK state, e.g.
    ``cloudwatch_actions.SnsAction(topic)``, so that whoever is told of a problem is also told when it
    is over. Default: none (the alarms only change state)."""

    def __post_init__(self) -> None:
        threshold = self.iterator_age_threshold
        if not is_unresolved(threshold) and threshold.to_milliseconds() <= 0:
            raise ValueError(f"monitoring.iterator_age_threshold must be positive, got {threshold.to_human_string()}")
        if self.alarm_action is not None and not self.alarms:
            raise ValueError(
                "monitoring.alarm_action was given with monitoring.alarms=False: there would be no alarm to act on."
            )


# --- the logger's own -------------------------------------------------------------------------

#: What a log line carries of the item (``LogLines.images``); typed so that mypy catches a typo.
LogImages = Literal["NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES"]
#: Where the Lambda context keys go (``LogLines.context_keys``).
LogContextKeys = Literal["ONCE", "EVERY_LINE"]
LOG_IMAGES_CHOICES: tuple[LogImages, ...] = get_args(LogImages)
LOG_CONTEXT_KEYS_CHOICES: tuple[LogContextKeys, ...] = get_args(LogContextKeys)


@dataclass(frozen=True, kw_only=True)
class NewTable:
    """The table for the logger to build (``new_table=``), when it is not given an existing ``table``.

    The table is on-demand, with a ``NEW_AND_OLD_IMAGES`` stream and point-in-time recovery.
    """

    partition_key: dynamodb.Attribute
    """Partition key of the table to build. Required."""

    sort_key: dynamodb.Attribute | None = None
    """Sort key of the table to build. Default: none."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """Removal policy of the table. Default: ``RemovalPolicy.RETAIN``, so that deleting the stack
    never deletes data."""

    deletion_protection: bool | None = None
    """Deletion protection of the table: DynamoDB refuses to delete it until it is turned off.
    Default: none, left unsaid (DynamoDB's default: off)."""

    encryption_key: kms.IKey | None = None
    """A customer-managed KMS key for the table. Default: none, the table is encrypted with an AWS
    owned key (DynamoDB's default, no KMS charges and no key policy to manage). With a key, the
    function may ``kms:Decrypt`` with it."""

    time_to_live_attribute: str | None = None
    """The attribute that holds each item's expiry time (a number, seconds since 1970): DynamoDB's TTL
    deletes an item after that time, typically within a few days, and the logger marks its REMOVE
    ``ttl_expired``. Default: none, no TTL."""

    def __post_init__(self) -> None:
        ttl = self.time_to_live_attribute
        if ttl is not None and not is_unresolved(ttl) and (not isinstance(ttl, str) or not ttl):
            raise ValueError(
                "new_table.time_to_live_attribute must be the name of a number attribute, e.g. 'ExpiresAt', "
                f"got {ttl!r}"
            )
        check_kms_key("new_table.encryption_key", self.encryption_key)


@dataclass(frozen=True, kw_only=True)
class LogLines:
    """What each of the logger's log lines holds (``lines=``)."""

    images: LogImages = "NEW_AND_CHANGES"
    """What each log line carries of the item. ``NEW_AND_CHANGES``: the new image, and for a MODIFY
    the old and new value of each changed attribute (``changes``), from which the old image is rebuilt
    exactly; a REMOVE logs the old image. ``NEW_AND_OLD``: both images in full. ``NEW``: the new image
    only (a REMOVE the old one). ``CHANGES``: a MODIFY logs only the changed attributes, an INSERT or
    REMOVE its one image. Default: ``"NEW_AND_CHANGES"``, lossless at about half the bytes of
    ``NEW_AND_OLD``. ``NEW_AND_CHANGES``, ``NEW_AND_OLD`` and ``CHANGES`` need a
    ``NEW_AND_OLD_IMAGES`` stream, ``NEW`` a ``NEW_IMAGE`` or ``NEW_AND_OLD_IMAGES`` one."""

    context_keys: LogContextKeys = "ONCE"
    """Where the Lambda context keys (service, cold start, function name, ARN and memory, X-Ray trace)
    go: ``ONCE``, on one line per invocation (each record line keeps its request id), or
    ``EVERY_LINE``, on every record line too, as the Powertools Logger writes them, for queries that
    filter on them. Default: ``"ONCE"``, since CloudWatch bills every byte."""

    metrics_namespace: str = "TableStreamLogger"
    """``POWERTOOLS_METRICS_NAMESPACE`` of the per-invocation metrics line. Default: ``"TableStreamLogger"``."""

    def __post_init__(self) -> None:
        check_one_of("lines.images", self.images, LOG_IMAGES_CHOICES)
        check_one_of("lines.context_keys", self.context_keys, LOG_CONTEXT_KEYS_CHOICES)


@dataclass(frozen=True, kw_only=True)
class CustomHandler:
    """Your own handler instead of the logger of this package (``handler=``).

    The function then runs it (Python 3.14, arm64), with everything else unchanged: the role and its
    grants, the layer, the environment, the event source mapping and its filters, the failure
    destination, the alarms and the dashboard (whose per-event-name graphs stay empty unless your
    code writes the same metrics). ``lines.images`` is then not checked against the stream: your code
    decides what it needs.
    """

    code: lambda_.Code
    """Your handler's code, e.g. ``lambda_.Code.from_asset("handlers")``. Required."""

    handler: str
    """Your handler, ``"module.function"``. Required."""


@dataclass(frozen=True, kw_only=True)
class ArchiveOptions:
    """Also keep every change line in S3, queryable with Athena (``archive=``; docs/archive.md).

    A subscription filter sends the change lines to Amazon Data Firehose, which writes them, GZIP
    compressed, under ``changes/year=/month=/day=/`` of an encrypted, versioned, SSL-only bucket; a
    Glue table (partition projection), an Athena workgroup and saved queries read them.
    """

    retention: Duration = Duration.days(365)
    """How long the archive keeps a change line, in whole days. Default: 365 days."""

    bytes_scanned_limit: Size = Size.gibibytes(10)
    """The most one query of the archive's workgroup may scan, at least 10 MiB (Athena's minimum).
    Default: 10 GiB (about 5 cents a query at Athena's price)."""

    encryption_key: kms.IKey | None = None
    """A customer-managed KMS key for the archive bucket (SSE-KMS, with an S3 bucket key) and the
    Athena results: the archive holds every change line for ``retention``. Firehose's role gets what
    it needs to write with it, and ``archive.grant_query`` what a reader needs. Default: none,
    S3-managed keys."""

    def __post_init__(self) -> None:
        check_kms_key("archive.encryption_key", self.encryption_key)
        if not is_whole_days(self.retention):
            raise ValueError(
                f"archive.retention must be a whole number of days, at least 1, got {self.retention.to_human_string()}"
            )
        limit = self.bytes_scanned_limit
        if not is_unresolved(limit) and limit.to_bytes() < MIN_BYTES_SCANNED_LIMIT.to_bytes():
            raise ValueError(
                "archive.bytes_scanned_limit must be at least 10 MiB (Athena's minimum), "
                f"got {limit.to_bytes():g} bytes"
            )
