"""The key policy that lets CloudWatch Logs encrypt one log group with a customer-managed key."""

from __future__ import annotations

from aws_cdk import Annotations, ArnFormat, CfnResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from .iam_actions import LOGS_KEY_ACTIONS


def log_group_arn_pattern(log_group: logs.LogGroup) -> str:
    """The ARN of the log group, with its name as CloudFormation generates it: ``<stack>-<logical ID>-<suffix>``.

    Built from parts, not from the group's ``Arn`` attribute: the log group refers to the key
    (``KmsKeyId``), so a key policy that referred to the log group would be a circular dependency.
    The random suffix is the only unknown; the pattern also covers a group that an earlier
    deployment of the stack retained, whose lines are encrypted with the same key.
    """
    stack = Stack.of(log_group)
    resource = log_group.node.default_child
    assert isinstance(resource, CfnResource)
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{stack.stack_name}-{resource.logical_id}-*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def allow_logs_to_use_key(log_group: logs.LogGroup, key: kms.IKey) -> None:
    """Let CloudWatch Logs of the stack's region use the key, for this log group only.

    The function's role needs no KMS permission: CloudWatch Logs encrypts what it receives with
    its own (service principal's) access to the key. The key policy of an imported key cannot be
    changed from here: a warning says what to add.
    """
    stack = Stack.of(log_group)
    statement = iam.PolicyStatement(
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=list(LOGS_KEY_ACTIONS),
        # In a key policy, "*" is the key itself.
        resources=["*"],
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arn_pattern(log_group)}},
    )
    if not key.add_to_resource_policy(statement, allow_no_op=True).statement_added:
        Annotations.of(log_group).add_warning_v2(
            "table-stream-logger:log-key-policy",
            "log_encryption_key is an imported key, whose key policy CDK cannot change: it must let the "
            "service principal logs.<region>.amazonaws.com use the key for this log group, or the stack fails "
            "to create the group (README: Encrypting the log group).",
        )
