"""cdk-nag acknowledgements, recorded without depending on cdk-nag.

cdk-nag (AwsSolutions pack) reads acknowledgements through CDK's own Validations API, so the
constructs record them with ``Validations.of(...).acknowledge(...)``. "AwsSolutions::" is the
plugin's prefix: the finding then shows up as acknowledged, with its reason, in the validation
report.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

NAG = "AwsSolutions::AwsSolutions-"


def nag_resource(resolved: Any) -> str:
    """A resolved ARN as cdk-nag names it in a finding: ``<LogicalId.Arn>/*`` or the literal."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and set(resolved) == {"Fn::Join"}:
        separator, parts = resolved["Fn::Join"]
        return str(separator).join(nag_resource(part) for part in parts)
    if isinstance(resolved, dict) and set(resolved) == {"Fn::GetAtt"}:
        logical_id, attribute = resolved["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if isinstance(resolved, dict) and set(resolved) == {"Ref"}:
        return f"<{resolved['Ref']}>"
    return json.dumps(resolved, sort_keys=True)


def acknowledge_wildcard(role: iam.IRole, resource: str, reason: str) -> None:
    """Acknowledge cdk-nag's IAM5 finding on one wildcard resource of the role's default policy."""
    policy = role.node.find_child("DefaultPolicy").node.default_child
    assert policy is not None  # the role has a statement on that resource
    Validations.of(policy).acknowledge(
        Acknowledgment(id=f"{NAG}IAM5[Resource::{nag_resource(Stack.of(role).resolve(resource))}]", reason=reason)
    )


def acknowledge_grant_wildcard(grantee: iam.IGrantable, resource: str, reason: str) -> None:
    """Acknowledge IAM5 on one wildcard resource of what a grant added to ``grantee``'s policy.

    A role of the stack keeps its statements in ``DefaultPolicy``, an imported role in ``Policy``;
    a grantee whose policy is not in the app (a user, a service principal) has nothing to check.
    """
    # An imported role reaches Python as a bare IRole (an IConstruct): read its node, not its class.
    node = next(
        (getattr(each, "node", None) for each in (grantee, grantee.grant_principal) if hasattr(each, "node")), None
    )
    if node is None:
        return
    for policy in node.children:
        if isinstance(policy, iam.Policy) and policy.node.default_child is not None:
            Validations.of(policy.node.default_child).acknowledge(
                Acknowledgment(
                    id=f"{NAG}IAM5[Resource::{nag_resource(Stack.of(policy).resolve(resource))}]", reason=reason
                )
            )


def acknowledge_rule(resource: IConstruct | None, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag finding on an L1 resource, with its reason."""
    assert resource is not None
    Validations.of(resource).acknowledge(Acknowledgment(id=f"{NAG}{rule}", reason=reason))
