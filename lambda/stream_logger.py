"""Log every DynamoDB stream record as one exact, readable JSON line.

Configuration (the function's environment, set by the TableStreamLogger construct):
- ``LOG_IMAGES``: ``NEW_AND_CHANGES`` (default), ``NEW_AND_OLD``, ``NEW`` or ``CHANGES``.
- ``LOG_CONTEXT_KEYS``: ``ONCE`` (default: the Lambda context keys go on one line per
  invocation) or ``EVERY_LINE`` (Powertools' full key set on every record line too).
- ``REDACT_ATTRIBUTES``: JSON array of attribute names or dotted paths whose values never
  appear in a log line, e.g. ``["email", "card.number"]``.
- ``KEY_ATTRIBUTES``: JSON array of the table's key names, partition key first. Without
  it, key names are taken in sorted order.
- ``FAILURE_BUCKET``: the S3 failure destination, where a record too big for one log line
  is copied whole (``oversized/...``). Without it the shortened line says so. A copy that
  fails, or could not end before the function's time does, fails the record.
- ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_METRICS_NAMESPACE``.

A record that cannot be processed is logged at ERROR and reported in
``batchItemFailures``, and the handler stops there: Lambda redelivers the records after
it from that checkpoint, so logging them now would log them again on every retry. Lambda
then retries, bisects, and finally parks the record: nothing is dropped silently.

This module is the handler's entry (``stream_logger.handler``) and the lines of an invocation;
the record's members come from ``line_render``, a line too long is ``oversized``'s, the writes
``line_writer``'s, and what the alerts' handler shares with this one is ``stream_common``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from json.encoder import encode_basestring as _json_string
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from line_render import EVENT_NAMES, Rendered, json_value, render_record
from line_writer import Lines, one_line, timestamp
from oversized import MAX_LINE_BYTES, shortened_line, utf8_size
from stream_common import (
    TIMESTAMP_FORMAT,
    RecordError,
    choice_env,
    failure_entry,
    identifier,
    sequence_number_of,
    table_name,
    user_log_level,
)

LOG_CONTEXT_KEYS_CHOICES = ("ONCE", "EVERY_LINE")
METRIC_NAMES = {"INSERT": "InsertRecords", "MODIFY": "ModifyRecords", "REMOVE": "RemoveRecords"}
FAILED_METRIC = "FailedRecords"

# Read once per execution environment: a bad setting fails the function's init loudly. The
# settings of the rendering are line_render's, FAILURE_BUCKET is oversized's.
LOG_CONTEXT_KEYS = choice_env("LOG_CONTEXT_KEYS", LOG_CONTEXT_KEYS_CHOICES)

logger = Logger(utc=True, datefmt=TIMESTAMP_FORMAT)
# The Logger's own lines (a warning, the ERROR lines) follow the user's log_level too.
LOG_LEVEL = user_log_level(logger.name)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "TableStreamLogger")


def _memory_size(value: Any) -> Any:
    """The function's memory in MB, a number: Lambda's runtime gives it as text ("256", read from
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE), a caller's stand-in context may give a number."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


class _Invocation:
    """What every line of one invocation shares."""

    def __init__(self, context: Any, records: list[Any]) -> None:
        self.request_id = str(getattr(context, "aws_request_id", "") or "")
        # Lambda's context always has it; a caller's stand-in may not (then a copy is not timed).
        self.remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        first = records[0] if records and type(records[0]) is dict else {}
        self.table = table_name(first.get("eventSourceARN"))
        trace_id = os.environ.get("_X_AMZN_TRACE_ID", "")
        context_keys: dict[str, Any] = {
            "service": logger.service,
            "cold_start": _cold_start(),
            "function_name": getattr(context, "function_name", None),
            "function_memory_size": _memory_size(getattr(context, "memory_limit_in_mb", None)),
            "function_arn": getattr(context, "invoked_function_arn", None),
            "xray_trace_id": trace_id.split(";", 1)[0].replace("Root=", "") if trace_id else None,
        }
        self.context_keys = {name: value for name, value in context_keys.items() if value is not None}
        # Behind the message of each record line: the request id, and with EVERY_LINE the
        # Powertools Logger's keys as well, for queries written against them.
        self.record_keys = ',"request_id":' + json_value(self.request_id)
        if LOG_CONTEXT_KEYS == "EVERY_LINE":
            keys = {"location": "handler", **self.context_keys, "function_request_id": self.request_id}
            keys["table"] = self.table
            self.record_keys += "," + json_value(keys)[1:-1]

    def first_line(self, records: list[Any]) -> str:
        """The one line per invocation with the Lambda context and the batch's extent."""
        sequence_numbers = (
            [
                identifier(record["dynamodb"].get("SequenceNumber"))
                for record in (records[0], records[-1])
                if type(record) is dict and type(record.get("dynamodb")) is dict
            ]
            if records
            else []
        )
        fields = {
            "level": "INFO",
            "timestamp": timestamp(),
            "message": f"Batch of {len(records)} record(s) from table {self.table}",
            "request_id": self.request_id,
            **self.context_keys,
            "table": self.table,
            "record_count": len(records),
        }
        if len(sequence_numbers) == 2:
            fields["first_sequence_number"], fields["last_sequence_number"] = sequence_numbers
        return json_value(fields) + "\n"

    def record_line(self, rendered: Rendered, extra: str = "") -> str:
        # One f-string: the line is built once, not copied at every "+".
        line = (
            f'{{"level":"INFO","timestamp":"{timestamp()}","message":{_json_string(rendered.message)}'
            f"{self.record_keys},{rendered.fields()}{extra}}}\n"
        )
        if line.isascii():
            return line
        try:
            line.encode()
        except UnicodeEncodeError:  # stdout would raise it, after the lines before were written
            raise RecordError(
                "a string or name is not valid Unicode (a lone surrogate): not text DynamoDB can hold"
            ) from None
        return one_line(line)


_cold = True


def _cold_start() -> bool:
    global _cold
    cold, _cold = _cold, False
    return cold


def _report_failure(record: Any, reason: str, request_id: str) -> dict[str, str]:
    """Log one ERROR line for a record and return its ``batchItemFailures`` entry."""
    reason = one_line(reason)  # it may quote an attribute name
    sequence_number = sequence_number_of(record)
    event_id = record.get("eventID") if type(record) is dict else None
    logger.error(
        f"Record cannot be processed: {reason}",
        extra={
            "request_id": request_id,
            "event_id": identifier(event_id),
            "sequence_number": identifier(sequence_number),
            "reason": reason,
        },
    )
    return failure_entry(sequence_number)


def _log_line(invocation: _Invocation, record: dict[str, Any], rendered: Rendered) -> str:
    """The record's line, shortened (and the record copied whole) if it would be too long."""
    line = invocation.record_line(rendered)
    if len(line) <= MAX_LINE_BYTES // 4 or utf8_size(line) <= MAX_LINE_BYTES:  # at most 4 bytes a character
        return line
    return shortened_line(invocation, record, rendered, utf8_size(line))


def _metrics_line(counts: dict[str, int], failed: int) -> str:
    """The invocation's embedded-metric-format line, with a level and timestamp like every line.

    Written as INFO: the construct keeps Lambda's application log level at INFO or below,
    so that this line always reaches CloudWatch, whatever ``log_level`` says.
    """
    for event_name, count in counts.items():
        metrics.add_metric(name=METRIC_NAMES[event_name], unit=MetricUnit.Count, value=count)
    metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=failed)
    emf = metrics.serialize_metric_set()
    metrics.clear_metrics()
    return json.dumps({"level": "INFO", "timestamp": timestamp(), **emf}, separators=(",", ":")) + "\n"


def handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") if type(event) is dict else None
    counts = dict.fromkeys(EVENT_NAMES, 0)
    failures: list[dict[str, str]] = []
    invocation = _Invocation(context, records if type(records) is list else [])
    if type(records) is not list or not records:
        logger.warning(
            "Event has no Records: nothing to log",
            extra={"request_id": invocation.request_id, "event_type": type(event).__name__},
        )
        records = []

    # Lambda's own level filter stays at INFO or below (see _metrics_line); the user's
    # log_level is applied here.
    info = LOG_LEVEL <= logging.INFO
    lines = Lines(sys.stdout.write)
    try:
        if info and records:
            lines.add(invocation.first_line(records))
        for record in records:
            try:
                rendered = render_record(record)
                line = _log_line(invocation, record, rendered) if info else ""
            except Exception as error:
                lines.flush()  # the ERROR line goes after the lines of the records before it
                # Anything but a RecordError is a bug of ours: still report the record, never lose it.
                reason = str(error) if type(error) is RecordError else f"unexpected {type(error).__name__}"
                failures.append(_report_failure(record, reason, invocation.request_id))
                # Fail fast: Lambda redelivers every record from this one on, so the ones after
                # it are logged then, once, rather than now and again on every retry.
                break
            if line:
                lines.add(line)
            counts[record["eventName"]] += 1
        lines.add(_metrics_line(counts, len(failures)))
    finally:
        lines.flush()
    return {"batchItemFailures": failures}
