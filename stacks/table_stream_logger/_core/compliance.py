"""What the construct tells template scanners about the checks its resources fail by design.

checkov reads the synthesized template itself, and skips a check on a resource whose
``Metadata`` says so: ``{"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "<reason>"}]}}``
(checkov's ``cloudformation/context_parser.py``). The construct writes those skips here, in one
place, each on the one resource it concerns and only while it applies: the prop that passes the
check (``encryption_key``, ``log_encryption_key``, ``reserved_concurrent_executions``) removes
its skip. cdk-nag's acknowledgements go through CDK's Validations API instead (construct.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnResource
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

if TYPE_CHECKING:
    from ..archive.change_archive import ChangeArchive

# The failure bucket's access logs: cdk-nag's AwsSolutions-S1 and checkov's CKV_AWS_18 are the
# same finding, with the same reason.
ACCESS_LOGS_REASON = (
    "Lambda is the only writer of this bucket, on the function role's behalf, and the mapping's "
    "OnFailureDestinationDeliveredEventCount metric counts its deliveries (alarmed on by default). Server "
    "access logs would need a second bucket, itself without access logs; audit reads with CloudTrail."
)

# The archive bucket's access logs: cdk-nag's AwsSolutions-S1 and checkov's CKV_AWS_18 again.
ARCHIVE_ACCESS_LOGS_REASON = (
    "Firehose is the only writer of this bucket, under its own role, and CloudTrail records its API calls. "
    "Server access logs would need a second bucket, itself without access logs."
)
DELIVERY_LOG_REASON = (
    "Firehose's own error log for the archive: delivery errors (codes and messages), never a change line, kept "
    "a month. Encrypted at rest by CloudWatch Logs itself, its default."
)
TABLE_KEY_REASON = (
    "Encrypted at rest with an AWS owned key, DynamoDB's default: no key policy to manage and no KMS charge. "
    "Give TableStreamLogger encryption_key=... for a customer-managed key; this skip then goes away."
)
LOG_KEY_REASON = (
    "Encrypted at rest by CloudWatch Logs itself (AES-256-GCM with service keys), its default. TableStreamLogger "
    "takes log_encryption_key=... for a customer-managed key; this skip then goes away."
)
FUNCTION_REASONS = {
    "CKV_AWS_116": "A function dead-letter queue serves asynchronous invocations only. This function is "
    "invoked synchronously, by the stream's event source mapping alone, whose on-failure destination keeps "
    "every batch given up on.",
    "CKV_AWS_117": "The function reaches AWS service endpoints only, no resource inside a VPC. A VPC would add "
    "network interfaces and a NAT gateway or VPC endpoints to pay for and keep, and protect nothing.",
    "CKV_AWS_173": "The environment holds settings and names only (service, log level and modes, metrics "
    "namespace, the construct's own bucket or topic, key and redacted attributes), no secret; Lambda encrypts it "
    "at rest with an AWS managed key anyway.",
}
CONCURRENCY_REASON = (
    "A stream consumer's concurrency is bounded already: one invocation per shard times parallelization_factor "
    "(default 1). Reserving concurrency takes it from the account's pool; give reserved_concurrent_executions=... "
    "to reserve (and cap) it; this skip then goes away."
)
QUEUE_REASON = (
    "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which this check does not see: it looks for "
    "a KMS key only. The queue holds failure records, a batch's position in the stream, no item data."
)


def skip_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    """Skip a checkov check on a resource (or a construct's default resource), with its reason."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(resource, CfnResource), construct.node.path
    metadata = resource.get_metadata("checkov") or {}
    skips = [*metadata.get("skip", []), {"id": check_id, "comment": reason}]
    resource.add_metadata("checkov", {**metadata, "skip": skips})


def skip_checkov_findings(
    owner: Construct,
    *,
    table: dynamodb.ITable,
    log_group: logs.LogGroup,
    function: lambda_.Function,
    failure_destination: s3.IBucket | sqs.IQueue,
) -> None:
    """Skip what a stream consumer's own resources fail by design; resources given by the user are theirs."""
    if table.node.scope is owner and table.encryption_key is None:
        skip_checkov(table, "CKV_AWS_119", TABLE_KEY_REASON)
    cfn_log_group = log_group.node.default_child
    assert isinstance(cfn_log_group, logs.CfnLogGroup)
    if cfn_log_group.kms_key_id is None:
        skip_checkov(log_group, "CKV_AWS_158", LOG_KEY_REASON)
    for check_id, reason in FUNCTION_REASONS.items():
        skip_checkov(function, check_id, reason)
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction)
    if cfn_function.reserved_concurrent_executions is None:
        skip_checkov(function, "CKV_AWS_115", CONCURRENCY_REASON)
    if failure_destination.node.scope is owner:
        if isinstance(failure_destination, s3.Bucket):
            skip_checkov(failure_destination, "CKV_AWS_18", ACCESS_LOGS_REASON)
        elif isinstance(failure_destination, sqs.Queue):
            skip_checkov(failure_destination, "CKV_AWS_27", QUEUE_REASON)


def skip_archive_findings(archive: ChangeArchive) -> None:
    """Skip what the change archive's resources fail by design."""
    skip_checkov(archive.bucket, "CKV_AWS_18", ARCHIVE_ACCESS_LOGS_REASON)
    skip_checkov(archive.delivery_log_group, "CKV_AWS_158", DELIVERY_LOG_REASON)
