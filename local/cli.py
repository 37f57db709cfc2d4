"""``python -m local``: the pipeline on this machine, from a table write to the function's log line.

This module sets the run up from the template and runs it, with its exit status; the command
line is in local/arguments.py, the run's writes and readers in local/run.py, its report in
local/summary.py.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from local import archive, backend, items, poison
from local.arguments import ROOT, build_parser
from local.failure_bucket import FailureBucket
from local.filtering import FilterError, compile_patterns
from local.function import LoggedFunction
from local.lambda_context import FunctionIdentity
from local.lambda_logs import kept
from local.notifications import LABEL, LocalTopic
from local.output import Printer, Progress
from local.poller import Poller, StopRun
from local.run import Run, play
from local.stack_model import FunctionSettings, MappingSettings, StackModel, TemplateError
from local.story import check_story_keys, story
from local.summary import describe_mapping, shown_path, summary
from local.template import load, read, synthesize
from stacks.table_stream_logger.operations.lambda_environment import runtime_client_version
from stacks.table_stream_logger.operations.lambda_runtime import LambdaRuntime

# The exit status of a run whose output was closed, as for a program stopped by SIGPIPE.
OUTPUT_CLOSED = 141


class Terminated(KeyboardInterrupt):
    """The run got SIGTERM: it stops as on Ctrl-C, and exits 143 as a program stopped by it."""


TERMINATED = 143


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


class OutputClosed(StopRun):
    """The reader of the log lines went away (``make local | head -1``): nothing more can be shown."""


@contextlib.contextmanager
def _closed_output_stops_run() -> Iterator[None]:
    """A closed output stops the run rather than failing the function's invocation."""
    try:
        yield
    except BrokenPipeError:
        raise OutputClosed("the output was closed (broken pipe)") from None


def _until_closed(show: Callable[[list[str]], None]) -> Callable[[list[str]], None]:
    """``show``, with a closed output stopping the run."""

    def sink(lines: list[str]) -> None:
        with _closed_output_stops_run():
            show(lines)

    return sink


def main(
    argv: list[str] | None = None,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    arguments = build_parser().parse_args(argv)
    progress = Progress(stderr, quiet=arguments.quiet)
    started = time.monotonic()
    # SIGTERM (a container's or CI's stop, `kill`) ends the run as Ctrl-C does: the invocation in
    # flight is reported, the summary printed with what is pending.
    main_thread = threading.current_thread() is threading.main_thread()  # where signals can be handled
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        # Read before synthesizing, so that a missing file is reported at once.
        items_text = arguments.items.read_text() if arguments.items else None
        with ExitStack() as stack:
            model = _model(arguments, stack, progress)
            operations = (
                items.read_items(arguments.items, items_text, model.table.key_types)
                if items_text is not None
                else _story(arguments, model, clock())
            )
            if (arguments.endpoint_url or arguments.stack_name) and any(op["op"] == "poison" for _, op in operations):
                raise items.ItemsError(poison.ONLY_ON_MOTO)  # before anything is written
            run = _start(arguments, model, stack, stdout, progress, clock, sleep)
            try:
                play(arguments, model, run, operations, stdin, stderr, progress, clock)
            except Terminated:
                progress("terminated (SIGTERM)")
                return summary(run, model, progress, time.monotonic() - started, stopped=TERMINATED)
            except KeyboardInterrupt:
                progress("interrupted")
            return summary(run, model, progress, time.monotonic() - started)
    except OutputClosed as error:
        stderr.write(f"stopped: {error}; the records not shown yet were neither retried nor parked\n")
        return OUTPUT_CLOSED
    except (
        TemplateError,
        backend.BackendError,
        items.ItemsError,
        FilterError,
        OSError,
        BotoCoreError,
        ClientError,
    ) as error:
        stderr.writelines(f"error: {line}\n" for line in str(error).splitlines())
        return 2
    except Terminated:  # before the run started: nothing to account for
        return TERMINATED
    except KeyboardInterrupt:
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _story(arguments: argparse.Namespace, model: StackModel, now: float) -> list[tuple[str, dict[str, Any]]]:
    """The tutorials' story, when the run plays it: on a table of its keys only."""
    if not (arguments.interactive or arguments.tail or arguments.stack_name):
        check_story_keys(model.table.key_types)
    return [("the story", operation) for operation in story(now, model.table.ttl_attribute)]


def _model(arguments: argparse.Namespace, stack: ExitStack, progress: Progress) -> StackModel:
    if arguments.template:
        path = arguments.template
    else:
        began = time.monotonic()
        outdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="local-cdk-out-")))
        path = synthesize(ROOT, outdir)
        progress(f"synthesized {path.name} in {time.monotonic() - began:.1f} s")
    model = read(load(path), path.name.removesuffix(".template.json"), path.parent)
    for note in model.notes:
        progress(note)
    return model


def _start(
    arguments: argparse.Namespace,
    model: StackModel,
    stack: ExitStack,
    stdout: TextIO,
    progress: Progress,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Run:
    position = arguments.starting_position or ("LATEST" if arguments.stack_name else model.mapping.starting_position)
    settings = dataclasses.replace(model.mapping, starting_position=position)

    embedded = not arguments.stack_name and not arguments.endpoint_url
    # The logger's failure bucket is one in moto's S3, except for a deployed stack, whose bucket is real.
    bucket_name = (
        model.failure_bucket_name if model.function.failure_bucket_variables and not arguments.stack_name else None
    )
    if embedded:
        stack.enter_context(backend.embedded())
    session = backend.session(None, arguments.endpoint_url)
    # What the functions call from their own processes: moto's S3 and SNS, as a local server.
    services = stack.enter_context(backend.local_services(session.region_name))
    dynamodb = session.client("dynamodb", endpoint_url=arguments.endpoint_url)
    # DynamoDB Local serves both APIs on one port.
    streams = session.client("dynamodbstreams", endpoint_url=arguments.endpoint_url)
    table_name, stream_arn = _table(arguments, model, session, dynamodb, progress)
    progress(describe_mapping(settings))

    shown = arguments.format or ("pretty" if stdout.isatty() else "json")
    writer = archive.ArchiveWriter(arguments.archive, clock) if arguments.archive else None
    failure_bucket = FailureBucket(services.client("s3"), bucket_name, arguments.failures) if bucket_name else None
    version = runtime_client_version()

    def reader(
        mapping: MappingSettings,
        function: FunctionSettings,
        function_name: str,
        label: str = "",
        writer: archive.ArchiveWriter | None = None,
    ) -> tuple[Poller, LoggedFunction, LocalTopic | None]:
        say: Callable[[str], None] = (lambda line: progress(f"{label}: {line}")) if label else progress
        environment = dict(function.environment)
        # The failure bucket's name, where the run has a bucket for it (see _failure_bucket_note).
        bucket = failure_bucket if mapping.failure_bucket == model.mapping.failure_bucket else None
        for variable in function.failure_bucket_variables:
            say(_failure_bucket_note(variable, str(mapping.failure_bucket), bucket, arguments))
            if bucket is not None:
                environment[variable] = bucket.name
        topic = None
        if "TOPIC_ARN" in function.environment:  # what the alerts publish to: a topic of the local services
            name = function.environment["TOPIC_ARN"].rpartition(":")[2]
            topic = LocalTopic(services.client("sns"), services.client("sqs"), name, shown, stdout)
            environment["TOPIC_ARN"] = topic.arn
        config = function.config(function_name, session.region_name, environment)
        runtime = stack.enter_context(LambdaRuntime(config, environment=services.function_environment))
        say(
            f"runtime: awslambdaric {version}, {function.runtime} environment from the template, "
            f"asset {shown_path(config.code)}"
        )
        level = function.application_log_level
        output: Callable[[list[str]], None] = Printer(shown, stdout, keep=lambda line: kept(line, level))
        if writer is not None:  # the archive keeps the logger's change lines
            output = archive.tee(output, writer)
        sink = _until_closed(output)
        captured = LoggedFunction(runtime, sink, before_lines=_before_lines(bucket, topic, function))
        poller = Poller(
            backend.StreamsSource(streams, stream_arn, session.region_name),
            dataclasses.replace(mapping, starting_position=position),
            captured,
            FunctionIdentity(
                function_name, session.region_name, memory_mb=function.memory_size, timeout=function.timeout
            ),
            failure_folder=arguments.failures,
            filter_record=compile_patterns(mapping.filter_patterns),
            clock=clock,
            sleep=sleep,
            on_progress=say,
            on_delivered=captured.settle,
        )
        poller.start()  # as creating the mapping does: LATEST means after this
        return poller, captured, topic

    poller, captured, _ = reader(model.mapping, model.function, model.function_name, writer=writer)
    run = Run(
        dynamodb,
        table_name,
        poller,
        captured,
        writer,
        ttl_attribute=model.table.ttl_attribute,
        simulate_ttl=embedded,
        failure_bucket=failure_bucket,
    )
    for other in model.others:
        name = other.function_name(model.stack_name)
        other_poller, _, topic = reader(other.mapping, other.function, name, label=other.function.logical_id)
        run.others.append((other_poller, topic))
        if topic is not None:
            progress(f"{other.function.logical_id} reads the stream too; its notifications print as {LABEL!r}")
    return run


def _table(
    arguments: argparse.Namespace, model: StackModel, session: Any, dynamodb: Any, progress: Progress
) -> tuple[str, str]:
    """The table the run reads, the deployed stack's or one it creates: its name and its stream's ARN."""
    if arguments.stack_name:
        cloudformation = session.client("cloudformation", endpoint_url=arguments.endpoint_url)
        table_name = backend.deployed_table(cloudformation, arguments.stack_name, model.table.logical_id)
        stream_arn = backend.table_stream(dynamodb, table_name)
        progress(f"reading {table_name} of the deployed stack {arguments.stack_name}")
    else:
        table_name = arguments.table_name or model.table_name
        stream_arn = backend.create_table(dynamodb, model.table, table_name)
        where = arguments.endpoint_url or "moto (in this process)"
        keys = ", ".join(model.table.key_names)
        progress(f"created {table_name} in {where}: keys {keys}, stream {model.table.stream_view_type}")
    return table_name, stream_arn


def _failure_bucket_note(
    variable: str, bucket_id: str, bucket: FailureBucket | None, arguments: argparse.Namespace
) -> str:
    """What a variable naming the failure bucket is locally: moto's bucket, or unset and why."""
    if bucket is not None:
        where = (
            f"locally {bucket.name}, a bucket in moto (in this process), copied into "
            f"{shown_path(bucket.folder)}/ as each invocation ends"
        )
    elif arguments.stack_name:
        where = "left unset locally, as the local handler writes nothing to the deployed stack's bucket"
    else:
        where = "left unset locally, as only the logger's failure bucket has a local stand-in"
    return f"environment variable {variable} is {json.dumps({'Ref': bucket_id})} at deploy time: {where}"


def _before_lines(
    bucket: FailureBucket | None, topic: LocalTopic | None, function: FunctionSettings
) -> Callable[[], None]:
    """What to do as an invocation ends, before its lines are shown.

    Copy what it wrote to the failure bucket (a line never names a missing file), and print the
    notifications it published.
    """

    def before() -> None:
        if bucket is not None and function.failure_bucket_variables:
            bucket.copy_new()
        if topic is not None:
            with _closed_output_stops_run():  # the notifications print to the same output
                topic.show()

    return before
