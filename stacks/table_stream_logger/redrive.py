"""``python -m table_stream_logger``: list, inspect and replay the batches Lambda parked.

When a record still fails after its retries, the event source mapping parks the part of the
batch that holds it in the failure destination and the ``RecordsParked`` alarm fires. This
command finds the destination from the stack's outputs (``FailureBucketName`` or
``FailureQueueUrl``, and the functions that park there: ``FunctionName``, and
``AlertsFunctionName`` where the alerts share the bucket, as in the InventoryStack); in any
other stack that uses the constructs, from its event source mappings (each names its
function and on-failure destination); or from explicit names, and

- ``list``: one row per parked batch, never a key or a value of an item;
- ``show KEY``: a batch's records by identity (event name and ID, sequence number, keys
  unless ``redact`` covers them) and why each failed, from the function's log;
- ``replay``: invokes the function that parked a batch (and only that one) with the batch,
  exactly as the mapping did, one batch at a time; a batch that succeeds is moved under
  ``replayed/`` (or its message deleted), one that still fails stays parked. A batch of a
  function the command was not told of is never replayed. A dry run unless ``--yes``.

It needs boto3 (``pip install 'table-stream-logger[redrive]'``), and for ``--local`` the
function's Powertools (``aws-lambda-powertools``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import importlib.util
import json
import os
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from .parked import (
    REPLAYED_PREFIX,
    Batch,
    Expired,
    FolderStore,
    Marker,
    RedriveError,
    S3Store,
    SqsStore,
    conflict,
    function_name_of,
    parse_time,
    read_from_stream,
    sort_key,
    started,
)

PROG = "python -m table_stream_logger"
# The logger's handler: the one --local runs (construct.HANDLER, not imported: it loads aws-cdk-lib).
LOGGER_HANDLER = "stream_logger.handler"
FUNCTION_OUTPUT = "FunctionName"
# The stack's outputs that name a function parking batches in the failure destination: the
# logger's and, sharing its bucket in the InventoryStack, the alerts'.
READER_OUTPUTS = (FUNCTION_OUTPUT, "AlertsFunctionName")
BUCKET_OUTPUT = "FailureBucketName"
QUEUE_OUTPUT = "FailureQueueUrl"
# The handler's ERROR line for a record: {"level":"ERROR",...,"sequence_number":...,"reason":...}.
ERROR_MESSAGE = "Record cannot be processed"
# How far around a parked batch the function's log is searched for its ERROR lines.
LOG_MARGIN = timedelta(minutes=5)
MAX_LOG_PAGES = 50
RELATIVE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
ACCESS_DENIED = "access denied"

EPILOG = """\
where the parked batches are (one of):
  --stack-name NAME      the stack's outputs FailureBucketName (or FailureQueueUrl) and
                         FunctionName (and AlertsFunctionName); a stack without them (a
                         library user's), its event source mappings: each names its function
                         and failure destination (with several destinations, choose one with
                         --bucket or --queue-url). Each batch goes back to the function that
                         parked it
  --bucket / --queue-url with --function-name: that function's batches only
  --folder DIR           a folder that python -m local wrote (.local-failures/), with --local

exit status: 0 when everything asked was done (or nothing was parked), 1 when a batch still
fails, 2 for a usage or access error.
"""


class Missing(RedriveError):
    """A package the command needs is not installed."""


# --- the function, deployed or in this process ---------------------------------------------
@dataclass
class Outcome:
    """What one invocation said about its batch."""

    # Sequence numbers the response lists in batchItemFailures.
    failed: list[str] = field(default_factory=list)
    # A function error, or a response that fails the whole batch.
    error: str | None = None
    # Why each failed record failed, from the invocation's ERROR lines.
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.error is None and not self.failed


def read_response(payload: Any, function_error: str | None, log_lines: Sequence[str]) -> Outcome:
    """Judge an invocation as the mapping does: a function error or batchItemFailures fail it."""
    reasons = error_reasons(log_lines)
    if function_error:
        detail = ""
        if isinstance(payload, dict) and payload.get("errorType"):
            detail = f": {payload['errorType']}: {payload.get('errorMessage', '')}"
        return Outcome(error=f"function error ({function_error}){detail}", reasons=reasons)
    if payload is None:
        return Outcome(reasons=reasons)
    if not isinstance(payload, dict):
        return Outcome(error="the response is not a partial batch response: the whole batch fails", reasons=reasons)
    failures = payload.get("batchItemFailures")
    if not failures:
        return Outcome(reasons=reasons)
    identifiers = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if not isinstance(failures, list) or not all(isinstance(item, str) and item for item in identifiers):
        return Outcome(error="the response's batchItemFailures fail the whole batch", reasons=reasons)
    return Outcome(failed=[str(item) for item in identifiers], reasons=reasons)


def error_reasons(lines: Sequence[str]) -> dict[str, str]:
    """``sequence_number -> reason`` from the handler's ERROR lines among log lines."""
    reasons = {}
    for line in lines:
        if ERROR_MESSAGE not in line:
            continue
        try:
            entry = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("sequence_number") and entry.get("reason"):
            reasons[str(entry["sequence_number"])] = str(entry["reason"])
    return reasons


class DeployedFunction:
    """The deployed function, invoked synchronously as the event source mapping invokes it."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def invoke(self, payload: str) -> Outcome:
        response = self.client.invoke(
            FunctionName=self.name,
            InvocationType="RequestResponse",
            # The last 4 KB of the invocation's log, for the reasons of the records that fail.
            LogType="Tail",
            Payload=payload.encode(),
        )
        body = response["Payload"].read()
        log = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
        try:
            result = json.loads(body) if body else None
        except ValueError:
            result = "not JSON"
        return read_response(result, response.get("FunctionError"), log.splitlines())


class LocalFunction:
    """The logger's handler of this package, run as Lambda runs it, on this machine (``--local``).

    In an execution environment of its own (lambda_runtime.py: AWS's runtime client, the
    reserved variables, the construct's JSON log format at INFO, its 30 s timeout), with the
    given environment as the function's own. The log lines it writes go to ``log``.
    """

    def __init__(self, environment: dict[str, str], log: TextIO, function_name: str) -> None:
        from ._core.stream_consumer import handler_asset_dir
        from .lambda_runtime import FunctionConfig, LambdaRuntime

        for module, package in (
            ("awslambdaric", "'table-stream-logger[redrive]'"),
            ("aws_lambda_powertools", "aws-lambda-powertools"),
        ):
            if importlib.util.find_spec(module) is None:
                raise Missing(f"--local runs the handler, which needs {module}: pip install {package}")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        config = FunctionConfig(
            name=function_name,
            handler=LOGGER_HANDLER,
            code=handler_asset_dir(),
            memory_size=256,
            timeout=30,
            environment=environment,
            log_format="JSON",
            application_log_level="INFO",
            region=region,
        )
        self.runtime = LambdaRuntime(config)
        self.log = log
        self.name = "local handler"

    def invoke(self, payload: str) -> Outcome:
        result = self.runtime.invoke(json.loads(payload))
        self.log.writelines(line + "\n" for line in result.lines)
        if result.error is not None:
            return read_response(result.error, "Unhandled", result.lines)
        return read_response(result.response, None, result.lines)

    def close(self) -> None:
        self.runtime.close()


# --- where things are ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Reader:
    """A deployed function that parks batches in the destination, and its configuration."""

    name: str
    # Its environment: REDACT_ATTRIBUTES, KEY_ATTRIBUTES, ...
    environment: dict[str, str]
    log_group: str
    # Its handler, e.g. stream_logger.handler (the logger's) or change_alerts.handler.
    handler: str


@dataclass
class Target:
    """The parked batches' store and the functions whose batches they may be.

    ``readers`` is empty for a local folder (``--folder``): its batches are only ever replayed
    through the local handler, configured from this process's environment.
    """

    store: S3Store | FolderStore | SqsStore
    readers: dict[str, Reader]
    clients: Callable[[str], Any] | None
    # How the command was told of the functions, for the messages: "the stack X" or "--function-name".
    source: str = ""
    # Functions of the stack whose configuration the caller may not read: why, by name.
    denied: dict[str, str] = field(default_factory=dict)

    def reader_of(self, batch: Batch) -> Reader | None:
        """The function that parked ``batch``, if it is one of the command's; None otherwise."""
        return self.readers.get(batch.function_name)

    def environment_of(self, batch: Batch) -> dict[str, str] | None:
        """The configuration of the function that parked ``batch``: its environment, this process's
        for a local folder, None when unknown (a function the command was not told of)."""
        reader = self.reader_of(batch)
        if reader is not None:
            return reader.environment
        return dict(os.environ) if isinstance(self.store, FolderStore) else None

    def redact(self, batch: Batch) -> list[str] | None:
        """The redacted paths of the function that parked ``batch``; None when unknown."""
        return list_setting(self.environment_of(batch), "REDACT_ATTRIBUTES")

    def keys(self, batch: Batch, record: dict[str, Any]) -> dict[str, str] | None:
        """A record's keys as text, partition key first, ``[REDACTED]`` where redact reaches them."""
        environment = self.environment_of(batch)
        return shown_keys(record, self.redact(batch), list_setting(environment, "KEY_ATTRIBUTES") or [])

    def log_group_of(self, batch: Batch) -> str | None:
        reader = self.reader_of(batch)
        return reader.log_group if reader is not None else None


def list_setting(environment: dict[str, str] | None, name: str) -> list[str] | None:
    """A JSON list of a function's environment (else of this process's); None when unknown."""
    if environment is None:
        return None
    raw = environment.get(name, os.environ.get(name))
    if raw is None:
        return None
    try:
        value = json.loads(raw) if raw.strip() else []
    except ValueError:
        return None
    return [str(item) for item in value] if isinstance(value, list) else None


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


def find_target(arguments: argparse.Namespace, clients: Callable[[], Callable[[str], Any]]) -> Target:
    if arguments.folder is not None:
        if arguments.stack_name or arguments.bucket or arguments.queue_url:
            raise RedriveError("--folder is a place of its own: give it without --stack-name, --bucket or --queue-url")
        # Named, the folder's batches of that function only go through the local handler (the
        # logger's): make local parks the alerts' batches in the same folder.
        name = arguments.function_name
        logger = {name: Reader(name, dict(os.environ), "", LOGGER_HANDLER)} if name else {}
        return Target(FolderStore(arguments.folder), logger, None, "--function-name")
    if not (arguments.stack_name or arguments.bucket or arguments.queue_url):
        raise RedriveError("say where the parked batches are: --stack-name, --bucket, --queue-url or --folder")
    client = clients()
    outputs = stack_outputs(client("cloudformation"), arguments.stack_name) if arguments.stack_name else {}
    if arguments.bucket and arguments.queue_url:
        raise RedriveError("give either --bucket or --queue-url, not both")
    mapped: list[str] = []
    if arguments.stack_name and not has_redrive_outputs(outputs):
        # A library user's stack, without the app's outputs: its event source mappings say it all.
        outputs, mapped = mapped_destination(arguments, client, stack_mappings(client, arguments.stack_name))
    bucket = arguments.bucket or (None if arguments.queue_url else outputs.get(BUCKET_OUTPUT))
    queue_url = arguments.queue_url or (None if arguments.bucket else outputs.get(QUEUE_OUTPUT))
    if not (bucket or queue_url):
        raise RedriveError(
            f"the stack {arguments.stack_name} has no output {BUCKET_OUTPUT} or {QUEUE_OUTPUT}: "
            "give --bucket or --queue-url"
        )
    if arguments.function_name:
        names, source = [arguments.function_name], "--function-name"
    else:
        names = [outputs[name] for name in READER_OUTPUTS if outputs.get(name)]
        names += mapped
        source = f"the stack {arguments.stack_name}"
    if not names:
        where = (
            f"the stack {arguments.stack_name} has no output {FUNCTION_OUTPUT}"
            if arguments.stack_name
            else "no function"
        )
        raise RedriveError(f"{where}: give --function-name (the function whose batches these are)")
    store: S3Store | SqsStore = S3Store(client("s3"), bucket) if bucket else SqsStore(client("sqs"), str(queue_url))
    readers: dict[str, Reader] = {}
    denied: dict[str, str] = {}
    for name in names:
        try:
            reader = read_configuration(client("lambda"), name)
        except Exception as error:
            # An operator granted one reader's redrive only: the other's batches are left, saying why.
            message = aws_error(error)
            if len(names) == 1 or message is None or not message.startswith(ACCESS_DENIED):
                raise
            denied[name] = message
            continue
        readers[reader.name] = reader
    if not readers:  # every configuration denied: say so for the first
        raise RedriveError(next(iter(denied.values())))
    return Target(store, readers, client, source, denied)


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


# --- what a batch shows ---------------------------------------------------------------------------
def shown_keys(record: dict[str, Any], redact: list[str] | None, order: list[str]) -> dict[str, str] | None:
    """A record's keys as text, in ``order`` then by name, ``[REDACTED]`` where ``redact`` reaches
    them (all of them when ``redact`` is None: unknown); None when the record has no keys."""
    keys = (record.get("dynamodb") or {}).get("Keys")
    if not isinstance(keys, dict):
        return None
    covered = None if redact is None else {path.split(".", 1)[0] for path in redact}
    names = [name for name in order if name in keys] + sorted(name for name in keys if name not in order)
    shown = {}
    for name in names:
        attribute = keys[name]
        if covered is None or name in covered:
            shown[name] = "[REDACTED]"
        else:
            (value,) = attribute.values() if isinstance(attribute, dict) and len(attribute) == 1 else ("?",)
            shown[name] = str(value)
    return shown


def record_identities(batch: Batch, records: list[dict[str, Any]], target: Target) -> list[dict[str, Any]]:
    return [
        {
            "event_name": record.get("eventName"),
            "event_id": record.get("eventID"),
            "sequence_number": (record.get("dynamodb") or {}).get("SequenceNumber"),
            "keys": target.keys(batch, record),
        }
        for record in records
    ]


def log_reasons(logs: Any, log_group: str, start: datetime, end: datetime, wanted: set[str]) -> dict[str, str]:
    """Why these records failed (by sequence number), from the handler's ERROR lines in a time range."""
    arguments: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000),
        "filterPattern": f'"{ERROR_MESSAGE}"',
    }
    reasons: dict[str, str] = {}
    for _ in range(MAX_LOG_PAGES):
        page = logs.filter_log_events(**arguments)
        found = error_reasons([event["message"] for event in page.get("events", [])])
        reasons.update({number: reason for number, reason in found.items() if number in wanted})
        if not page.get("nextToken") or wanted <= reasons.keys():
            break
        arguments["nextToken"] = page["nextToken"]
    return reasons


def keys_text(keys: dict[str, str] | None) -> str:
    if keys is None:
        return "-"
    return " ".join(f"{name}={value}" for name, value in keys.items())


def events_text(summary: dict[str, Any]) -> str:
    events = summary["event_names"]
    if events is None:
        return "(in the stream)"
    return " ".join(name if count == 1 else f"{name}x{count}" for name, count in events.items())


def table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


# --- the commands ---------------------------------------------------------------------------------
def command_list(arguments: argparse.Namespace, target: Target, out: TextIO, now: datetime) -> int:
    # One batch, records and all, in memory at a time: only its summary is kept, then sorted.
    chosen = select(target.store.each_parked(), arguments, now)
    ordered = sorted(((sort_key(batch), batch.summary()) for batch in chosen), key=lambda pair: pair[0])
    summaries = [summary for _, summary in ordered]
    if arguments.format == "json":
        out.write(json.dumps(summaries, indent=2) + "\n")
        return 0
    if not summaries:
        out.write(f"nothing parked in {target.store.where}\n")
        return 0
    header = [
        "PARKED",
        "CONDITION",
        "ERROR",
        "FUNCTION",
        "SHARD",
        "FIRST SEQUENCE",
        "LAST SEQUENCE",
        "RECORDS",
        "EVENTS",
        "KEY",
    ]
    rows = [header] + [
        [
            s["parked_at"],
            s["condition"],
            s["function_error"] or "-",
            function_name_of(s["function_arn"]),
            s["shard_id"],
            s["first_sequence_number"],
            s["last_sequence_number"],
            str(s["records"]),
            events_text(s),
            s["key"],
        ]
        for s in summaries
    ]
    table(rows, out)
    return 0


def command_show(arguments: argparse.Namespace, target: Target, out: TextIO, now: datetime) -> int:
    batch = target.store.get(arguments.key)
    if batch is None:
        out.write(f"{arguments.key} was replayed already: it is under {REPLAYED_PREFIX}\n")
        return 0
    summary = batch.summary()
    note = None
    try:
        payload = batch.payload if batch.payload is not None else stream_payload(target, batch, now)
        records = record_identities(batch, json.loads(payload)["Records"], target)
    except Expired as error:
        records, note = [], str(error)
    log_group = target.log_group_of(batch)
    if log_group and target.clients and records:
        wanted = {str(record["sequence_number"]) for record in records}
        start = parse_time(batch.first_arrival or batch.parked_at) - LOG_MARGIN
        end = parse_time(batch.parked_at) + LOG_MARGIN
        reasons = log_reasons(target.clients("logs"), log_group, start, end, wanted)
        for record in records:
            record["reason"] = reasons.get(str(record["sequence_number"]))
    if arguments.format == "json":
        out.write(json.dumps({"batch": summary, "records": records, "note": note}, indent=2) + "\n")
        return 0
    count = f" ({summary['invoke_count']} invocations)" if summary["invoke_count"] else ""
    table(
        [
            ["key:", summary["key"]],
            ["parked:", summary["parked_at"]],
            ["condition:", summary["condition"] + count],
            ["function error:", summary["function_error"] or "none"],
            ["function:", summary["function_arn"]],
            ["stream:", summary["stream_arn"]],
            ["shard:", summary["shard_id"]],
            ["sequence numbers:", f"{summary['first_sequence_number']} to {summary['last_sequence_number']}"],
            ["records:", str(summary["records"])],
        ],
        out,
    )
    if note:
        out.write(f"\n{note}\n")
    if records:
        out.write("\n")
        rows = [["EVENT", "EVENT ID", "SEQUENCE NUMBER", "KEYS", "WHY IT FAILED"]]
        rows += [
            [
                str(r["event_name"]),
                str(r["event_id"]),
                str(r["sequence_number"]),
                keys_text(r["keys"]),
                r.get("reason") or "-",
            ]
            for r in records
        ]
        table(rows, out)
    if target.redact(batch) is None and records:
        out.write(
            f"\nkeys are not shown: the REDACT_ATTRIBUTES of {batch.function_name} is unknown "
            "(give --stack-name or --function-name)\n"
        )
    return 0


def command_replay(
    arguments: argparse.Namespace,
    target: Target,
    out: TextIO,
    log: TextIO,
    now: datetime,
    sleep: Callable[[float], None],
) -> int:
    batches = asked_for(arguments, target, out, now)
    if not arguments.local and not target.readers:
        raise RedriveError("a replay invokes the deployed function: give --stack-name or --function-name, or --local")
    if arguments.local and not target.readers:
        check_one_function(batches, target)
    batches, left = set_aside(batches, target, arguments)
    left_text = [
        f"left {len(them)} batch(es) parked by the function {them[0].function_name}, {why}\n"
        for why, them in left.items()
    ]
    if not batches:
        out.write(f"nothing to replay in {target.store.where}\n")
        out.writelines(left_text)
        return 1 if left and arguments.yes else 0
    replayer = Replayer(arguments, target, out, log, now, sleep)
    if not arguments.yes:
        replayer.dry_run(batches)
        out.writelines(left_text)
        out.write("run again with --yes to replay them\n")
        return 0
    try:
        done = sum(replayer.replay(batch, first=index == 0) for index, batch in enumerate(batches))
    finally:
        replayer.close()
    failing = len(batches) - done
    out.writelines(left_text)
    others = f", {sum(map(len, left.values()))} left for other functions" if left else ""
    if replayer.trial:
        out.write(f"{done} batch(es) pass through the local handler, {failing} still fail{others}; all left parked\n")
    else:
        out.write(f"{done} batch(es) replayed, {failing} still parked{others}\n")
    return 1 if failing or left else 0


def asked_for(arguments: argparse.Namespace, target: Target, out: TextIO, now: datetime) -> list[Batch]:
    """The parked batches the command names: by key (saying which were replayed already), or by time."""
    if arguments.key:
        if arguments.all:
            raise RedriveError("give keys or --all, not both")
        batches = []
        for key in arguments.key:
            batch = target.store.get(key)
            if batch is None:
                out.write(f"{key}: replayed already\n")
            else:
                batches.append(batch)
        return batches
    if arguments.all or arguments.since or arguments.until:
        return list(select(target.store.parked(), arguments, now))
    raise RedriveError("say which batches to replay: KEY ..., --all, or --since/--until")


def set_aside(
    batches: list[Batch], target: Target, arguments: argparse.Namespace
) -> tuple[list[Batch], dict[str, list[Batch]]]:
    """The batches that go back to their function, and those left parked, by why (see ``refusal``).
    A batch asked for by key that cannot be replayed refuses the whole run."""
    kept: list[Batch] = []
    left: dict[str, list[Batch]] = {}
    for batch in batches:
        why = refusal(batch, target, arguments.local)
        if why is not None and arguments.key:
            raise RedriveError(
                f"{batch.key} was parked by the function {batch.function_name}, {why}. Nothing was replayed."
            )
        if why is None:
            kept.append(batch)
        else:
            left.setdefault(why, []).append(batch)
    return kept, left


class Replayer:
    """Replays parked batches one at a time, each to the function that parked it.

    Through the local handler (``--local``), a batch of the deployed destination is only tried:
    its records would be logged here, not in the function's log group, so it stays parked.
    """

    def __init__(
        self,
        arguments: argparse.Namespace,
        target: Target,
        out: TextIO,
        log: TextIO,
        now: datetime,
        sleep: Callable[[float], None],
    ) -> None:
        self.arguments, self.target, self.out, self.log, self.now, self.sleep = arguments, target, out, log, now, sleep
        self.store = target.store
        self.trial = arguments.local and not isinstance(target.store, FolderStore)
        self.local_handlers: dict[str, LocalFunction] = {}

    def label(self, batch: Batch) -> str:
        return "the local handler" if self.arguments.local else batch.function_name

    def dry_run(self, batches: list[Batch]) -> None:
        counts = Counter(self.label(batch) for batch in batches)
        invocations = " and ".join(f"{label} with {count} batch(es)" for label, count in counts.items())
        self.out.write(f"dry run: would invoke {invocations}, one at a time:\n")
        for batch in batches:
            to = f", to {self.label(batch)}" if len(counts) > 1 else ""
            self.out.write(
                f"  {batch.key}: {batch.size} record(s), "
                f"{batch.first_sequence_number} to {batch.last_sequence_number}{to}\n"
            )

    def replay(self, batch: Batch, *, first: bool) -> bool:
        """Replay one batch, or say why not; whether it is done (replayed, or passes locally)."""
        marker = self.store.marker(batch)
        if marker is Marker.CONFLICT:  # never replayed on, nor deleted for, an object the redrive did not write
            self.out.write(f"{conflict(self.store.where, batch)}\n")
            return False
        if marker is Marker.COPY:  # an earlier run replayed it and stopped before moving it
            self.out.write(f"{batch.key}: replayed already; moved to {self.store.mark_replayed(batch)}\n")
            return True
        if marker is Marker.STARTED:  # never invoked twice on an outcome that was not recorded
            self.out.write(f"{started(self.store.where, batch)}\n")
            return False
        if not first:
            self.sleep(self.arguments.pause)
        try:
            payload = batch.payload if batch.payload is not None else stream_payload(self.target, batch, self.now)
        except Expired as error:
            self.out.write(f"{batch.key}: cannot be replayed: {error}\n")
            return False
        outcome = self.invoke(batch, payload)
        if not outcome.succeeded:
            report_failure(batch, payload, outcome, self.target, self.out, None if self.arguments.local else self.now)
            return False
        if self.trial:
            self.out.write(
                f"{batch.key}: the local handler processes its {batch.size} record(s); left parked: replay it "
                "without --local once the fix is deployed\n"
            )
            return True
        where = self.store.mark_replayed(batch)
        self.out.write(f"{batch.key}: replayed {batch.size} record(s) through {self.label(batch)}; moved to {where}\n")
        return True

    def invoke(self, batch: Batch, payload: str) -> Outcome:
        """Invoke the batch's function, the replay recorded as begun; a failed one is taken back."""
        if not self.trial:
            self.store.begin_replay(batch)
        try:
            outcome = self.function_of(batch).invoke(payload)
        except Exception as error:
            if not self.trial and refused_request(error):  # throttled, denied, ...: nothing ran
                self.store.abandon_replay(batch)
            raise  # else (a timeout, Ctrl-C) it may have run: the next run does not invoke it again
        if not outcome.succeeded and not self.trial:
            self.store.abandon_replay(batch)
        return outcome

    def function_of(self, batch: Batch) -> DeployedFunction | LocalFunction:
        """The function that parked the batch: deployed, or the local handler with its configuration."""
        reader = self.target.reader_of(batch)
        if not self.arguments.local:
            assert self.target.clients is not None and reader is not None
            return DeployedFunction(self.target.clients("lambda"), reader.name)
        name = reader.name if reader else "local"
        if name not in self.local_handlers:
            self.local_handlers[name] = LocalFunction(reader.environment if reader else {}, self.log, name)
        return self.local_handlers[name]

    def close(self) -> None:
        self.store.release()
        for function in self.local_handlers.values():
            function.close()


def refusal(batch: Batch, target: Target, local: bool) -> str | None:
    """Why ``batch`` is not replayed, and how it can be; None when it goes back to its function.

    A batch goes only to the function that parked it: replayed to another reader of the stream,
    its records would be handled by the wrong code (the alerts' changes logged twice by the
    logger, their notifications never sent). ``--local`` runs only the logger's handler.
    """
    name = batch.function_name
    reader = target.reader_of(batch)
    if not target.readers:  # a local folder of one function's batches (check_one_function)
        return None
    if name in target.denied:
        return f"whose configuration you may not read ({target.denied[name]}): ask for its grant_redrive"
    known = " or ".join(sorted(target.readers))
    if reader is None and isinstance(target.store, FolderStore):  # the one named is the logger's
        return f"not {known}: --local runs only the logger's handler, and this batch is another function's"
    if reader is None:
        return (
            f"not {known}: is the destination shared with another function? "
            f"replay its batches with --function-name {name}"
        )
    if local and reader.handler != LOGGER_HANDLER:
        return (
            f"which runs {reader.handler or 'another handler'}: --local runs only the logger's handler "
            f"({LOGGER_HANDLER}); replay its batches without --local"
        )
    return None


def check_one_function(batches: Sequence[Batch], target: Target) -> None:
    """A local folder names no function: the local handler replays its batches if they are all one
    function's (make local parks the alerts' batches there too)."""
    names = sorted({batch.function_name for batch in batches})
    if len(names) > 1:
        raise RedriveError(
            f"{target.store.where} holds batches of {len(names)} functions ({', '.join(names)}) and --local runs only "
            "the logger's handler: give --function-name with the logger's function (the others' batches stay "
            "parked). Nothing was replayed."
        )


def report_failure(
    batch: Batch, payload: str, outcome: Outcome, target: Target, out: TextIO, invoked: datetime | None
) -> None:
    """Say which records still fail and why: from the invocation's log, else from the log group."""
    out.write(f"{batch.key}: still fails, stays parked: {outcome.error or 'records reported as failed'}\n")
    records = {str((r.get("dynamodb") or {}).get("SequenceNumber")): r for r in json.loads(payload)["Records"]}
    reasons = dict(outcome.reasons)
    missing = set(outcome.failed) - reasons.keys()
    log_group = target.log_group_of(batch)
    if missing and invoked is not None and log_group and target.clients:
        # The invocation's log tail is its last 4 KB: an earlier ERROR line may be only in the log group.
        start = parse_time(batch.first_arrival or batch.parked_at) - LOG_MARGIN
        reasons.update(log_reasons(target.clients("logs"), log_group, start, invoked + LOG_MARGIN, missing))
    for number in outcome.failed:
        record = records.get(number, {})
        why = reasons.get(number, "the reason is not in the function's log")
        out.write(f"  {number} {record.get('eventName', '?')} {keys_text(target.keys(batch, record))}: {why}\n")
    numbers = sorted(int(number) for number in records if number.isdigit())
    failed = [int(number) for number in outcome.failed if number.isdigit()]
    processed = sum(1 for number in numbers if failed and number < min(failed))
    if processed:
        out.write(
            f"  the {processed} record(s) before it were processed by this invocation; a later replay of the batch "
            "processes them again (their log lines carry the same sequence_number)\n"
        )


def stream_payload(target: Target, batch: Batch, now: datetime) -> str:
    assert target.clients is not None
    streams = target.clients("dynamodbstreams")
    return read_from_stream(streams, batch, streams.meta.region_name, lambda: now)


def moment(text: str, now: datetime) -> datetime:
    """``--since``/``--until``: an ISO 8601 time or date, or a time ago such as 30m, 6h, 2d."""
    number, unit = text[:-1], text[-1:]
    if unit in RELATIVE_UNITS and number.isdigit():
        return now - timedelta(**{RELATIVE_UNITS[unit]: int(number)})
    return parse_time(text)


def select(batches: Iterable[Batch], arguments: argparse.Namespace, now: datetime) -> Iterator[Batch]:
    """The batches parked within ``--since``/``--until``, as they come (both checked first)."""
    since = moment(arguments.since, now) if arguments.since else None
    until = moment(arguments.until, now) if arguments.until else None

    def chosen(batch: Batch) -> bool:
        parked = parse_time(batch.parked_at)
        return (since is None or parked >= since) and (until is None or parked <= until)

    return filter(chosen, batches)


# --- command line ---------------------------------------------------------------------------------
class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr and exit status 2, as the
    command's own errors: ``error: argument --endpoint-url: ... (see --help)``."""

    def error(self, message: str) -> Any:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def endpoint_url(text: str) -> str:
    """An --endpoint-url: a URL with its scheme, which botocore needs (``localhost:8000`` is refused)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a URL with a scheme: give http:// or https://, e.g. http://{text}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    common = OneLineParser(add_help=False)
    where = common.add_argument_group("where the parked batches are")
    where.add_argument(
        "--stack-name",
        metavar="NAME",
        help="read FailureBucketName/FailureQueueUrl and the functions (FunctionName, AlertsFunctionName) "
        "from its outputs, or else from its event source mappings",
    )
    where.add_argument("--bucket", metavar="NAME", help="the S3 failure destination")
    where.add_argument("--queue-url", metavar="URL", help="the SQS failure destination")
    where.add_argument(
        "--function-name",
        metavar="NAME",
        help="the one function whose batches to replay (with --folder: the logger's); others' batches stay parked",
    )
    where.add_argument(
        "--folder", type=Path, metavar="DIR", help="a local folder of parked batches, e.g. .local-failures"
    )
    aws = common.add_argument_group("AWS (the standard credential chain)")
    aws.add_argument("--region", help="default: from your AWS configuration")
    aws.add_argument("--profile", help="a profile of your AWS configuration")
    aws.add_argument(
        "--endpoint-url", type=endpoint_url, metavar="URL", help="another endpoint, e.g. a moto server (http://...)"
    )

    def output_format(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", choices=("text", "json"), default="text", help="default: text")

    def time_range(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--since", metavar="TIME", help="parked at or after: 2026-12-01T14:00:00Z, 2026-12-01, or 6h ago"
        )
        parser.add_argument("--until", metavar="TIME", help="parked at or before, same forms")

    parser = OneLineParser(
        prog=PROG,
        description="List, inspect and replay the batches that the event source mappings of a TableStreamLogger "
        "and of ChangeAlerts parked, each with the function that parked it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{list,show,replay,history,status}")
    listing = commands.add_parser(
        "list",
        parents=[common],
        help="one row per parked batch",
        description="One row per parked batch: "
        "when and why it was parked, its shard and sequence range, its records' event names. Never a key or a value.",
    )
    time_range(listing)
    output_format(listing)
    showing = commands.add_parser(
        "show",
        parents=[common],
        help="a batch and its records' identities",
        description="A parked batch: its metadata and, per record, event name, event ID, sequence number, keys "
        "(unless the function redacts them) and why it failed, from the function's log.",
    )
    showing.add_argument("key", metavar="KEY", help="the batch's S3 key (aws/lambda/...) or SQS message ID")
    output_format(showing)
    replaying = commands.add_parser(
        "replay",
        parents=[common],
        help="invoke the function that parked each batch with it (dry run unless --yes)",
        description="Invoke the function that parked each batch with it, exactly as the mapping did, one batch at a "
        "time; never another function. "
        f"A batch that succeeds moves under {REPLAYED_PREFIX} (an SQS message is deleted); one that still fails "
        "stays parked. A dry run unless --yes.",
    )
    replaying.add_argument("key", metavar="KEY", nargs="*", help="the batches to replay")
    replaying.add_argument("--all", action="store_true", help="every parked batch (within --since/--until)")
    time_range(replaying)
    replaying.add_argument(
        "--yes", action="store_true", help="replay for real; without it, only say what would be done"
    )
    replaying.add_argument(
        "--local",
        action="store_true",
        help="run this package's logger handler in this process instead of the deployed function "
        "(the alerts' batches stay parked)",
    )
    replaying.add_argument(
        "--pause", type=float, default=1.0, metavar="SECONDS", help="between two invocations (default: 1)"
    )
    # The operator's other questions, in modules of their own: what happened to an item, is it working.
    from . import history, status

    history.add_parser(commands, history.aws_parent())
    status.add_parser(commands, history.aws_parent())
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clients: Callable[[str], Any] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    arguments = build_parser().parse_args(argv)
    now = datetime.fromtimestamp(clock(), UTC)
    target: Target | None = None
    try:
        if getattr(arguments, "run", None) is not None:  # history, status
            return int(
                arguments.run(
                    arguments,
                    out=out,
                    err=err,
                    clients=lambda: clients or boto3_clients(arguments),
                    now=now,
                    clock=clock,
                    sleep=sleep,
                )
            )
        if arguments.command == "replay" and arguments.pause < 0:
            raise RedriveError("--pause cannot be negative")
        if arguments.folder is not None and arguments.command == "replay" and not arguments.local:
            raise RedriveError("--folder goes with --local: a deployed function is never invoked with it")
        target = find_target(arguments, lambda: clients or boto3_clients(arguments))
        if arguments.command == "list":
            return command_list(arguments, target, out, now)
        if arguments.command == "show":
            return command_show(arguments, target, out, now)
        return command_replay(arguments, target, out, err, now, sleep)
    except RedriveError as error:
        err.write(f"error: {error}\n")
        return 2
    except Exception as error:
        message = aws_error(error)
        if message is None:
            raise
        err.write(f"error: {message}\n")
        return 2
    except KeyboardInterrupt:
        # A batch is moved only after its replay succeeded: a rerun continues where this one stopped.
        err.write("interrupted: run the command again to continue\n")
        return 130
    finally:
        if target is not None:
            with contextlib.suppress(Exception):
                target.store.release()


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
