"""Before `cdk bootstrap/diff/deploy/destroy`: stop with one hint when no AWS credentials or region are set.

Without them the CDK CLI prints "Unable to resolve AWS account to use" twice, after
synthesizing, and says nothing of how to give them. This looks where the CLI looks (the
environment, the shared config and credentials files, SSO, container and instance roles),
through boto3, with the ``--profile`` of the cdk arguments if there is one, and the region as
the CLI reads it (AWS_REGION first, which boto3 alone ignores). It makes no call
to AWS, so expired credentials are still the CLI's to report.

Usage: python tools/check_aws.py [cdk arguments...]
"""

from __future__ import annotations

import argparse
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError

HOW = (
    "set AWS_PROFILE (a profile of ~/.aws/config, e.g. after `aws configure` or `aws sso login`) or pass "
    'CDK_ARGS="--profile NAME"; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
)


def problem(cdk_arguments: list[str]) -> str | None:
    """What is missing, as one line; None when credentials and a region are found."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--profile")
    profile = parser.parse_known_args(cdk_arguments)[0].profile
    try:
        session = boto3.Session(profile_name=profile)
        credentials = session.get_credentials()
    except BotoCoreError as error:
        return f"AWS credentials could not be read: {error}. To fix: {HOW}."
    region_name = cli_region(session)
    region = "set AWS_REGION (e.g. AWS_REGION=eu-west-1) or a region in your AWS profile"
    if credentials is None:
        also = "" if region_name else f", and {region}"
        return f"No AWS credentials found. To give them, {HOW}{also}."
    if not region_name:
        return f"No AWS region set: {region}."
    return None


def cli_region(session: boto3.Session) -> str | None:
    """The region the CDK CLI uses: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's.

    boto3 alone reads AWS_DEFAULT_REGION and the profile but not AWS_REGION, which the CLI
    (the AWS SDK for JavaScript) reads first.
    """
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    region: str | None = session.region_name
    return region


if __name__ == "__main__":
    message = problem(sys.argv[1:])
    if message:
        sys.exit(message)
