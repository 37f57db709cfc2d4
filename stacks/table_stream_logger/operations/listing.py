"""``list`` and ``show``: the parked batches, one row each, and one batch's records by identity and
why each failed, from the function's log. Never a value of an item, nor a key ``redact`` covers."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TextIO

from .._core.record_formats import REPLAYED_PREFIX
from .errors import Expired
from .failure_records import Batch, function_name_of, sort_key
from .functions import ERROR_MESSAGE, error_reasons
from .stream_records import read_from_stream
from .target import Target
from .times import moment, parse_time

# How far around a parked batch the function's log is searched for its ERROR lines.
LOG_MARGIN = timedelta(minutes=5)
MAX_LOG_PAGES = 50


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


def stream_payload(target: Target, batch: Batch, now: datetime) -> str:
    assert target.clients is not None
    streams = target.clients("dynamodbstreams")
    return read_from_stream(streams, batch, streams.meta.region_name, lambda: now)


def select(batches: Iterable[Batch], arguments: argparse.Namespace, now: datetime) -> Iterator[Batch]:
    """The batches parked within ``--since``/``--until``, as they come (both checked first)."""
    since = moment(arguments.since, now) if arguments.since else None
    until = moment(arguments.until, now) if arguments.until else None

    def chosen(batch: Batch) -> bool:
        parked = parse_time(batch.parked_at)
        return (since is None or parked >= since) and (until is None or parked <= until)

    return filter(chosen, batches)
