"""``python -m table_stream_logger status``: is the logging working? One line per fact.

The check the AWS walkthrough does by hand after ``create-event-source-mapping``, for each event
source mapping of the stack (or of the functions named): its ``State`` and
``LastProcessingResult``, the stream's lag (the function's ``IteratorAge``, its maximum over the
last 15 minutes), the batches parked in its failure destination, the stack's alarms in ALARM, the
time of the logger's last change line, and the last lines of records that could not be processed.
Exit status 0 when healthy, 1 when not.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from .._core.record_formats import PARKED_PREFIX
from ..archive.layout import CHANGE_LINES_PATTERN
from .errors import RedriveError
from .failure_records import function_name_of
from .functions import ERROR_MESSAGE, LOGGER_HANDLER
from .stack import MAPPING_TYPE, physical_ids, read_configuration, stack_resources
from .stores import FolderStore

LAG_WINDOW = timedelta(minutes=15)
ERROR_WINDOW = timedelta(hours=24)
DEFAULT_MAX_LAG = 60.0  # seconds: the construct's iterator_age_threshold default
LAST_ERRORS = 3
# Where to look for the newest change line, newest first: a busy log is read for a minute only.
CHANGE_LINE_WINDOWS = (timedelta(minutes=1), timedelta(minutes=15), ERROR_WINDOW)
HEALTHY_STATES = ("Enabled", "Enabling", "Updating")


@dataclass
class Facts:
    """What ``status`` found, and what is wrong."""

    mappings: list[dict[str, Any]] = field(default_factory=list)
    lag: dict[str, float | None] = field(default_factory=dict)
    parked: dict[str, int] = field(default_factory=dict)
    alarms: list[str] = field(default_factory=list)
    last_change: dict[str, str | None] = field(default_factory=dict)  # by logger function: ISO time, None: none in 24 h
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def mappings_of(
    client: Callable[[str], Any], arguments: argparse.Namespace, resources: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    lambda_client = client("lambda")
    if arguments.stack_name:
        ids = physical_ids(resources, MAPPING_TYPE)
        return [lambda_client.get_event_source_mapping(UUID=uuid) for uuid in ids]
    found: list[dict[str, Any]] = []
    for name in arguments.function_name:
        found += lambda_client.list_event_source_mappings(FunctionName=name).get("EventSourceMappings", [])
    return found


def iterator_age(cloudwatch: Any, function: str, now: datetime) -> float | None:
    """The function's largest IteratorAge of the last 15 minutes, in seconds; None without data."""
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - LAG_WINDOW,
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    ).get("Datapoints", [])
    return max(float(point["Maximum"]) / 1000 for point in points) if points else None


def parked_count(client: Callable[[str], Any], destination: str) -> int:
    """Batches parked in an S3 bucket (objects under aws/lambda/) or an SQS queue (its messages)."""
    _, is_bucket, bucket = destination.partition(":s3:::")
    if is_bucket:
        count = 0
        for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PARKED_PREFIX):
            count += page.get("KeyCount", len(page.get("Contents", [])))
        return count
    parts = destination.split(":")
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def last_change_line(logs: Any, group: str, now: datetime) -> datetime | None:
    """The time of the newest change line in the log group in the last 24 hours; None if none.

    The pattern lets CloudWatch Logs send only change lines (those with an ``event_name``); each
    is checked here too, as a stand-in service may not apply the pattern.
    """
    end = now
    for window in CHANGE_LINE_WINDOWS:
        start = now - window
        newest = None
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group,
            startTime=milliseconds(start),
            endTime=milliseconds(end),
            filterPattern=CHANGE_LINES_PATTERN,
        )
        for page in pages:
            for event in page.get("events", []):
                if _is_change_line(str(event.get("message", ""))):
                    newest = max(newest or 0, int(event["timestamp"]))
        if newest is not None:
            return datetime.fromtimestamp(newest / 1000, UTC)
        end = start
    return None


def _is_change_line(message: str) -> bool:
    try:
        line = json.loads(message)
    except ValueError:
        return False
    return isinstance(line, dict) and "event_name" in line


def error_lines(client: Callable[[str], Any], group: str, now: datetime) -> list[str]:
    """The last lines of records the function could not process, in the last 24 hours."""
    events = (
        client("logs")
        .filter_log_events(
            logGroupName=group,
            startTime=milliseconds(now - ERROR_WINDOW),
            endTime=milliseconds(now),
            filterPattern=f'"{ERROR_MESSAGE}"',
        )
        .get("events", [])
    )
    return [str(event["message"]).strip() for event in events][-LAST_ERRORS:]


def stack_alarms(client: Callable[[str], Any], resources: list[dict[str, Any]]) -> list[str]:
    names = physical_ids(resources, "AWS::CloudWatch::Alarm")
    in_alarm = []
    for start in range(0, len(names), 100):
        answer = client("cloudwatch").describe_alarms(AlarmNames=names[start : start + 100])
        in_alarm += [alarm["AlarmName"] for alarm in answer.get("MetricAlarms", []) if alarm["StateValue"] == "ALARM"]
    return sorted(in_alarm)


def deployed_facts(client: Callable[[str], Any], arguments: argparse.Namespace, now: datetime) -> Facts:
    facts = Facts()
    resources = stack_resources(client("cloudformation"), arguments.stack_name) if arguments.stack_name else []
    mappings = mappings_of(client, arguments, resources)
    if not mappings:
        where = f"the stack {arguments.stack_name}" if arguments.stack_name else "these functions"
        raise RedriveError(f"{where} have no event source mapping")
    for mapping in mappings:
        function = function_name_of(mapping["FunctionArn"])
        state, result = mapping.get("State", "?"), mapping.get("LastProcessingResult", "(none yet)")
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        facts.mappings.append(
            {"uuid": mapping["UUID"], "function": function, "state": state, "last_processing_result": result}
        )
        if state not in HEALTHY_STATES:
            facts.problems.append(f"the mapping {mapping['UUID']} is {state}")
        if str(result).startswith("PROBLEM"):
            facts.problems.append(f"the mapping {mapping['UUID']}'s last processing result is {result}")
        if function not in facts.lag:
            age = facts.lag[function] = iterator_age(client("cloudwatch"), function, now)
            if age is not None and age > arguments.max_lag:
                facts.problems.append(f"{function} lags {age:,.0f} s behind the stream")
            reader = read_configuration(client("lambda"), function)
            if reader.handler == LOGGER_HANDLER:
                newest = last_change_line(client("logs"), reader.log_group, now)
                facts.last_change[function] = f"{newest:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z" if newest else None
            facts.errors += error_lines(client, reader.log_group, now)
        if destination and destination not in facts.parked:
            count = facts.parked[destination] = parked_count(client, destination)
            if count:
                facts.problems.append(f"{count} batch(es) parked in {destination}")
    if arguments.stack_name:
        facts.alarms = stack_alarms(client, resources)
        facts.problems += [f"the alarm {name} is in ALARM" for name in facts.alarms]
    return facts


def local_facts(folder: Path) -> Facts:
    """A ``python -m local`` run's failure folder: its parked batches (a local run has no mapping state)."""
    facts = Facts()
    if not folder.exists():  # make local creates it with the first batch it parks
        facts.parked[f"{folder} (no such folder: nothing parked there yet)"] = 0
        return facts
    if not folder.is_dir():
        raise RedriveError(f"--local {folder}: not a folder (python -m local parks in .local-failures)")
    count = facts.parked[str(folder)] = len(FolderStore(folder).parked())
    if count:
        facts.problems.append(f"{count} batch(es) parked in {folder}")
    return facts


def write_text(facts: Facts, out: TextIO, max_lag: float) -> None:
    for mapping in facts.mappings:
        out.write(
            f"mapping {mapping['uuid']} ({mapping['function']}): State {mapping['state']}, "
            f"LastProcessingResult {mapping['last_processing_result']}\n"
        )
    for function, age in facts.lag.items():
        shown = "no data (no records read)" if age is None else f"{age:,.1f} s"
        out.write(f"lag of {function}: {shown}, the largest IteratorAge of the last 15 minutes (limit {max_lag:g} s)\n")
    for destination, count in facts.parked.items():
        out.write(f"parked: {count} batch(es) in {destination}\n")
    for function, newest in facts.last_change.items():
        out.write(f"last change line of {function}: {newest or 'none in the last 24 hours'}\n")
    if facts.mappings:
        out.write(f"alarms in ALARM: {', '.join(facts.alarms) or 'none'}\n")
        out.write(f"records that could not be processed, last 24 hours: {len(facts.errors) or 'none'}\n")
    out.writelines(f"  {line}\n" for line in facts.errors)
    out.write("healthy\n" if not facts.problems else f"unhealthy: {'; '.join(facts.problems)}\n")


def add_parser(commands: Any, aws: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "status",
        parents=[aws],
        help="is it working: mappings, lag, parked batches, alarms, last change, errors (exit 1 when not)",
        description="One line per fact: each event source mapping's State and LastProcessingResult, the stream's "
        "lag (IteratorAge, last 15 minutes), the batches parked in the failure destination, the stack's alarms in "
        "ALARM, the time of the logger's last change line, the last lines of records that could not be processed. "
        "Exit status 0 when healthy, 1 when not.",
    )
    where = parser.add_argument_group("what to check (one of)")
    where.add_argument("--stack-name", metavar="NAME", help="every event source mapping of the stack, and its alarms")
    where.add_argument(
        "--function-name", action="append", default=[], metavar="NAME", help="a function's mappings; repeatable"
    )
    where.add_argument("--local", type=Path, metavar="DIR", help="a python -m local failure folder (.local-failures)")
    parser.add_argument(
        "--max-lag",
        type=float,
        default=DEFAULT_MAX_LAG,
        metavar="SECONDS",
        help=f"the largest healthy IteratorAge (default: {DEFAULT_MAX_LAG:g}, the IteratorAge alarm's threshold)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    parser.set_defaults(run=run)


def run(
    arguments: argparse.Namespace,
    *,
    out: TextIO,
    err: TextIO,
    clients: Callable[[], Callable[[str], Any]],
    now: datetime,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    given = [bool(arguments.stack_name), bool(arguments.function_name), arguments.local is not None]
    if sum(given) != 1:
        raise RedriveError("say what to check, once: --stack-name NAME, --function-name NAME ... or --local DIR")
    facts = local_facts(arguments.local) if arguments.local is not None else deployed_facts(clients(), arguments, now)
    if arguments.format == "json":
        out.write(json.dumps({**asdict(facts), "healthy": not facts.problems}, indent=2) + "\n")
    else:
        write_text(facts, out, arguments.max_lag)
    return 1 if facts.problems else 0
