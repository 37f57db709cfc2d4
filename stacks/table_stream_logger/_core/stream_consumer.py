"""A function that reads a DynamoDB stream: what every consumer of this package builds the same way.

Shared by ``TableStreamLogger`` and ``ChangeAlerts``, each a consumer of the table's stream with
its own function: the function's log group and least-privilege role, the Powertools layer, the
function, and the event source mapping with its defaults. The constructs call these builders
with themselves as the scope, so the resources keep their construct IDs (and logical IDs).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import Annotations, ArnFormat, CfnResource, Duration, IStableAnyProducer, Lazy, Stack
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

from ..parked import PARKED_PREFIX, REPLAYED_PREFIX
from . import iam_actions as actions
from .checks import check_range, check_seconds
from .compliance import skip_checkov_findings
from .failure_destinations import FailureDestinationProps, build_failure_destination, is_bucket
from .log_encryption import allow_logs_to_use_key
from .monitoring import AlarmProps, build_alarms
from .nag import acknowledge_grant_wildcard, acknowledge_wildcard

# The newest Python runtime the Powertools layer is published for.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64

# Must equal the aws-lambda-powertools pin in requirements-dev.txt (a test checks it), so that
# the tests exercise the same Powertools the function runs with.
POWERTOOLS_VERSION = "3.37.0"
# Public parameter that Powertools publishes in every region for each layer version. Resolving
# it at deploy time keeps the template environment-agnostic and synth free of lookups.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"

LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARN": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


def lambda_log_level(log_level: str) -> lambda_.ApplicationLogLevel:
    """Lambda's own filter (the function's ApplicationLogLevel) for a consumer's ``log_level``.

    INFO, DEBUG for DEBUG: the handlers apply ``log_level`` to their lines themselves, and the
    logger's per-invocation metrics line is INFO, which the dashboard needs at every level.
    """
    return LOG_LEVELS["DEBUG" if log_level == "DEBUG" else "INFO"]


# The handler files of this package (lambda/), and what of that folder no function needs.
HANDLER_FILES = ("stream_logger.py", "change_alerts.py", "dynamo_json.py")
ASSET_EXCLUDE = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]


def handler_asset_dir(handler_file: str = "stream_logger.py") -> Path:
    """The directory of this package's handlers (``stream_logger.py``, ``change_alerts.py``, ...).

    Found from this file, never from the current directory, so that ``cdk`` runs from anywhere:

    - installed from the wheel, the handler files are packaged in the package's folder, in
      ``table_stream_logger/lambda/`` (pyproject.toml's ``force-include``), one folder up;
    - in the repository, this module is ``stacks/table_stream_logger/_core/stream_consumer.py`` and
      the handlers are the top-level ``lambda/``, three folders up.
    """
    here = Path(__file__).resolve()
    candidates = (here.parents[1] / "lambda", here.parents[3] / "lambda")
    for candidate in candidates:
        if (candidate / handler_file).is_file():
            return candidate
    raise FileNotFoundError(
        f"The handler {handler_file} of table-stream-logger is missing: looked in "
        f"{' and '.join(str(path) for path in candidates)}. Reinstall the table-stream-logger package, "
        "or give your own handler with code=... and handler=...."
    )


def handler_code(handler_file: str) -> lambda_.Code:
    """The asset of one of this package's handlers: its file and ``dynamo_json.py``, nothing else."""
    others = [name for name in HANDLER_FILES if name not in (handler_file, "dynamo_json.py")]
    return lambda_.Code.from_asset(str(handler_asset_dir(handler_file)), exclude=[*ASSET_EXCLUDE, *others])


@dataclass(frozen=True)
class StreamReading:
    """How the event source mapping reads the stream and retries a failing batch.

    Each field is the ``TableStreamLogger`` prop of the same name, documented there, with the
    same range and default: ``batch_size`` 100 (1 to 10000), ``max_batching_window`` 1 second
    (up to 5 minutes), ``starting_position`` ``TRIM_HORIZON``, ``retry_attempts`` 10 (0 to
    10000), ``max_record_age`` 6 hours (60 seconds to 7 days), ``bisect_batch_on_error``
    ``True``, ``parallelization_factor`` 1 (1 to 10).
    """

    batch_size: int = 100
    max_batching_window: Duration = Duration.seconds(1)
    starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON
    retry_attempts: int = 10
    max_record_age: Duration = Duration.hours(6)
    bisect_batch_on_error: bool = True
    parallelization_factor: int = 1

    def __post_init__(self) -> None:
        check_range("batch_size", self.batch_size, 1, 10_000)
        check_seconds("max_batching_window", self.max_batching_window, 0, 300)
        check_range("retry_attempts", self.retry_attempts, 0, 10_000)
        check_seconds("max_record_age", self.max_record_age, 60, 604_800)
        check_range("parallelization_factor", self.parallelization_factor, 1, 10)


class StreamConsumer(Construct):
    """A reader of a table's stream with a function of its own; what it built, read-only.

    The base of ``TableStreamLogger`` and ``ChangeAlerts``; their constructors set every
    attribute below through the builders of this module.
    """

    _table: dynamodb.ITable
    _function: lambda_.Function
    _role: iam.Role
    _log_group: logs.LogGroup
    _event_source: event_sources.DynamoEventSource
    _event_source_mapping: lambda_.EventSourceMapping
    _failure_destination: s3.IBucket | sqs.IQueue
    _alarms: dict[str, cloudwatch.Alarm]

    def _read_stream(
        self,
        table: dynamodb.ITable,
        function: FunctionProps,
        reading: StreamReading,
        failure: FailureDestinationProps,
        alarms: AlarmProps,
        *,
        filters: Sequence[Mapping[str, Any]],
        grants: Callable[[iam.Role], None] = lambda role: None,
        event_count_metrics: bool = False,
    ) -> None:
        """Build, as children of this construct: the function (then ``grants`` on its role), the
        failure destination, the mapping and the alarms. The EventCount metrics are on for the
        alarms, or when ``event_count_metrics`` asks for them (the logger's dashboard)."""
        self._table = table
        self._log_group, self._role, self._function = build_function(self, table, function)
        grants(self._role)
        self._failure_destination, on_failure = build_failure_destination(self, failure)
        skip_checkov_findings(
            self,
            table=table,
            log_group=self._log_group,
            function=self._function,
            failure_destination=self._failure_destination,
        )
        self._event_source, self._event_source_mapping = connect_stream(
            self,
            self._function,
            table,
            reading,
            filters=filters,
            on_failure=on_failure,
            failure_destination=self._failure_destination,
            event_count_metrics=alarms.alarms or event_count_metrics,
        )
        self._alarms = build_alarms(self, self._function, self._event_source_mapping, alarms) if alarms.alarms else {}
        warn_of_too_many_readers(self, table)

    @property
    def table(self) -> dynamodb.ITable:
        """The table whose stream is read, built or given."""
        return self._table

    @property
    def function(self) -> lambda_.Function:
        """The function that handles the stream's records."""
        return self._function

    @property
    def role(self) -> iam.Role:
        """The function's execution role."""
        return self._role

    @property
    def log_group(self) -> logs.LogGroup:
        """The function's log group."""
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
        ``RecordsDropped``; empty with ``alarms=False``."""
        return dict(self._alarms)

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give ``grantee`` what ``python -m table_stream_logger`` needs, and nothing else, to list,
        show and replay the batches parked by this construct (README: When RecordsParked fires).

        The same for every reader of the stream (``TableStreamLogger``, ``ChangeAlerts``), each on its
        own function and log group:

        - ``cloudformation:DescribeStacks`` and ``cloudformation:ListStackResources`` on this stack:
          ``--stack-name`` reads its outputs, or, in a stack without the app's outputs, finds the
          event source mappings, whose ``lambda:GetEventSourceMapping`` (on this construct's
          mapping) names the function and the failure destination;
        - ``lambda:GetFunctionConfiguration`` (the redacted attributes, the log group) and
          ``lambda:InvokeFunction`` on the function, and ``logs:FilterLogEvents`` on its log group;
        - an S3 destination: ``s3:ListBucket`` on the bucket, ``s3:GetObject`` on the parked batches
          (``aws/lambda/*``) and on their replayed copies (``replayed/aws/lambda/*``), ``s3:PutObject``
          on the copies and ``s3:DeleteObject`` on both (a replayed batch is moved; the copy written
          before an invocation that then failed is removed); with a
          KMS key, ``kms:Decrypt`` and ``kms:GenerateDataKey`` on it;
        - an SQS destination: ``sqs:GetQueueUrl`` (from the mapping's queue ARN),
          ``sqs:ReceiveMessage``, ``sqs:ChangeMessageVisibility`` and ``sqs:DeleteMessage`` on the
          queue (``kms:Decrypt`` on its key, if any), and
          ``dynamodb:GetShardIterator`` and ``dynamodb:GetRecords`` on the stream (``kms:Decrypt`` on
          the table's key, if any), from which a replay reads the records back.

        A destination shared by several readers (the app's failure bucket) holds all their batches
        under ``aws/lambda/``, in objects that do not say whose they are before they are read: the
        S3 statements cover them all, and the command replays each batch to the function that
        parked it, refusing a batch of any other function.
        """

        def allow(actions: list[str], resources: list[str]) -> iam.Grant:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=resources)

        stack_actions = [actions.CLOUDFORMATION_DESCRIBE_STACKS, actions.CLOUDFORMATION_LIST_STACK_RESOURCES]
        grant = allow(stack_actions, [Stack.of(self).stack_id])
        grant = grant.combine(
            allow(
                [actions.LAMBDA_GET_FUNCTION_CONFIGURATION, actions.LAMBDA_INVOKE_FUNCTION],
                [self._function.function_arn],
            )
        )
        mapping_arn = self._event_source_mapping.event_source_mapping_arn
        grant = grant.combine(allow([actions.LAMBDA_GET_EVENT_SOURCE_MAPPING], [mapping_arn]))
        grant = grant.combine(self._log_group.grant(grantee, actions.LOGS_FILTER_LOG_EVENTS))
        key: kms.IKey | None
        if is_bucket(self._failure_destination):
            bucket = cast(s3.IBucket, self._failure_destination)
            parked = bucket.arn_for_objects(f"{PARKED_PREFIX}*")
            replayed = bucket.arn_for_objects(f"{REPLAYED_PREFIX}{PARKED_PREFIX}*")
            grant = grant.combine(allow([actions.S3_LIST_BUCKET], [bucket.bucket_arn]))
            grant = grant.combine(allow([actions.S3_GET_OBJECT], [parked, replayed]))
            grant = grant.combine(allow([actions.S3_PUT_OBJECT], [replayed]))
            # replayed/: a copy that says its invocation began, removed when Lambda refused the call
            grant = grant.combine(allow([actions.S3_DELETE_OBJECT], [parked, replayed]))
            key = bucket.encryption_key
            if key is not None:
                grant = grant.combine(key.grant(grantee, actions.KMS_DECRYPT, actions.KMS_GENERATE_DATA_KEY))
        else:
            queue = cast(sqs.IQueue, self._failure_destination)
            grant = grant.combine(
                queue.grant(
                    grantee,
                    actions.SQS_GET_QUEUE_URL,
                    actions.SQS_RECEIVE_MESSAGE,
                    actions.SQS_CHANGE_MESSAGE_VISIBILITY,
                    actions.SQS_DELETE_MESSAGE,
                )
            )
            stream_arn = self._table.table_stream_arn
            assert stream_arn is not None  # required when the construct was built
            grant = grant.combine(
                allow([actions.DYNAMODB_GET_SHARD_ITERATOR, actions.DYNAMODB_GET_RECORDS], [stream_arn])
            )
            for key in (queue.encryption_master_key, self._table.encryption_key):
                if key is not None:
                    grant = grant.combine(key.grant(grantee, actions.KMS_DECRYPT))
        return grant

    def grant_status(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give ``grantee`` what ``python -m table_stream_logger status --stack-name S`` needs to
        check this reader, and nothing else (docs/operations.md: Who may check).

        ``status`` checks every reader of the stack: grant it on each (the logger and the alerts).

        - ``cloudformation:ListStackResources`` on this stack (its mappings and alarms);
        - ``lambda:GetEventSourceMapping`` on this construct's mapping (State, LastProcessingResult,
          the failure destination), ``lambda:GetFunctionConfiguration`` on the function (its log
          group) and ``logs:FilterLogEvents`` on the log group (the last change line, the last ERROR lines);
        - ``cloudwatch:DescribeAlarms`` on the alarms CloudFormation names after this stack
          (``<stack name>-*``), and ``cloudwatch:GetMetricStatistics`` (the IteratorAge), which IAM
          grants on ``*`` only;
        - the parked batches: ``s3:ListBucket`` on a bucket, or ``sqs:GetQueueUrl`` and
          ``sqs:GetQueueAttributes`` on a queue.
        """

        def allow(actions_: list[str], resources: list[str]) -> iam.Grant:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions_, resource_arns=resources)

        stack = Stack.of(self)
        grant = allow([actions.CLOUDFORMATION_LIST_STACK_RESOURCES], [stack.stack_id])
        grant = grant.combine(
            allow([actions.LAMBDA_GET_EVENT_SOURCE_MAPPING], [self._event_source_mapping.event_source_mapping_arn])
        )
        grant = grant.combine(allow([actions.LAMBDA_GET_FUNCTION_CONFIGURATION], [self._function.function_arn]))
        grant = grant.combine(self._log_group.grant(grantee, actions.LOGS_FILTER_LOG_EVENTS))
        stack_alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"{stack.stack_name}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        grant = grant.combine(allow([actions.CLOUDWATCH_DESCRIBE_ALARMS], [stack_alarms]))
        grant = grant.combine(allow([actions.CLOUDWATCH_GET_METRIC_STATISTICS], ["*"]))
        acknowledge_grant_wildcard(
            grantee, stack_alarms, "status reads the alarms of this stack, which CloudFormation names after it"
        )
        acknowledge_grant_wildcard(
            grantee, "*", "status reads the IteratorAge metric: cloudwatch:GetMetricStatistics has no resource type"
        )
        if is_bucket(self._failure_destination):
            bucket = cast(s3.IBucket, self._failure_destination)
            grant = grant.combine(allow([actions.S3_LIST_BUCKET], [bucket.bucket_arn]))
        else:
            queue = cast(sqs.IQueue, self._failure_destination)
            grant = grant.combine(queue.grant(grantee, actions.SQS_GET_QUEUE_URL, actions.SQS_GET_QUEUE_ATTRIBUTES))
        return grant


# "No more than two processes at most should be reading from the same streams shard at the same
# time. Having more than two readers per shard can result in throttling." (DynamoDB developer guide,
# Change data capture for DynamoDB Streams)
MAX_STREAM_READERS = 2


def warn_of_too_many_readers(scope: Construct, table: dynamodb.ITable) -> None:
    """Warn at synth when ``scope``'s mapping makes more than two readers of the stream in this stack."""
    stack = Stack.of(scope)
    stream = stack.resolve(table.table_stream_arn)
    readers = [
        node
        for node in stack.node.find_all()
        if isinstance(node, lambda_.CfnEventSourceMapping) and stack.resolve(node.event_source_arn) == stream
    ]
    if len(readers) > MAX_STREAM_READERS:
        Annotations.of(scope).add_warning_v2(
            "table-stream-logger:too-many-stream-readers",
            f"The stream of {table.node.path} now has {len(readers)} readers in this stack "
            f"({', '.join(reader.node.path for reader in readers)}). DynamoDB advises at most "
            f"{MAX_STREAM_READERS} processes reading a stream's shard at once: more are throttled, and every "
            "reader falls behind. Log the table once, with filters=[...] for what each needs, or read the "
            "stream through one function that fans out.",
        )


def check_function_props(log_level: str, redact: Sequence[str]) -> None:
    """Check the props of the function that every consumer has."""
    if log_level not in LOG_LEVELS:
        raise ValueError(f"log_level must be one of {sorted(LOG_LEVELS)}, got {log_level!r}")
    if isinstance(redact, str) or not all(isinstance(p, str) and all(p.split(".")) for p in redact):
        raise ValueError(
            f"redact must be a list of attribute names or dotted paths (no empty name: 'card.number', "
            f"not 'card..number'), got {redact!r}"
        )


def json_list(values: Sequence[str]) -> str:
    """A list as the handlers read it from their environment: compact JSON."""
    return json.dumps(list(values), separators=(",", ":"))


@dataclass(frozen=True)
class FunctionLimits:
    """The constructs' props of the function that every consumer has."""

    log_level: str  # the user's: POWERTOOLS_LOG_LEVEL, which the handler applies
    log_retention: logs.RetentionDays
    memory_size: int
    timeout: Duration
    powertools_layer: lambda_.ILayerVersion | None


@dataclass(frozen=True)
class FunctionProps:
    """What the consumer's function is: its code, its environment and its limits."""

    description: str
    role_description: str
    code: lambda_.Code
    handler: str
    environment: Mapping[str, str]
    limits: FunctionLimits
    log_group_class: logs.LogGroupClass = logs.LogGroupClass.STANDARD
    log_encryption_key: kms.IKey | None = None
    # CloudWatch Logs refuses to delete a protected group (DeleteLogGroup) until protection is off.
    log_deletion_protection: bool = False
    reserved_concurrent_executions: int | None = None
    # Fields of the log lines to index (a field index policy), for queries that scan only the
    # lines they match; ignored with the Infrequent Access class, which has no field indexes.
    index_fields: Sequence[str] = ()


def handler_environment(
    service_name: str, log_level: str, redact: Sequence[str], key_attributes: list[str] | None, **own: str
) -> dict[str, str]:
    """A handler's environment: Powertools' settings, the handler's ``own``, what to redact, the keys."""
    environment = {"POWERTOOLS_SERVICE_NAME": service_name, "POWERTOOLS_LOG_LEVEL": log_level, **own}
    environment["REDACT_ATTRIBUTES"] = json_list(redact)
    if key_attributes is not None:
        environment["KEY_ATTRIBUTES"] = json_list(key_attributes)
    return environment


def build_function(
    scope: Construct, table: dynamodb.ITable, props: FunctionProps
) -> tuple[logs.LogGroup, iam.Role, lambda_.Function]:
    """The function's log group, its role and the function, as children ``LogGroup``, ``Role``,
    ``PowertoolsLayer`` (unless a layer is given) and ``Function`` of ``scope``."""
    # The function writes to this group only. CDK's default for a log group, RETAIN, is
    # kept: the group is the record of what the function did, so deleting the stack
    # leaves it to expire with its retention instead of erasing it.
    log_group = logs.LogGroup(
        scope,
        "LogGroup",
        retention=props.limits.log_retention,
        # STANDARD is CloudFormation's default and stays unsaid: a class newly written into the
        # template would read as a change of class, which replaces the group.
        log_group_class=None if props.log_group_class == logs.LogGroupClass.STANDARD else props.log_group_class,
        encryption_key=props.log_encryption_key,
        # Omitted (CloudFormation's default: off) rather than false, as the table's protection is.
        deletion_protection_enabled=True if props.log_deletion_protection else None,
        field_index_policies=(
            [logs.FieldIndexPolicy(fields=list(props.index_fields))]
            if props.index_fields and props.log_group_class == logs.LogGroupClass.STANDARD
            else None
        ),
    )
    if props.log_encryption_key is not None:
        allow_logs_to_use_key(log_group, props.log_encryption_key)

    # A role of our own instead of CDK's default one, which attaches
    # AWSLambdaBasicExecutionRole (logs:* on every log group). Each grant below adds
    # exactly the permissions the function needs.
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=props.role_description,
    )
    log_group.grant_write(role)
    if table.encryption_key is not None:
        table.encryption_key.grant(role, actions.KMS_DECRYPT)

    layer = props.limits.powertools_layer or lambda_.LayerVersion.from_layer_version_arn(
        scope,
        "PowertoolsLayer",
        ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER),
    )
    function = lambda_.Function(
        scope,
        "Function",
        description=props.description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=props.handler,
        code=props.code,
        layers=[layer],
        role=role,
        memory_size=props.limits.memory_size,
        timeout=props.limits.timeout,
        reserved_concurrent_executions=props.reserved_concurrent_executions,
        environment=dict(props.environment),
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_log_level(props.limits.log_level),
        # Lambda's own start/report lines are INFO: they would add three lines to every
        # invocation. Its warnings and errors still come through.
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
    )
    return log_group, role, function


def connect_stream(
    scope: Construct,
    function: lambda_.Function,
    table: dynamodb.ITable,
    reading: StreamReading,
    *,
    filters: Sequence[Mapping[str, Any]],
    on_failure: lambda_.IEventSourceDlq,
    failure_destination: s3.IBucket | sqs.IQueue,
    event_count_metrics: bool,
) -> tuple[event_sources.DynamoEventSource, lambda_.EventSourceMapping]:
    """The event source mapping from the table's stream to the function.

    Reports batch item failures, so that a handler can name the record it failed on, and
    acknowledges the role policy's inherent cdk-nag findings, each at its exact resource.
    """
    stream_arn = table.table_stream_arn
    assert stream_arn is not None  # checked before building
    # DynamoEventSource calls grant_stream_read() on the table it is given, which adds
    # kms:DescribeKey as well when the table has a customer-managed key. A key-less view
    # of the same stream limits its grant to the stream itself; kms:Decrypt is granted
    # with the role.
    stream = dynamodb.Table.from_table_attributes(
        scope, "Stream", table_arn=table.table_arn, table_stream_arn=stream_arn
    )
    event_source = event_sources.DynamoEventSource(
        stream,
        starting_position=reading.starting_position,
        batch_size=reading.batch_size,
        max_batching_window=reading.max_batching_window,
        report_batch_item_failures=True,
        bisect_batch_on_error=reading.bisect_batch_on_error,
        retry_attempts=reading.retry_attempts,
        max_record_age=reading.max_record_age,
        parallelization_factor=reading.parallelization_factor,
        filters=list(filters) or None,
        on_failure=on_failure,
        # The EventCount group (records polled, invoked, parked, dropped, ...): the alarms
        # and the dashboard read it; without either it stays off.
        metrics_config=lambda_.MetricsConfig(metrics=[lambda_.MetricType.EVENT_COUNT]) if event_count_metrics else None,
    )
    function.add_event_source(event_source)
    (mapping,) = (child for child in function.node.children if isinstance(child, lambda_.EventSourceMapping))

    role = function.role
    assert isinstance(role, iam.Role)
    _acknowledge_policy_findings(role, failure_destination)
    _depend_on_grants_only(function, role)
    return event_source, mapping


def _acknowledge_policy_findings(role: iam.Role, failure_destination: s3.IBucket | sqs.IQueue) -> None:
    """Acknowledge the wildcards that the role's policy needs, each at its exact resource."""
    acknowledge_wildcard(
        role,
        "*",
        "dynamodb:ListStreams, and only it, is granted on '*': the action supports no resource-level "
        "permission. Every other statement names its resource.",
    )
    if is_bucket(failure_destination):
        acknowledge_wildcard(
            role,
            cast(s3.IBucket, failure_destination).arn_for_objects(f"{PARKED_PREFIX}*"),
            f"s3:PutObject under {PARKED_PREFIX} of the failure bucket only: Lambda names each object "
            "it parks there (by mapping, shard and time), so no narrower key is known in advance.",
        )


def _depend_on_grants_only(function: lambda_.Function, role: iam.Role) -> None:
    """Keep the function's DependsOn on its role's policy, drop the one on the role.

    CDK makes the function depend on everything under its role. The role itself is
    already a dependency through the function's ``Role`` (Fn::GetAtt), which cfn-lint
    reports as W3005; the policy is not, and it must stay: the function, and after it
    the event source mapping, may only be created once the grants are in place.
    """
    resource = function.node.default_child
    role_resource = role.node.default_child
    assert isinstance(resource, CfnResource) and isinstance(role_resource, CfnResource)
    resource.add_override("DependsOn", Lazy.any(_DependsOnExcept(resource, role_resource)))


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
