"""A function that reads a DynamoDB stream: what every consumer of this package builds the same way.

Shared by ``TableStreamLogger`` and ``ChangeAlerts``, each a consumer of the table's stream with
its own function: ``StreamConsumer`` composes the function (``function.py``), the failure
destination, the event source mapping (``mapping.py``) and the alarms, and grants what the
operator's commands need. The constructs call these builders with themselves as the scope, so the
resources keep their construct IDs (and logical IDs). The handlers' asset is built here, from
handler_assets.py's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from aws_cdk import Annotations, ArnFormat, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import iam_actions as actions
from .checks import is_bucket
from .compliance import skip_checkov_findings
from .failure_destinations import build_failure_destination
from .function import FunctionProps, build_function
from .handler_assets import handler_asset_dir
from .mapping import connect_stream
from .monitoring import build_alarms
from .nag import acknowledge_grant_wildcard
from .record_formats import PARKED_PREFIX, REPLAYED_PREFIX

if TYPE_CHECKING:
    from ..options import FailureOptions, Monitoring, StreamReading

# The handlers of this package (lambda/), each with the files its function's asset holds: its
# own modules, the helpers both share (stream_common.py) and the DynamoDB JSON rendering.
HANDLER_FILES = {
    "stream_logger.py": (
        "stream_logger.py",
        "line_render.py",
        "line_writer.py",
        "oversized.py",
        "stream_common.py",
        "dynamo_json.py",
    ),
    "change_alerts.py": ("change_alerts.py", "stream_common.py", "dynamo_json.py"),
}
# What of that folder no function needs.
ASSET_EXCLUDE = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]


def handler_code(handler_file: str) -> lambda_.Code:
    """The asset of one of this package's handlers: its files (``HANDLER_FILES``), nothing else."""
    files = HANDLER_FILES[handler_file]
    others = sorted({name for names in HANDLER_FILES.values() for name in names} - set(files))
    return lambda_.Code.from_asset(str(handler_asset_dir(handler_file)), exclude=[*ASSET_EXCLUDE, *others])


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
        failure: FailureOptions,
        alarms: Monitoring,
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
        ``RecordsDropped``; empty with ``monitoring.alarms=False``."""
        return dict(self._alarms)

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give ``grantee`` what ``python -m table_stream_logger`` needs, and nothing else, to list,
        show and replay the batches parked by this construct (README: When RecordsParked fires).

        The same for every reader of the stream (``TableStreamLogger``, ``ChangeAlerts``), each on its
        own function and log group:

        - ``cloudformation:ListStackResources`` on this stack: ``--stack-name`` finds the stack's
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

        grant = allow([actions.CLOUDFORMATION_LIST_STACK_RESOURCES], [Stack.of(self).stack_id])
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
