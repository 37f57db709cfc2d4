"""The one kind of bucket the construct builds: private, encrypted, SSL-only and versioned."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    lifecycle_rules: Sequence[s3.LifecycleRule],
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None = None,
) -> s3.Bucket:
    """A bucket for data only AWS services write: the failure destination, the change archive.

    Encrypted with S3-managed keys (no KMS key to grant or pay for), or with ``encryption_key``
    (SSE-KMS with an S3 bucket key, which cuts the KMS requests), no public access, plain HTTP
    refused, ACLs disabled, no fixed name. Versioning keeps an object that someone overwrites or
    deletes by mistake until the lifecycle (``lifecycle_rules``, then the removal of leftover
    delete markers) removes the old version.
    """
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=encryption_key,
        bucket_key_enabled=True if encryption_key else None,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            *lifecycle_rules,
            # S3 refuses this flag in a rule that also expires by age, hence a rule of its own.
            s3.LifecycleRule(id="RemoveExpiredDeleteMarkers", expired_object_delete_marker=True),
        ],
        removal_policy=removal_policy,
    )
