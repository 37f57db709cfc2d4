"""What a deployed stack says about its parked batches, read from its resources alone.

Each event source mapping of the stack (``AWS::Lambda::EventSourceMapping``; every
TableStreamLogger and ChangeAlerts builds one) names its function and on-failure destination, each
function's configuration its log group and handler, and an archive is the stack's Athena workgroup
and Glue database (history_athena.py). The app's stack and a library user's are found the same
way: the command reads none of the app's outputs (stacks/inventory_stack.py keeps them for people
and scripts).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .aws import ACCESS_DENIED, aws_error
from .errors import RedriveError
from .failure_records import function_name_of

MAPPING_TYPE = "AWS::Lambda::EventSourceMapping"


@dataclass(frozen=True)
class Reader:
    """A deployed function that parks batches in the destination, and its configuration."""

    name: str
    # Its environment: REDACT_ATTRIBUTES, KEY_ATTRIBUTES, ...
    environment: dict[str, str]
    log_group: str
    # Its handler, e.g. stream_logger.handler (the logger's) or change_alerts.handler.
    handler: str


@dataclass(frozen=True)
class Mapping:
    """An event source mapping of a stack that parks batches: its function and on-failure destination."""

    function_name: str
    destination_arn: str

    @property
    def bucket(self) -> str | None:
        _, found, name = self.destination_arn.partition(":s3:::")  # arn:<partition>:s3:::<name>
        return name if found else None

    @property
    def queue(self) -> tuple[str, str] | None:
        """(account, name) of an SQS destination."""
        parts = self.destination_arn.split(":")
        return (parts[4], parts[5]) if len(parts) == 6 and parts[2] == "sqs" else None

    def shown(self) -> str:
        destination = f"bucket {self.bucket}" if self.bucket else f"queue {self.destination_arn}"
        return f"{destination} ({self.function_name})"


def stack_resources(cloudformation: Any, stack_name: str) -> list[dict[str, Any]]:
    """The stack's resources as ListStackResources gives them, or one line saying there is no such stack."""
    try:
        return [
            resource
            for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
            for resource in page["StackResourceSummaries"]
        ]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            raise RedriveError(f"no stack named {stack_name} in {cloudformation.meta.region_name}") from None
        raise


def physical_ids(resources: list[dict[str, Any]], resource_type: str) -> list[str]:
    """The physical IDs of the stack's resources of a type, in the stack's order."""
    return [
        resource["PhysicalResourceId"]
        for resource in resources
        if resource["ResourceType"] == resource_type and resource.get("PhysicalResourceId")
    ]


def stack_mappings(
    client: Callable[[str], Any], resources: list[dict[str, Any]]
) -> tuple[list[Mapping], dict[str, str]]:
    """The stack's event source mappings that have an on-failure destination, as Lambda has them,
    and the mappings the caller may not read, with why, by UUID.

    A mapping's ``DestinationConfig`` names the bucket or queue and its ``FunctionArn`` the
    function. ``grant_redrive`` (and ``grant_status``) give ``lambda:GetEventSourceMapping`` on
    the construct's own mapping only: an operator granted one reader's finds that one, and the
    others are told apart (when the caller may read none, that is the one line).
    """
    ids = physical_ids(resources, MAPPING_TYPE)
    mappings: list[Mapping] = []
    hidden: dict[str, str] = {}
    for mapping_id in ids:
        try:
            mapping = client("lambda").get_event_source_mapping(UUID=mapping_id)
        except Exception as error:
            message = aws_error(error)
            if message is None or not message.startswith(ACCESS_DENIED):
                raise
            hidden[mapping_id] = message
            continue
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            mappings.append(Mapping(function_name_of(mapping["FunctionArn"]), destination))
    if hidden and len(hidden) == len(ids):
        raise RedriveError(next(iter(hidden.values())))
    return mappings, hidden


def mapped_destination(
    arguments: argparse.Namespace, client: Callable[[str], Any], mappings: list[Mapping]
) -> tuple[str | None, str | None, list[str]]:
    """The failure destination of a stack's mappings, its bucket or its queue's URL, and the
    functions that park there.

    ``--bucket`` or ``--queue-url`` chooses among several destinations (a stack with several
    loggers); where the command cannot tell which, it says what to give, in one line.
    """
    stack = arguments.stack_name
    given = arguments.bucket or arguments.queue_url
    if arguments.bucket:
        mappings = [mapping for mapping in mappings if mapping.bucket == arguments.bucket]
    elif arguments.queue_url:
        name = arguments.queue_url.rstrip("/").rsplit("/", 1)[-1]
        mappings = [mapping for mapping in mappings if mapping.queue is not None and mapping.queue[1] == name]
    destinations = sorted({mapping.destination_arn for mapping in mappings})
    if not destinations and given:
        raise RedriveError(
            f"the stack {stack} has no event source mapping with the on-failure destination {given}: "
            "give it with --function-name, without --stack-name"
        )
    if not destinations:
        raise RedriveError(
            f"the stack {stack} has no event source mapping with an on-failure destination: "
            "give --bucket or --queue-url, and --function-name"
        )
    if len(destinations) > 1:
        choices = ", ".join(mapping.shown() for mapping in mappings)
        raise RedriveError(
            f"the stack {stack} has {len(destinations)} failure destinations: {choices}; choose one with "
            "--bucket or --queue-url"
        )
    functions = list(dict.fromkeys(mapping.function_name for mapping in mappings))
    first = mappings[0]
    if first.bucket is not None:
        return first.bucket, None, functions
    if first.queue is not None:
        account, name = first.queue
        sqs = client("sqs")
        url = arguments.queue_url or sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return None, str(url), functions
    raise RedriveError(f"the stack {stack}'s failure destination {first.destination_arn} is not S3 or SQS")


def read_configuration(lambda_client: Any, name: str) -> Reader:
    """A deployed function's name (as its ARN says, the way a failure record names it) and configuration."""
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    return Reader(
        name=function_name_of(configuration.get("FunctionArn", name)),
        environment=configuration.get("Environment", {}).get("Variables", {}),
        log_group=configuration.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}",
        handler=configuration.get("Handler", ""),
    )


def read_configurations(lambda_client: Any, names: list[str]) -> tuple[dict[str, Reader], dict[str, str]]:
    """Each named function's configuration, and the ones the caller may not read, with why.

    An operator granted one reader's redrive (or the logger's history) reads that function only:
    the others are told apart. One function named, or none readable, is the one line of its error.
    """
    readers: dict[str, Reader] = {}
    denied: dict[str, str] = {}
    for name in names:
        try:
            reader = read_configuration(lambda_client, name)
        except Exception as error:
            message = aws_error(error)
            if len(names) == 1 or message is None or not message.startswith(ACCESS_DENIED):
                raise
            denied[name] = message
            continue
        readers[reader.name] = reader
    if not readers:  # every configuration denied: say so for the first
        raise RedriveError(next(iter(denied.values())))
    return readers, denied
