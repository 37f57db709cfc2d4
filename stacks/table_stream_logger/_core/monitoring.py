"""Alarms on a stream consumer: the stream's lag, the function's errors and throttles, lost records.

Shared by ``TableStreamLogger`` and ``ChangeAlerts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# The event source mapping's own metrics (group EventCount) live in AWS/Lambda under this
# dimension; see "Event source mapping metrics" in the Lambda developer guide.
ESM_DIMENSION = "EventSourceMappingUUID"
PARKED_METRIC = "OnFailureDestinationDeliveredEventCount"
DROPPED_METRIC = "DroppedEventCount"


def build_alarms(
    scope: Construct,
    function: lambda_.IFunction,
    mapping: lambda_.IEventSourceMapping,
    props: AlarmProps,
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


@dataclass(frozen=True)
class AlarmProps:
    """The constructs' ``alarms``, ``iterator_age_threshold`` and ``alarm_action`` props, checked when made."""

    alarms: bool
    iterator_age_threshold: Duration
    alarm_action: cloudwatch.IAlarmAction | None

    def __post_init__(self) -> None:
        if self.iterator_age_threshold.to_milliseconds() <= 0:
            raise ValueError(
                f"iterator_age_threshold must be positive, got {self.iterator_age_threshold.to_human_string()}"
            )
        if self.alarm_action is not None and not self.alarms:
            raise ValueError("alarm_action was given with alarms=False: there would be no alarm to act on.")
