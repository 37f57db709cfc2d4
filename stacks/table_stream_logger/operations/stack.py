"""What a deployed stack says about its parked batches: its outputs, its event source mappings and
its functions' configurations.

The outputs named here are those of the app's stack (stacks/inventory_stack.py): where a stack
has them, they name the failure destination, the functions, the log group and the archive. Any
other stack that uses the constructs is read from its resources: each event source mapping names
its function and on-failure destination, and each function's configuration its log group.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import RedriveError
from .failure_records import function_name_of

FUNCTION_OUTPUT = "FunctionName"
# The stack's outputs that name a function parking batches in the failure destination: the
# logger's and, sharing its bucket in the InventoryStack, the alerts'.
READER_OUTPUTS = (FUNCTION_OUTPUT, "AlertsFunctionName")
BUCKET_OUTPUT = "FailureBucketName"
QUEUE_OUTPUT = "FailureQueueUrl"
LOG_GROUP_OUTPUT = "LogGroupName"
WORKGROUP_OUTPUT = "ArchiveWorkGroup"
DATABASE_OUTPUT = "ArchiveDatabaseName"


@dataclass(frozen=True)
class Reader:
    """A deployed function that parks batches in the destination, and its configuration."""

    name: str
    # Its environment: REDACT_ATTRIBUTES, KEY_ATTRIBUTES, ...
    environment: dict[str, str]
    log_group: str
    # Its handler, e.g. stream_logger.handler (the logger's) or change_alerts.handler.
    handler: str


def has_redrive_outputs(outputs: dict[str, str]) -> bool:
    """Whether a stack names its failure destination and function in outputs, as the app's does."""
    return bool(outputs.get(FUNCTION_OUTPUT)) and bool(outputs.get(BUCKET_OUTPUT) or outputs.get(QUEUE_OUTPUT))


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


def stack_mappings(client: Callable[[str], Any], stack_name: str) -> list[Mapping]:
    """The stack's event source mappings that have an on-failure destination, as Lambda has them.

    Every TableStreamLogger and ChangeAlerts builds one (``AWS::Lambda::EventSourceMapping``), whose
    ``DestinationConfig`` names the bucket or queue and whose ``FunctionArn`` the function: what
    the app's outputs say, found in any stack that uses the constructs, whatever its outputs.
    """
    mapping_ids: list[str] = []
    for page in client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name):
        mapping_ids += [
            resource["PhysicalResourceId"]
            for resource in page["StackResourceSummaries"]
            if resource["ResourceType"] == "AWS::Lambda::EventSourceMapping" and resource.get("PhysicalResourceId")
        ]
    mappings = []
    for mapping_id in mapping_ids:
        mapping = client("lambda").get_event_source_mapping(UUID=mapping_id)
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            mappings.append(Mapping(function_name_of(mapping["FunctionArn"]), destination))
    return mappings


def mapped_destination(
    arguments: argparse.Namespace, client: Callable[[str], Any], mappings: list[Mapping]
) -> tuple[dict[str, str], list[str]]:
    """The destination of a stack's mappings, as the app's outputs would name it, and their functions.

    ``--bucket`` or ``--queue-url`` chooses among several destinations (a stack with several
    loggers); where the command cannot tell which, it says what to give, in one line.
    """
    stack = arguments.stack_name
    if arguments.bucket:
        mappings = [mapping for mapping in mappings if mapping.bucket == arguments.bucket]
    elif arguments.queue_url:
        name = arguments.queue_url.rstrip("/").rsplit("/", 1)[-1]
        mappings = [mapping for mapping in mappings if mapping.queue is not None and mapping.queue[1] == name]
    destinations = sorted({mapping.destination_arn for mapping in mappings})
    explicit = "give --bucket or --queue-url, and --function-name"
    if not destinations:
        chosen = " to the destination given" if arguments.bucket or arguments.queue_url else ""
        raise RedriveError(
            f"the stack {stack} has no outputs {FUNCTION_OUTPUT} and {BUCKET_OUTPUT} (or {QUEUE_OUTPUT}), "
            f"nor an event source mapping with an on-failure destination{chosen}: {explicit}"
        )
    if len(destinations) > 1:
        choices = ", ".join(mapping.shown() for mapping in mappings)
        raise RedriveError(
            f"the stack {stack} has {len(destinations)} failure destinations: {choices}; choose one with "
            "--bucket or --queue-url"
        )
    functions = list(dict.fromkeys(mapping.function_name for mapping in mappings))
    found: dict[str, str] = {}
    first = mappings[0]
    if first.bucket is not None:
        found[BUCKET_OUTPUT] = first.bucket
    elif first.queue is not None:
        account, name = first.queue
        found[QUEUE_OUTPUT] = client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    else:
        raise RedriveError(f"the stack {stack}'s failure destination {first.destination_arn} is not S3 or SQS")
    return found, functions


def read_configuration(lambda_client: Any, name: str) -> Reader:
    """A deployed function's name (as its ARN says, the way a failure record names it) and configuration."""
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    return Reader(
        name=function_name_of(configuration.get("FunctionArn", name)),
        environment=configuration.get("Environment", {}).get("Variables", {}),
        log_group=configuration.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}",
        handler=configuration.get("Handler", ""),
    )


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            raise RedriveError(f"no stack named {stack_name} in {cloudformation.meta.region_name}") from None
        raise
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
