"""Alarms on a stream consumer: the stream's lag, the function's errors and throttles, lost records.

Shared by ``TableStreamLogger`` and ``ChangeAlerts``; the logger's dashboard graphs the same metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

if TYPE_CHECKING:
    from ..options import Monitoring

# The event source mapping's own metrics (group EventCount) live in AWS/Lambda under this
# dimension; see "Event source mapping metrics" in the Lambda developer guide.
ESM_DIMENSION = "EventSourceMappingUUID"
PARKED_METRIC = "OnFailureDestinationDeliveredEventCount"
DROPPED_METRIC = "DroppedEventCount"
# What the logger's handler emits (lambda/stream_logger.py): one embedded-metric-format line per
# invocation, in the namespace `lines.metrics_namespace`, with the dimension `service`.
HANDLER_METRICS = ("InsertRecords", "ModifyRecords", "RemoveRecords", "FailedRecords")


def build_alarms(
    scope: Construct,
    function: lambda_.IFunction,
    mapping: lambda_.IEventSourceMapping,
    props: Monitoring,
) -> dict[str, cloudwatch.Alarm]:
    """The alarms of one stream consumer, as children ``<Name>Alarm`` of ``scope``, by name."""
    iterator_age_threshold, alarm_action = props.iterator_age_threshold, props.alarm_action
    five_minutes = Duration.minutes(5)

    # Counts alarm on any non-zero sum over 5 minutes; no data means nothing happened.
    counts: dict[str, tuple[cloudwatch.IMetric, str]] = {
        "Errors": (
            function.metric_errors(period=five_minutes, statistic="Sum"),
            "The function failed (an exception, a timeout or out of memory), not a record: Lambda retries "
            "the batch. Look for ERROR lines in the function's log group.",
        ),
        "Throttles": (
            function.metric_throttles(period=five_minutes, statistic="Sum"),
            "Invocations were throttled: the account's or the function's concurrency is exhausted, and the "
            "stream lags meanwhile.",
        ),
        "RecordsParked": (
            mapping_metric(mapping, PARKED_METRIC, five_minutes),
            "Records were given up on after their retries and parked in the failure destination. List, show "
            "and replay them with python -m table_stream_logger (README: When RecordsParked fires).",
        ),
        "RecordsDropped": (
            mapping_metric(mapping, DROPPED_METRIC, five_minutes),
            "Records were dropped without reaching the failure destination (delivery to it failed): they are "
            "lost unless replayed from the stream within its 24 hours.",
        ),
    }
    alarms = {
        "IteratorAge": cloudwatch.Alarm(
            scope,
            "IteratorAgeAlarm",
            alarm_description=f"The stream lags: records waited over {iterator_age_threshold.to_human_string()} "
            "before reaching the function, in 3 of the last 5 minutes. Look at Errors and Throttles.",
            metric=function.metric("IteratorAge", period=Duration.minutes(1), statistic="Maximum"),
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
            scope,
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


def mapping_metric(mapping: lambda_.IEventSourceMapping, name: str, period: Duration) -> cloudwatch.Metric:
    """A metric of the mapping's EventCount group, summed over ``period``."""
    return cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name=name,
        dimensions_map={ESM_DIMENSION: mapping.event_source_mapping_id},
        statistic="Sum",
        period=period,
    )


def build_dashboard(
    scope: Construct,
    function: lambda_.Function,
    mapping: lambda_.IEventSourceMapping,
    *,
    metrics_namespace: str,
    service_name: str,
    iterator_age_threshold: Duration,
) -> cloudwatch.Dashboard:
    """The logger's dashboard, as child ``Dashboard`` of ``scope``: the stream's lag, the function's
    errors and throttles, the handler's metrics (``HANDLER_METRICS``) and the lost records."""
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
                left=[function.metric("IteratorAge", period=minute, statistic="Maximum")],
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
                    function.metric_errors(period=minute, statistic="Sum"),
                    function.metric_throttles(period=minute, statistic="Sum"),
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
                    mapping_metric(mapping, PARKED_METRIC, minute),
                    mapping_metric(mapping, DROPPED_METRIC, minute),
                ],
                width=12,
            ),
        ],
    ]
    # No dashboard_name: CloudFormation generates one, so two stacks never collide.
    return cloudwatch.Dashboard(scope, "Dashboard", widgets=rows)
