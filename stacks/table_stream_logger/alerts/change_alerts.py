"""A construct that publishes an SNS notification when a change of a DynamoDB table matches a rule."""

from __future__ import annotations

import json
from collections.abc import Sequence

import jsii
from aws_cdk import Duration, IStableStringProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import iam_actions as actions
from .._core.failure_destinations import FailureDestinationProps, FailureDestinationType
from .._core.log_levels import LogLevel
from .._core.monitoring import AlarmProps
from .._core.stream_consumer import (
    FunctionLimits,
    FunctionProps,
    StreamConsumer,
    StreamReading,
    check_function_props,
    handler_code,
    handler_environment,
    json_list,
)
from .._core.tables import IMAGES_DELIVERED, check_stream_view_type, existing_key_names, require_stream
from .rules import AlertRule, check_rules

#: The alerts handler, in the package's handler asset.
ALERTS_HANDLER = "change_alerts.handler"
# SNS's own key: encrypted at rest, and a publisher of the account needs no KMS permission.
SNS_MANAGED_KEY = "alias/aws/sns"


class ChangeAlerts(StreamConsumer):
    """Publishes an SNS notification when a change of a DynamoDB table matches one of its rules.

    The tutorial's use case: tell people the moment a chair is back in stock. It reads the
    table's stream with a function and an event source mapping of its own, whose filter lets
    through only the records a rule may fire for (see ``RisesAbove``, ``FallsToOrBelow``,
    ``Becomes``, ``Expires``); the function compares the values exactly and publishes one
    message per rule that fires: a subject such as ``Back in stock: FURNITURE /
    CHAIR#ERGONOMIC``, a JSON body (rule, summary ``Stocks 0 → 5``, keys, old and new value,
    event id, sequence number, time; with ``include_image`` the item's image, redacted as
    configured) and the message
    attributes ``rule``, ``table`` and ``event_name`` for subscription filter policies.

    Delivery is at least once: a batch that Lambda retries may publish a message again.
    Subscribers drop duplicates by the body's ``event_id`` (with its ``rule``).

    A second reader of the stream. DynamoDB advises at most two readers per shard, and a
    ``TableStreamLogger`` on the same table is the other: a third consumer would be throttled.
    It is separate from the logger's function on purpose: its failures (a publish that fails)
    retry its own batches, never the logger's, so the log gets no duplicate lines and the
    alerts no duplicate messages from each other's retries; it runs with ``sns:Publish`` that
    the logger never needs, and the filter keeps its invocations to the few candidate changes.

    :param table: The table to watch, with a stream (an imported table with its stream ARN).
    :param rules: One to five rules; each is one pattern of the mapping's event filter.
    :param stream_view_type: The view type of an imported table's stream, which CDK cannot
        read; when given it is checked against the rules. Default: none (not checked).
    :param topic: The SNS topic to publish to. Default: none, the construct builds one,
        encrypted with SNS's own key (``alias/aws/sns``) and refusing requests without TLS.
        A given topic with a customer-managed key gets the function ``kms:Decrypt`` and
        ``kms:GenerateDataKey`` on that key.
    :param redact: Attribute names or dotted paths whose values never appear in a message
        (in the keys, the old and new value and the image); rules still compare the real
        values. Default: none. Whatever it says, the alerts also redact what every
        ``TableStreamLogger`` of the app on the same table redacts (its ``redact``, read at
        synthesis, whichever is built first): a notification never carries more of an item
        than the log may.
    :param include_image: Put the item's image in each message (the new image, or an expired
        item's last one), redacted as ``redact`` says. Default: ``False``: a message carries the
        keys, the rule and the attribute's old and new value only, so a subscriber (an e-mail
        inbox) never receives the rest of the item unless you ask for it.
    :param service_name: ``POWERTOOLS_SERVICE_NAME`` of the function's log lines. Default:
        ``"change-alerts"``.
    :param log_level: DEBUG or INFO (a line per message published), WARN or ERROR (only records
        that fail). Default: ``"INFO"``. The handler applies it itself; Lambda's own log-level
        filter is kept at INFO (DEBUG for DEBUG), as for the logger.
    :param log_retention: Retention of the function's log group. Default: one month.
    :param log_encryption_key: A customer-managed KMS key for the function's log group, which
        holds the notifications' item data at DEBUG and the ERROR lines; as for the logger. Default:
        none, CloudWatch Logs' own keys.
    :param memory_size: Memory of the function in MB. Default: 256.
    :param timeout: Timeout of the function. Default: 30 seconds.
    :param powertools_layer: Default: the public Powertools layer, as for ``TableStreamLogger``.
    :param reading: How the mapping reads the stream and retries. Default: ``StreamReading()``,
        the same defaults as the logger's (batches of 100, 1 second window, ``TRIM_HORIZON``,
        10 retries, 6 hours, bisect on error, one batch per shard at a time, in order).
    :param failure_destination: An S3 bucket or SQS queue for the batches given up on, e.g.
        the logger's ``failure_destination``. Default: none, the construct builds one.
    :param failure_destination_type: ``"S3"`` or ``"SQS"``. Default: ``"S3"``.
    :param failure_retention: Default: 30 days for a bucket, 14 days for a queue.
    :param failure_removal_policy: Default: ``RemovalPolicy.RETAIN``.
    :param failure_encryption_key: A customer-managed KMS key for the built bucket (SSE-KMS, with
        an S3 bucket key) or queue: a parked batch holds its records' items, unredacted. The
        function's role gets what Lambda needs to write with it. Default: none, S3- or
        SQS-managed encryption. Not with ``failure_destination`` (encrypt your own).
    :param alarms: Create the alarms (stream lag, errors, throttles, parked and dropped
        records), as for the logger. Default: ``True``.
    :param iterator_age_threshold: Default: 60 seconds.
    :param alarm_action: Added to every alarm for ALARM and OK. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        rules: Sequence[AlertRule],
        stream_view_type: dynamodb.StreamViewType | None = None,
        topic: sns.ITopic | None = None,
        redact: Sequence[str] = (),
        include_image: bool = False,
        service_name: str = "change-alerts",
        log_level: LogLevel = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_encryption_key: kms.IKey | None = None,
        memory_size: int = 256,
        timeout: Duration | None = None,
        powertools_layer: lambda_.ILayerVersion | None = None,
        reading: StreamReading | None = None,
        failure_destination: s3.IBucket | sqs.IQueue | None = None,
        failure_destination_type: FailureDestinationType | None = None,
        failure_retention: Duration | None = None,
        failure_removal_policy: RemovalPolicy | None = None,
        failure_encryption_key: kms.IKey | None = None,
        alarms: bool = True,
        iterator_age_threshold: Duration | None = None,
        alarm_action: cloudwatch.IAlarmAction | None = None,
    ) -> None:
        """Build the alerts; every argument, with its default, is described above (``help(ChangeAlerts)``)."""
        # Defaults that are objects are set here, so that help() shows None rather than an object's address.
        timeout = timeout or Duration.seconds(30)
        iterator_age_threshold = iterator_age_threshold or Duration.seconds(60)
        # Every check before anything is built: one clear error at synth.
        if table is None:
            raise ValueError("ChangeAlerts needs the table to watch: table=... (with a stream).")
        require_stream(table)
        alert_rules = check_rules(rules)
        if log_encryption_key is not None and not hasattr(log_encryption_key, "key_arn"):
            raise ValueError(
                "log_encryption_key must be a KMS key (kms.Key(...) or kms.Key.from_key_arn(...)), "
                f"got {log_encryption_key!r}"
            )
        check_function_props(log_level, redact)
        _check_images(check_stream_view_type(table, stream_view_type), alert_rules, table.node.path)
        failure = FailureDestinationProps(
            failure_destination,
            failure_destination_type,
            failure_retention,
            failure_removal_policy,
            failure_encryption_key,
        )
        alarm_props = AlarmProps(alarms, iterator_age_threshold, alarm_action)

        super().__init__(scope, construct_id)
        self._table = table
        self._rules = alert_rules
        self._topic = topic or _build_topic(self)
        environment = handler_environment(
            service_name,
            log_level,
            redact,
            existing_key_names(table),
            ALERT_RULES=json.dumps([rule.config() for rule in alert_rules], separators=(",", ":")),
            TOPIC_ARN=self._topic.topic_arn,
            **({"INCLUDE_IMAGE": "true"} if include_image else {}),
        )
        environment["REDACT_ATTRIBUTES"] = Lazy.string(_InheritedRedaction(self, table, redact))
        self._read_stream(
            table,
            FunctionProps(
                description="Publishes an SNS notification when a change of a DynamoDB table matches a rule",
                role_description="Reads the table's stream, publishes to the alerts topic, writes its log group",
                code=handler_code("change_alerts.py"),
                handler=ALERTS_HANDLER,
                environment=environment,
                limits=FunctionLimits(log_level, log_retention, memory_size, timeout, powertools_layer),
                log_encryption_key=log_encryption_key,
            ),
            reading or StreamReading(),
            failure,
            alarm_props,
            filters=[rule.to_filter() for rule in alert_rules],
            grants=self._grant_publish,
        )

    def _grant_publish(self, role: iam.Role) -> None:
        """``sns:Publish`` on the topic only, and its key's use if it is a customer-managed one:
        the two KMS actions SNS makes for a publisher, where ``grant_publish()`` would give
        ``kms:GenerateDataKey*`` (every variant of it)."""
        role.add_to_policy(iam.PolicyStatement(actions=[actions.SNS_PUBLISH], resources=[self._topic.topic_arn]))
        if self._topic.master_key is not None:
            self._topic.master_key.grant(role, actions.KMS_DECRYPT, actions.KMS_GENERATE_DATA_KEY)

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        """The rules, in the order they are evaluated."""
        return self._rules

    @property
    def topic(self) -> sns.ITopic:
        """The topic the notifications are published to, built or given."""
        return self._topic

    @property
    def log_group(self) -> logs.LogGroup:
        """The function's log group: a line per message published, an ERROR line per failed record."""
        return self._log_group


@jsii.implements(IStableStringProducer)
class _InheritedRedaction:
    """The alerts' REDACT_ATTRIBUTES: their own paths, then those of every logger of the app on the
    same table. Produced at synthesis, so that the order in which the two are built does not matter."""

    def __init__(self, alerts: Construct, table: dynamodb.ITable, own: Sequence[str]) -> None:
        self._alerts, self._table, self._own = alerts, table, tuple(own)

    def produce(self) -> str:
        from ..logger import TableStreamLogger  # it imports this module's siblings

        paths = list(self._own)
        for construct in self._alerts.node.root.node.find_all():
            if isinstance(construct, TableStreamLogger) and _same_table(construct.table, self._table):
                paths += [path for path in construct.redact if path not in paths]
        return json_list(paths)


def _same_table(one: dynamodb.ITable, other: dynamodb.ITable) -> bool:
    """The same object, or the same ARN (a table imported by its ARN, or in another stack)."""
    if one is other:
        return True
    resolve = Stack.of(one).resolve
    return bool(resolve(one.table_arn) == resolve(other.table_arn))


def _build_topic(scope: Construct) -> sns.Topic:
    topic = sns.Topic(scope, "Topic", display_name="Change alerts", enforce_ssl=True)
    # SNS's own key, named on the resource rather than given as master_key: through master_key,
    # grant_publish() would add kms:Decrypt and kms:GenerateDataKey* on every key of the account
    # that has the alias, which a publisher of the account does not need, as the key's policy
    # lets SNS use it for them.
    resource = topic.node.default_child
    assert isinstance(resource, sns.CfnTopic)
    resource.kms_master_key_id = SNS_MANAGED_KEY
    return topic


def _check_images(view_type: str | None, rules: Sequence[AlertRule], table_path: str) -> None:
    """Check that the stream delivers the images every rule reads."""
    if view_type is None or view_type not in IMAGES_DELIVERED:
        return
    delivered = IMAGES_DELIVERED[view_type]
    for rule in rules:
        if not rule.images_needed <= delivered:
            raise ValueError(
                f"The rule {rule.rule_name!r} ({type(rule).__name__}) compares the old and the new value of each "
                f"change, but the stream of {table_path} is {view_type}. Give the table a NEW_AND_OLD_IMAGES stream "
                "(changing a stream's view type gives the table a new stream, with a new ARN); an Expires rule "
                "works with any stream."
            )
