"""A reusable construct that logs every change of a DynamoDB table to CloudWatch Logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._core import iam_actions as actions
from ._core.checks import check_log_group_class, check_options, check_redact
from ._core.compliance import skip_archive_findings
from ._core.failure_destinations import allow_oversized_copies
from ._core.function import FunctionProps, handler_environment
from ._core.monitoring import build_dashboard
from ._core.nag import acknowledge_grant_wildcard
from ._core.queries import history_index_fields, save_queries
from ._core.stream_consumer import StreamConsumer, handler_code
from ._core.tables import (
    IMAGES_DELIVERED,
    build_table,
    check_stream_view_type,
    check_table,
    existing_key_names,
    require_stream,
)
from .filters import ChangeFilter, check_filters
from .options import (
    ArchiveOptions,
    CustomHandler,
    FailureOptions,
    FunctionOptions,
    LogLines,
    LogOptions,
    Monitoring,
    NewTable,
    StreamReading,
)

if TYPE_CHECKING:
    from .archive.change_archive import ChangeArchive

#: The default handler, in the handler asset (see ``handler_asset_dir``).
HANDLER = "stream_logger.handler"
HANDLER_FILE = "stream_logger.py"
SERVICE_NAME = "table-stream-logger"

# What the default handler needs from the stream, per LogLines.images mode.
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
    on the same table is the second (and ``table``, ``failure.destination`` can be shared with it).

    Each option is documented on its field, in ``options.py``; every argument is optional but
    the table:

    :param table: An existing table to log, which must have a stream. An imported table works
        when its stream ARN is given, e.g. ``Table.from_table_attributes(..., table_stream_arn=...)``.
        Give either ``table`` or ``new_table``, not both.
    :param new_table: The table to build (``NewTable``): its keys, removal policy, key, TTL.
    :param stream_view_type: The view type of an imported table's stream, which CDK cannot read;
        when given, it is checked against ``lines.images`` and ``filters`` like the view type of a
        ``Table`` or ``TableV2`` of the app is. Only with ``table``; given for a table of the app,
        it must equal the table's. Default: none, an imported table's view type is not checked.
    :param redact: Attribute names or dotted paths (``"card.number"``) whose values are replaced
        before logging; ``"card\\.number"`` names a top-level attribute with a dot in its name. A
        path whose parent is not a map hides the parent whole. Default: none.
    :param lines: What each log line holds (``LogLines``). Default: ``LogLines()``.
    :param log: The log lines' service and level, the log group (``LogOptions``). Default: ``LogOptions()``.
    :param function: The function's memory, timeout, concurrency, layer (``FunctionOptions``).
    :param handler: Your own handler (``CustomHandler``). Default: none, the logger of this package.
    :param reading: How the mapping reads the stream and retries (``StreamReading``).
    :param filters: Which records reach the function, as typed ``ChangeFilter`` objects (Lambda
        event filtering): a record passes if it matches any of them, and the others are dropped
        before batching. At most 5, Lambda's default quota. A filter on ``new_image_has`` /
        ``old_image_has`` needs a stream with those images. Default: none, every record passes.
    :param failure: Where a batch given up on is parked (``FailureOptions``). Default: a bucket.
    :param monitoring: The alarms (``Monitoring``). Default: ``Monitoring()``.
    :param dashboard: Create a CloudWatch dashboard with the alarms' metrics and the handler's own.
        Default: ``True``.
    :param saved_queries: Save CloudWatch Logs Insights queries for the log group (history of one
        item, changes of one attribute, failed records, changes per minute, TTL expiries).
        Default: ``True``.
    :param archive: Also keep every change line in S3, queryable with Athena (``ArchiveOptions``).
        Default: none, no archive.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable | None = None,
        new_table: NewTable | None = None,
        stream_view_type: dynamodb.StreamViewType | None = None,
        redact: Sequence[str] = (),
        lines: LogLines | None = None,
        log: LogOptions | None = None,
        function: FunctionOptions | None = None,
        handler: CustomHandler | None = None,
        reading: StreamReading | None = None,
        filters: Sequence[ChangeFilter] = (),
        failure: FailureOptions | None = None,
        monitoring: Monitoring | None = None,
        dashboard: bool = True,
        saved_queries: bool = True,
        archive: ArchiveOptions | None = None,
    ) -> None:
        """Build the logger; each argument is described above, each option on its field."""
        # Validate everything before building anything, the construct's own node included, so
        # that a mistake surfaces as one clear error at synth rather than as a half-built tree.
        check_options(
            new_table=(new_table, NewTable),
            lines=(lines, LogLines),
            log=(log, LogOptions),
            function=(function, FunctionOptions),
            handler=(handler, CustomHandler),
            reading=(reading, StreamReading),
            failure=(failure, FailureOptions),
            monitoring=(monitoring, Monitoring),
            archive=(archive, ArchiveOptions),
        )
        lines, log, monitoring = lines or LogLines(), log or LogOptions(), monitoring or Monitoring()
        check_table(table, new_table)
        check_redact(redact)
        change_filters = check_filters(filters)
        check_log_group_class(log.group_class, archive=archive is not None, dashboard=dashboard)
        # Your own handler decides which images it needs; the filters need theirs regardless.
        images = lines.images if handler is None else None
        _check_images(check_stream_view_type(table, stream_view_type), images, change_filters, table)

        super().__init__(scope, construct_id)
        self._table = table if table is not None else build_table(self, new_table)
        key_attributes = existing_key_names(self._table)
        self._stream_arn = require_stream(self._table)
        self._redact = tuple(redact)
        self._read_stream(
            self._table,
            _function_props(handler, function or FunctionOptions(), log, lines, redact, key_attributes),
            reading or StreamReading(),
            failure or FailureOptions(),
            monitoring,
            filters=[change_filter.to_filter() for change_filter in change_filters],
            # The EventCount group feeds the dashboard too.
            event_count_metrics=dashboard,
        )
        allow_oversized_copies(self._function, self._failure_destination)
        self._queries = save_queries(self, self._log_group, key_attributes) if saved_queries else []
        self._dashboard = (
            build_dashboard(
                self,
                self._function,
                self._event_source_mapping,
                metrics_namespace=lines.metrics_namespace,
                service_name=log.service_name or SERVICE_NAME,
                iterator_age_threshold=monitoring.iterator_age_threshold,
            )
            if dashboard
            else None
        )
        self._archive = self._build_archive(archive, monitoring, key_attributes) if archive is not None else None

    def _build_archive(
        self, archive: ArchiveOptions, monitoring: Monitoring, key_attributes: list[str] | None
    ) -> ChangeArchive:
        """The change archive, as child ``Archive``; its alarms join the logger's."""
        # Imported only for a logger with an archive: Firehose's, Glue's and Athena's modules
        # are 0.03 s (a tenth) of importing the app's stack without one (its dev stage).
        from .archive.change_archive import ChangeArchive

        change_archive = ChangeArchive(
            self, "Archive", log_group=self._log_group, key_names=key_attributes, options=archive, monitoring=monitoring
        )
        self._alarms.update(change_archive.alarms)
        skip_archive_findings(change_archive)
        return change_archive

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
        empty with ``monitoring.alarms=False``."""
        return dict(self._alarms)

    @property
    def archive(self) -> ChangeArchive | None:
        """The change archive (bucket, delivery stream, Glue table, Athena workgroup and queries);
        ``None`` without ``archive``."""
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

        - ``cloudformation:ListStackResources`` on this stack: ``history`` finds the logger among
          the stack's mappings (``lambda:GetEventSourceMapping`` on this one,
          ``lambda:GetFunctionConfiguration`` on the function, and, with other readers in the stack,
          their ``grant_status``) and the archive among its resources;
        - ``logs:StartQuery`` and ``logs:GetQueryResults`` on the log group; ``logs:DescribeLogGroups``
          (its retention, class and creation time), ``logs:DescribeIndexPolicies`` (its field
          indexes) and ``logs:StopQuery`` (a query past ``--timeout``), which IAM grants on ``*`` only;
        - with the archive, its ``grant_query`` (Athena, for the time before the log group's retention).
        """

        def allow(actions_: list[str], resources: list[str]) -> iam.Grant:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions_, resource_arns=resources)

        grant = allow([actions.CLOUDFORMATION_LIST_STACK_RESOURCES], [Stack.of(self).stack_id])
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


def _function_props(
    handler: CustomHandler | None,
    function: FunctionOptions,
    log: LogOptions,
    lines: LogLines,
    redact: Sequence[str],
    key_attributes: list[str] | None,
) -> FunctionProps:
    """The logger's function: this package's handler or yours, its environment, its log group's indexes."""
    environment = handler_environment(
        log.service_name or SERVICE_NAME,
        log.level,
        redact,
        key_attributes,
        POWERTOOLS_METRICS_NAMESPACE=lines.metrics_namespace,
        LOG_IMAGES=lines.images,
        LOG_CONTEXT_KEYS=lines.context_keys,
    )
    return FunctionProps(
        description="Logs every change of a DynamoDB table as one JSON line"
        if handler is None
        else "Handles every change of a DynamoDB table",
        role_description="Reads the table's stream and writes the function's log group",
        code=handler_code(HANDLER_FILE) if handler is None else handler.code,
        handler=HANDLER if handler is None else handler.handler,
        environment=environment,
        function=function,
        # The log group is the record of every change: kept (RETAIN) when the stack is deleted.
        log=log,
        index_fields=history_index_fields(key_attributes, redact),
    )


def _check_images(
    view_type: str | None, log_images: str | None, filters: Sequence[ChangeFilter], table: dynamodb.ITable | None
) -> None:
    """Check that a stream of this view type delivers the images that the handler and the filters need."""
    if view_type is None or view_type not in IMAGES_DELIVERED:
        return
    delivered = IMAGES_DELIVERED[view_type]
    stream = f"the stream of {table.node.path}" if table is not None else "the stream"
    if log_images is not None and not IMAGES_NEEDED[log_images] <= delivered:
        if log_images == "NEW":
            what = "the new image"
            fix = "Give the table a NEW_IMAGE or NEW_AND_OLD_IMAGES stream"
        else:
            what = "the new and the old image"
            fix = "Give the table a NEW_AND_OLD_IMAGES stream"
            if "new" in delivered:
                fix += ", or log with lines=LogLines(images='NEW')"
        raise ValueError(
            f"lines.images={log_images!r} needs {what} of each change, but {stream} is {view_type}. {fix} "
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
