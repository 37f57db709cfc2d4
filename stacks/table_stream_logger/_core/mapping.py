"""The event source mapping from a table's stream to a consumer's function.

Shared by ``TableStreamLogger`` and ``ChangeAlerts`` (through ``StreamConsumer``): the mapping with
the reading options, its role policy's acknowledged findings, and the function's DependsOn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import jsii
from aws_cdk import CfnResource, IStableAnyProducer, Lazy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .checks import is_bucket
from .nag import acknowledge_wildcard
from .record_formats import PARKED_PREFIX

if TYPE_CHECKING:
    from ..options import StreamReading


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
