"""The command's AWS side: clients from the standard credential chain, and AWS errors in one line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from .errors import Missing, RedriveError

ACCESS_DENIED = "access denied"


def boto3_clients(arguments: argparse.Namespace) -> Callable[[str], Any]:
    try:
        import boto3
    except ModuleNotFoundError:
        raise Missing("this command needs boto3: pip install 'table-stream-logger[redrive]'") from None
    # AWS_REGION as the other AWS SDKs and Lambda read it; boto3 itself reads AWS_DEFAULT_REGION.
    region = arguments.region or os.environ.get("AWS_REGION") or None
    session = boto3.session.Session(profile_name=arguments.profile, region_name=region)
    if session.region_name is None:
        raise RedriveError("no AWS region: give --region, or set AWS_REGION or a region in your AWS configuration")
    made: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in made:
            made[name] = session.client(name, endpoint_url=arguments.endpoint_url)
        return made[name]

    return client


def refused_request(error: Exception) -> bool:
    """Whether an AWS service answered the request with an error (so did not perform it)."""
    try:
        from botocore.exceptions import ClientError
    except ModuleNotFoundError:
        return False
    return isinstance(error, ClientError)


def aws_error(error: Exception) -> str | None:
    """One line for an AWS error a user can cause (credentials, access, names); None for a bug."""
    try:
        from botocore import exceptions
    except ModuleNotFoundError:
        return None
    if isinstance(error, exceptions.NoCredentialsError):
        return "no AWS credentials found: sign in (aws sso login, aws configure) or give --profile"
    if isinstance(error, exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        operation = error.operation_name
        message = error.response.get("Error", {}).get("Message", "") or code
        if code in ("AccessDenied", "AccessDeniedException", "403", "UnauthorizedOperation"):
            return f"{ACCESS_DENIED} ({operation}): {message}"
        if code == "NoSuchBucket":
            return f"no such bucket: {error.response.get('Error', {}).get('BucketName', message)}"
        return f"{operation} failed: {code}: {message}"
    if isinstance(error, exceptions.BotoCoreError):
        return " ".join(str(error).split())  # some span lines
    return None
