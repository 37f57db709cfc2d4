"""A construct that publishes an SNS notification when a change of a DynamoDB table matches a rule."""

from __future__ import annotations

import json
from collections.abc import Sequence

import jsii
from aws_cdk import IStableStringProducer, Lazy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._core import iam_actions as actions
from .._core.checks import check_options, check_redact
from .._core.function import FunctionProps, handler_environment, json_list
from .._core.stream_consumer import StreamConsumer, handler_code
from .._core.tables import IMAGES_DELIVERED, check_stream_view_type, existing_key_names, require_stream
from ..options import FailureOptions, FunctionOptions, LogOptions, Monitoring, StreamReading
from .rules import AlertRule, check_rules

#: The alerts handler, in the package's handler asset.
ALERTS_HANDLER = "change_alerts.handler"
SERVICE_NAME = "change-alerts"
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

    Each option is documented on its field, in ``options.py``:

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
    :param log: The log lines' service (default ``"change-alerts"``) and level, the log group
        (``LogOptions``). Default: ``LogOptions()``.
    :param function: The function's memory, timeout, concurrency, layer (``FunctionOptions``).
    :param reading: How the mapping reads the stream and retries (``StreamReading``), with the
        same defaults as the logger's.
    :param failure: Where a batch given up on is parked (``FailureOptions``), e.g.
        ``FailureOptions(destination=logger.failure_destination)``. Default: a bucket of its own.
    :param monitoring: The alarms (``Monitoring``), as for the logger. Default: ``Monitoring()``.
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
        log: LogOptions | None = None,
        function: FunctionOptions | None = None,
        reading: StreamReading | None = None,
        failure: FailureOptions | None = None,
        monitoring: Monitoring | None = None,
    ) -> None:
        """Build the alerts; each argument is described above, each option on its field."""
        # Every check before anything is built: one clear error at synth.
        if table is None:
            raise ValueError("ChangeAlerts needs the table to watch: table=... (with a stream).")
        check_options(
            log=(log, LogOptions),
            function=(function, FunctionOptions),
            reading=(reading, StreamReading),
            failure=(failure, FailureOptions),
            monitoring=(monitoring, Monitoring),
        )
        log = log or LogOptions()
        require_stream(table)
        alert_rules = check_rules(rules)
        check_redact(redact)
        _check_images(check_stream_view_type(table, stream_view_type), alert_rules, table.node.path)

        super().__init__(scope, construct_id)
        self._table = table
        self._rules = alert_rules
        self._topic = topic or _build_topic(self)
        environment = handler_environment(
            log.service_name or SERVICE_NAME,
            log.level,
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
                function=function or FunctionOptions(),
                log=log,
            ),
            reading or StreamReading(),
            failure or FailureOptions(),
            monitoring or Monitoring(),
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
