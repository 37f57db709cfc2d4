"""Run every benchmark side by side, print one table, and write it to bench/RESULTS.md.

    .venv/bin/python -m bench            # everything (make bench)
    .venv/bin/python -m bench --quick    # without the 10,000 batch, `make test` and `.ci/run`; to bench/.data/

Absolute times on a shared machine are noise, so every figure that matters is a ratio of
variants measured in the same run: each round runs every variant once, in a rotating
order, and a ratio is taken within a round (min and max over rounds) and between the best
rounds.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import importlib.metadata
import io
import json
import logging
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

from bench import costs, data
from local.lambda_context import LambdaContext
from stacks.table_stream_logger.operations.lambda_environment import FunctionConfig, lambda_environment

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
LAMBDA = ROOT / "lambda"
VENV_BIN = ROOT / ".venv" / "bin"
NODE = VENV_BIN / "node"
CDK = ROOT / "node_modules" / ".bin" / "cdk"
RESULTS = BENCH / "RESULTS.md"
# A --quick run's partial results: beside the data, untracked, never over RESULTS.md.
QUICK_RESULTS = DATA / "RESULTS-quick.md"

# The function's environment, as TableStreamLogger sets it for InventoryStack (a stack test pins it).
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "inventory",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_METRICS_NAMESPACE": "TableStreamLogger",
    "LOG_IMAGES": "NEW_AND_CHANGES",
    "LOG_CONTEXT_KEYS": "ONCE",
    "REDACT_ATTRIBUTES": "[]",
    "KEY_ATTRIBUTES": '["PK","SK"]',
}
# What the handler sees in Lambda: those variables and the ones Lambda derives from the function's
# configuration (AWS_LAMBDA_LOG_LEVEL=INFO, AWS_LAMBDA_LOG_FORMAT=JSON, ...), as make local sets
# them. The handler is timed in this process, not under awslambdaric: a process per call would
# time the harness.
FUNCTION_NAME = "InventoryStack-InventoryLoggerFunction1A2B3C4D-AbCdEfGh1234"
LAMBDA_RUNTIME_ENV = lambda_environment(
    FunctionConfig(
        name=FUNCTION_NAME,
        handler="stream_logger.handler",
        code=LAMBDA,
        memory_size=256,
        timeout=30,
        environment=LAMBDA_ENV,
        log_format="JSON",
        application_log_level="INFO",
    ),
    runtime_api="127.0.0.1:9001",
    log_stream="2026/12/02/[$LATEST]00000000000000000000000000000000",
)
# The Makefile's environment for the CDK CLI: no telemetry, no version check, home inside.
CDK_ENV = {
    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "CDK_HOME": str(ROOT / ".cdk-home"),
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "true",
}
X, DASH = "\u00d7", "\u2013"  # the multiplication sign and the en dash of the table
# Each measurement covers at least this many records (the 100 batch runs 10 times).
MIN_RECORDS = 1000


@dataclass(frozen=True)
class Batch:
    size: int
    shape: str = "inventory"  # see bench/data.py

    @property
    def label(self) -> str:
        return f"batch {self.size:,}" + ("" if self.shape == "inventory" else f" of {self.shape}-sized items")


BYTES_BATCH = Batch(1000)  # log bytes are reported for this batch
PROFILE_BATCH = Batch(1000)
COLD_START_RUNS = 11
SYNTH_RUNS = 5
MAKE_TEST_RUNS = 3
# What the tests and .ci/run are run with, taken before this process sets the function's environment.
STARTING_ENVIRONMENT = dict(os.environ)

# The goals of issue #27: the suite in two minutes, .ci/run in eight, synth within 1.3x a one-table app.
MAKE_TEST_GOAL_S = 120
CI_RUN_GOAL_S = 480
SYNTH_GOAL = 1.3


@dataclass(frozen=True)
class Variant:
    label: str
    runtime: str  # "python" or "node"
    option: str  # LOG_IMAGES for ours; the variant of node_handler.mjs; "" for Powertools


OURS = [Variant(f"ours {mode}", "python", mode) for mode in ("NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES")]
POWERTOOLS = Variant("Powertools idiomatic", "python", "")
NODE_NEW = Variant("Node NewImage-guarded", "node", "new-image")
NODE_BOTH = Variant("Node both images", "node", "both-images")
NODE_EVENT = Variant("Node JSON.stringify(event, null, 2)", "node", "event")
VARIANTS = [*OURS, POWERTOOLS, NODE_NEW, NODE_BOTH, NODE_EVENT]
BASELINE = NODE_BOTH  # handler time ratios are to this one
BYTES_BASELINE = NODE_EVENT


@dataclass
class Measured:
    """One variant on one batch, over all rounds."""

    ns_per_record: list[float] = field(default_factory=list)
    bytes_per_record: float = 0.0
    failed: float = 0.0  # records per invocation that could not be logged
    elided: int = 0  # records whose log shows nested values as [Object]
    # Ours only, per record line: bytes besides the item (its keys, also where the message names
    # them; its images; its changes and `changed`), and besides the images and changes alone.
    overhead: float = 0.0
    overhead_strict: float = 0.0
    late_bytes_per_record: float = 0.0  # ours only: every record logged a minute or more late
    compression: float = 0.0  # gzip's compressed size / raw size of the log, as CloudWatch stores it


# --- the Python handlers, in-process ------------------------------------------------
class LambdaStdout:
    """stdout as Lambda's Python runtime sets it up: every write is flushed at once."""

    def __init__(self, file: TextIO) -> None:
        self._file = file

    def write(self, text: str) -> int:
        written = self._file.write(text)
        self._file.flush()
        return written

    def flush(self) -> None:
        self._file.flush()


class PythonHandlers:
    """Our handler and Powertools' idiomatic one, imported with the function's environment."""

    def __init__(self) -> None:
        os.environ.update(LAMBDA_RUNTIME_ENV)
        sys.path.insert(0, str(LAMBDA))
        import line_render
        import stream_logger
        from bench import idiomatic

        self.ours = stream_logger
        self.rendering = line_render  # where LOG_IMAGES is read
        self.idiomatic = idiomatic
        # Both Loggers are "inventory": they may share one logging handler.
        self.log_handlers = {
            cast(logging.StreamHandler[Any], stream_logger.logger.registered_handler),
            cast(logging.StreamHandler[Any], idiomatic.logger.registered_handler),
        }

    def handler(self, variant: Variant) -> Callable[[Any, Any], Any]:
        if variant is POWERTOOLS:
            return cast(Callable[[Any, Any], Any], self.idiomatic.handler)
        self.rendering.LOG_IMAGES = variant.option
        return cast(Callable[[Any, Any], Any], self.ours.handler)

    @contextmanager
    def stdout_to(self, path: Path) -> Iterator[None]:
        """stdout and the Loggers' stream to a fresh file on disk, as in the conftest's invoke."""
        with open(path, "w", encoding="utf-8") as file:
            out = cast(TextIO, LambdaStdout(file))
            previous_stdout, sys.stdout = sys.stdout, out
            previous_streams = [(handler, handler.setStream(out)) for handler in self.log_handlers]
            try:
                yield
            finally:
                sys.stdout = previous_stdout
                for handler, stream in previous_streams:
                    handler.setStream(stream)

    def run(self, variant: Variant, event: dict[str, Any], log: Path, repeats: int) -> tuple[int, Any]:
        handler = self.handler(variant)
        with self.stdout_to(log):
            start = time.perf_counter_ns()
            for _ in range(repeats):
                response = handler(event, LambdaContext(function_name=FUNCTION_NAME))
            elapsed = time.perf_counter_ns() - start
        return elapsed, response


def _check_python(variant: Variant, response: Any, log: Path, records: int) -> list[str]:
    """Every record logged, every line JSON: a benchmark of a broken handler is worthless."""
    if response != {"batchItemFailures": []}:
        raise SystemExit(f"{variant.label}: records failed: {response}")
    lines = log.read_text(encoding="utf-8").splitlines()
    for line in lines:
        json.loads(line)
    expected = records + 2 if variant in OURS else records  # ours adds the invocation and metrics lines
    if len(lines) != expected:
        raise SystemExit(f"{variant.label}: {len(lines)} log lines for {records} records")
    return lines


def _compression(log: Path) -> float:
    data = log.read_bytes()
    return len(gzip.compress(data)) / len(data) if data else 0.0


# The members of a record line that are the item, counted strictly, and with `changed` (the
# names of the changes).
STRICT_ITEM = ("keys", "new_image", "old_image", "changes")
ITEM = (*STRICT_ITEM, "changed")


def _overhead(lines: list[str], *, strict: bool = False) -> float:
    """Bytes per record line that are not the item: what placing and naming the change costs.

    The item is its keys (also the key values the message names it by), its images, its
    changes and `changed`; ``strict`` counts as the item only the members keys, new_image,
    old_image and changes.
    """
    records = [json.loads(line) for line in lines if '"event_name"' in line]
    total = sum(len(line.encode()) for line in lines if '"event_name"' in line)
    payload = 0
    for entry in records:
        for name in STRICT_ITEM if strict else ITEM:
            if name in entry:
                payload += len(
                    f'"{name}":{json.dumps(entry[name], ensure_ascii=False, separators=(",", ":"))},'.encode()
                )
        if not strict:
            payload += sum(len(str(value).encode()) for value in entry["keys"].values())
    return (total - payload) / len(records)


def _stamp(event: dict[str, Any], created: int) -> dict[str, Any]:
    """Give every record of the event this creation time (seconds since 1970)."""
    for record in event["Records"]:
        record["dynamodb"]["ApproximateCreationDateTime"] = created
    return event


def _run_node(variant: Variant, batch: Path, size: int, log: Path, repeats: int) -> dict[str, Any]:
    warmups = max(1, 2 * MIN_RECORDS // size)  # enough for V8 to optimise the hot functions
    with open(log, "w", encoding="utf-8") as file:
        done = subprocess.run(
            [str(NODE), str(BENCH / "node_handler.mjs"), variant.option, str(batch), str(repeats), str(warmups)],
            stdout=file,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
            cwd=ROOT,
        )
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def time_handlers(
    python: PythonHandlers, batches: dict[Batch, Path], rounds: int
) -> dict[tuple[Batch, Variant], Measured]:
    events = {batch: json.loads(path.read_text(encoding="utf-8")) for batch, path in batches.items()}
    results = {(batch, variant): Measured() for batch in batches for variant in VARIANTS}
    log = DATA / "log.txt"

    # Untimed: warm the Python handlers up and check what they log. Every Python run logs the
    # batch as a live stream does, within a second of the changes; ours once more an hour late
    # (a backlog, a redrive), when each line also carries its change's time.
    for batch, event in events.items():
        for variant in VARIANTS:
            if variant.runtime == "python":
                _, response = python.run(variant, _stamp(event, int(time.time())), log, 1)
                lines = _check_python(variant, response, log, batch.size)
                results[batch, variant].compression = _compression(log)
                if variant in OURS:
                    results[batch, variant].overhead = _overhead(lines)
                    results[batch, variant].overhead_strict = _overhead(lines, strict=True)
                    python.run(variant, _stamp(event, int(time.time()) - 3600), log, 1)
                    results[batch, variant].late_bytes_per_record = log.stat().st_size / batch.size

    for round_number in range(rounds):
        shift = round_number % len(VARIANTS)
        order = VARIANTS[shift:] + VARIANTS[:shift]
        for batch, path in batches.items():
            size = batch.size
            repeats = max(1, MIN_RECORDS // size)
            for variant in order:
                measured = results[batch, variant]
                if variant.runtime == "python":
                    elapsed, _ = python.run(variant, _stamp(events[batch], int(time.time())), log, repeats)
                    measured.bytes_per_record = log.stat().st_size / (repeats * size)
                else:
                    node = _run_node(variant, path, size, log, repeats)
                    elapsed = node["ns"]
                    measured.bytes_per_record = node["bytes"] / size
                    measured.failed, measured.elided = node["failed"], node["elided"]
                    if not measured.compression:
                        measured.compression = _compression(log)
                measured.ns_per_record.append(elapsed / (repeats * size))
        print(f"  round {round_number + 1}/{rounds} done", file=sys.stderr)
    return results


def profile_ours(python: PythonHandlers, batch: Path, top: int = 15) -> tuple[str, list[tuple[str, float]]]:
    """cProfile of our handler (the default mode) on one batch: the top functions, and the top 3's share of own time."""
    event = json.loads(batch.read_text(encoding="utf-8"))
    handler = python.handler(OURS[0])
    profiler = cProfile.Profile()
    with python.stdout_to(DATA / "log.txt"):
        profiler.enable()
        handler(event, LambdaContext(function_name=FUNCTION_NAME))
        profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    lines = text.getvalue().strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    total = cast(float, stats.total_tt)  # type: ignore[attr-defined]
    own_times = {func: own for func, (_, _, own, _, _) in stats.stats.items()}  # type: ignore[attr-defined]
    top_three = sorted(own_times, key=own_times.__getitem__, reverse=True)[:3]
    shares = [(_function_name(func), own_times[func] / total) for func in top_three]
    return "\n".join([lines[0].strip(), "", *lines[start:]]), shares


def _function_name(func: tuple[str, int, str]) -> str:
    file, line, name = func
    return name if file == "~" else f"{Path(file).name}:{line}({name})"


# --- cold start, synth, make test ---------------------------------------------------
IMPORT_TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
COLD_MODULES = ("stream_logger", "aws_lambda_powertools.logging")


def cold_start(runs: int = COLD_START_RUNS) -> dict[str, list[float]]:
    """Import time of each module in fresh processes, alternating; seconds."""
    env = {**os.environ, **LAMBDA_RUNTIME_ENV, "PYTHONPATH": str(LAMBDA)}
    times: dict[str, list[float]] = {module: [] for module in COLD_MODULES}
    for run in range(runs):
        for module in COLD_MODULES if run % 2 == 0 else reversed(COLD_MODULES):
            done = subprocess.run(
                [sys.executable, "-c", IMPORT_TIMER.format(module=module)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            times[module].append(float(done.stdout))
    return times


SYNTH_APPS = {"app": [], "minimal": ["--app", "python3 bench/minimal_app.py"]}


def synth_times(runs: int = SYNTH_RUNS) -> dict[str, list[float]]:
    """Wall time of `cdk synth --quiet` of the app and of the one-table app, alternating."""
    env = {**os.environ, **CDK_ENV}
    times: dict[str, list[float]] = {name: [] for name in SYNTH_APPS}
    for run in range(runs):
        for name in SYNTH_APPS if run % 2 == 0 else reversed(SYNTH_APPS):
            with tempfile.TemporaryDirectory(prefix="bench-synth-") as out:
                start = time.perf_counter()
                subprocess.run(
                    [str(CDK), "synth", "--quiet", "-o", out, *SYNTH_APPS[name]],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                times[name].append(time.perf_counter() - start)
    return times


PYTEST_SUMMARY = re.compile(r"=+ .*\b(passed|failed|errors?)\b.* in [0-9.]+s")


@dataclass(frozen=True)
class Timed:
    """Wall times of a command's runs, the worst exit code and the last run's summary."""

    seconds: list[float]
    code: int
    summary: str


def timed_command(command: list[str], log_name: str, runs: int = 1) -> Timed:
    """Wall time of ``command`` (a Makefile target, .ci/run) run ``runs`` times, one after another.

    The last run's output is kept in bench/.data/<log_name>.
    """
    # The environment this process started with: not the function's, nor the variables Lambda
    # derives for it (AWS_LAMBDA_LOG_LEVEL, ...), which it set for the handler: the tests would
    # run as if inside Lambda.
    env = dict(STARTING_ENVIRONMENT)
    seconds, code, output = [], 0, ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        code = max(code, done.returncode)
        output = done.stdout + done.stderr
    (DATA / log_name).write_text(output, encoding="utf-8")
    summaries = [line.strip("= ") for line in output.splitlines() if PYTEST_SUMMARY.match(line)]
    return Timed(seconds, code, summaries[-1] if summaries else "no pytest summary")


def timed_row(measure: str, variant: str, timed: Timed, goal_s: float, log_name: str) -> Row:
    median = statistics.median(timed.seconds)
    failed = "" if timed.code == 0 else f"; output in bench/.data/{log_name}"
    return Row(
        measure,
        variant,
        _s(timed.seconds),
        goal=f"≤ {goal_s} s",
        met=_met(median, goal_s) + ("" if timed.code == 0 else " (but it failed)"),
        note=f"exit {timed.code}: {timed.summary}{failed}",
    )


# --- the machine and the versions ------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or platform.machine(),
    )
    try:
        system = platform.freedesktop_os_release()["PRETTY_NAME"]
    except OSError:
        system = platform.system()
    node = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()

    def npm_version(package: str) -> str:
        manifest = json.loads((ROOT / "node_modules" / package / "package.json").read_text())
        return str(manifest["version"])

    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "OS": f"{system}, Linux {platform.release()}",
        "Python": platform.python_version(),
        "Node.js": node.lstrip("v"),
        "aws-lambda-powertools": importlib.metadata.version("aws-lambda-powertools"),
        "@aws-sdk/util-dynamodb": npm_version("@aws-sdk/util-dynamodb"),
        "aws-cdk-lib": importlib.metadata.version("aws-cdk-lib"),
        "CDK CLI (aws-cdk)": npm_version("aws-cdk"),
    }


# --- the table -------------------------------------------------------------------
@dataclass
class Row:
    measure: str
    variant: str
    result: str
    ratio: str = ""
    goal: str = ""
    met: str = ""
    note: str = ""


def _met(value: float, limit: float) -> str:
    return "yes" if value <= limit else "**no**"


def _ratio(value: float) -> str:
    return f"{value:.2f}{X}"


def handler_rows(results: dict[tuple[Batch, Variant], Measured], batches: dict[Batch, Path]) -> list[Row]:
    rows = []
    for batch, path in batches.items():
        event = json.loads(path.read_text(encoding="utf-8"))
        baseline = results[batch, BASELINE].ns_per_record
        for variant in VARIANTS:
            times = results[batch, variant].ns_per_record
            per_round = [mine / theirs for mine, theirs in zip(times, baseline, strict=True)]
            best = min(times) / min(baseline)
            row = Row(
                f"handler µs/record, {batch.label}",
                variant.label,
                f"{min(times) / 1000:.1f} (max {max(times) / 1000:.1f})",
                f"{_ratio(best)} ({min(per_round):.2f}{DASH}{max(per_round):.2f})",
            )
            if variant in OURS and batch.shape == "inventory":
                row.goal, row.met = f"≤ 1.0{X}", _met(best, 1.0)
                row.note = "every record logged, numbers exact"
            elif variant in OURS:
                row.note = (
                    "every record logged, numbers exact; no goal: on small items the fixed work per record weighs most"
                )
            elif variant is POWERTOOLS:
                row.note = f"issue's figure: about 3.3{X}; numbers and sets logged as strings"
            elif variant.runtime == "node" and variant is not NODE_EVENT:
                row.note = _node_note(results[batch, variant], variant, event)
            rows.append(row)
    return rows


def _node_note(measured: Measured, variant: Variant, event: dict[str, Any]) -> str:
    images = ("NewImage",) if variant is NODE_NEW else ("NewImage", "OldImage")
    rounded = sum(1 for record in event["Records"] if data.js_record_fate(record, images) == "rounded")
    return (
        f"{measured.failed:,.0f} records not logged (unmarshall threw), {rounded:,} with numbers rounded, "
        f"{measured.elided:,} with nested values shown as [Object]"
    )


def bytes_rows(results: dict[tuple[Batch, Variant], Measured]) -> list[Row]:
    baseline = results[BYTES_BATCH, BYTES_BASELINE].bytes_per_record
    # CHANGES: every line still carries what places the change (level, timestamp, message,
    # request id, event name, sequence number, keys): about 250 bytes that no mode can drop.
    goals = {"NEW_AND_CHANGES": 0.25, "CHANGES": 0.15}
    rows = []
    for variant in VARIANTS:
        size = results[BYTES_BATCH, variant].bytes_per_record
        row = Row(f"log bytes/record, {BYTES_BATCH.label}", variant.label, f"{size:,.0f}", _ratio(size / baseline))
        if variant in OURS:
            late = results[BYTES_BATCH, variant].late_bytes_per_record
            row.note = (
                f"invocation and metrics lines included, amortised; logged live (within a second of the change); "
                f"{late:,.0f} when logged an hour late (each line then carries the change's time)"
            )
            if variant.option in goals:
                row.goal, row.met = f"≤ {goals[variant.option]:.2f}{X}", _met(size / baseline, goals[variant.option])
        elif variant.runtime == "node":
            row.note = "1.00 = the baseline" if variant is BYTES_BASELINE else "console.log output, multi-line"
        rows.append(row)
    default = results[BYTES_BATCH, OURS[0]]
    rows.append(
        Row(
            f"bytes per line besides keys, images, changes, {BYTES_BATCH.label}",
            OURS[0].label,
            f"{default.overhead:.0f}",
            goal="≤ 200",
            met=_met(default.overhead, 200),
            note=(
                "level, timestamp, message less the key values it names, request id, event name, sequence number; "
                f"{default.overhead_strict:.0f} counting the message's key values and `changed` too"
            ),
        )
    )
    return rows


COST_VARIANTS = [*OURS, POWERTOOLS, NODE_BOTH, NODE_NEW, NODE_EVENT]


def cost_table(results: dict[tuple[Batch, Variant], Measured]) -> str:
    """USD per million changes, from the measured bytes and time per record of BYTES_BATCH."""
    header = [
        "handler",
        "bytes/change",
        "Logs ingestion",
        "Logs storage, 1 month",
        "Lambda requests",
        "Lambda compute",
        "total",
        "total, infrequent access",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for variant in COST_VARIANTS:
        measured = results[BYTES_BATCH, variant]
        seconds = min(measured.ns_per_record) / 1e9
        cost = costs.per_million_changes(measured.bytes_per_record, seconds, measured.compression)
        infrequent = costs.per_million_changes(
            measured.bytes_per_record,
            seconds,
            measured.compression,
            ingestion_usd_per_gb=costs.LOGS_INFREQUENT_ACCESS_INGESTION_USD_PER_GB,
        )
        cells = [cost.ingestion, cost.storage_month, cost.requests, cost.compute, cost.total, infrequent.total]
        lines.append(
            f"| {variant.label} | {measured.bytes_per_record:,.0f} | " + " | ".join(f"{c:.4f}" for c in cells) + " |"
        )
    return "\n".join(lines)


def archive_cost_table(results: dict[tuple[Batch, Variant], Measured]) -> str:
    """USD per million changes for each log class, with and without a year of archive."""
    header = ["log_images", "log class", "without archive", "with a year of archive"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for variant in (OURS[0], OURS[-1]):
        measured = results[BYTES_BATCH, variant]
        seconds = min(measured.ns_per_record) / 1e9
        archive = costs.archive_per_million_changes(measured.bytes_per_record, measured.compression)
        for label, price in (
            ("STANDARD", costs.LOGS_INGESTION_USD_PER_GB),
            ("INFREQUENT_ACCESS", costs.LOGS_INFREQUENT_ACCESS_INGESTION_USD_PER_GB),
        ):
            total = costs.per_million_changes(
                measured.bytes_per_record, seconds, measured.compression, ingestion_usd_per_gb=price
            ).total
            # The archive needs a subscription filter, which INFREQUENT_ACCESS does not have.
            with_archive = f"{total + archive:.4f}" if label == "STANDARD" else "not possible"
            lines.append(f"| {variant.option} | {label} | {total:.4f} | {with_archive} |")
    return "\n".join(lines)


def _median_row(
    measure: str, label: str, times: list[float], base: list[float], limit: float, show: Callable[[list[float]], str]
) -> Row:
    ratio = statistics.median(times) / statistics.median(base)
    return Row(measure, label, show(times), _ratio(ratio), f"≤ {limit}{X}", _met(ratio, limit))


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:.0f} ms ({min(times) * 1000:.0f}{DASH}{max(times) * 1000:.0f})"


def _s(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} s ({min(times):.1f}{DASH}{max(times):.1f})"


def render_table(rows: list[Row]) -> str:
    header = [
        "measure",
        "variant",
        "result: best (max), or median (range)",
        "ratio (range)",
        "goal",
        "met?",
        "notes",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        cells = [row.measure, row.variant, row.result, row.ratio, row.goal, row.met, row.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000 batch, `make test` and `.ci/run`")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the handler benchmark (default: 7)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    sizes = (100, 1000) if args.quick else (100, 1000, 10000)
    wanted = [*(Batch(size) for size in sizes), Batch(1000, "tutorial")]
    print(f"Writing the batches ({', '.join(batch.label for batch in wanted)}) to {DATA}", file=sys.stderr)
    batches = {batch: data.write_batch(DATA, batch.size, batch.shape) for batch in wanted}
    print(f"Timing the handlers, {args.rounds} rounds", file=sys.stderr)
    python = PythonHandlers()
    results = time_handlers(python, batches, args.rounds)
    profile, shares = profile_ours(python, batches[PROFILE_BATCH])
    print(f"Cold start: {COLD_START_RUNS} fresh processes per module", file=sys.stderr)
    imports = cold_start()
    print(f"Synth: {SYNTH_RUNS} runs per app", file=sys.stderr)
    synth = synth_times()
    tests = None if args.quick else timed_command(["make", "test"], "make-test.log", MAKE_TEST_RUNS)
    # .ci/run as CI runs it (TSL_REQUIRE_ALL=1), in this tree: after `make test`, so installed.
    ci = None if args.quick else timed_command(["bash", ".ci/run"], "ci-run.log")

    rows = handler_rows(results, batches) + bytes_rows(results)
    rows.append(
        _median_row(
            f"cold start: import, median of {COLD_START_RUNS}",
            "`import stream_logger`",
            imports["stream_logger"],
            imports["aws_lambda_powertools.logging"],
            1.5,
            _ms,
        )
    )
    rows.append(Row("", "`import aws_lambda_powertools.logging`", _ms(imports["aws_lambda_powertools.logging"])))
    rows.append(
        _median_row(f"`cdk synth`, median of {SYNTH_RUNS}", "the app", synth["app"], synth["minimal"], SYNTH_GOAL, _s)
    )
    rows.append(Row("", "one-table app", _s(synth["minimal"])))
    if tests is not None:
        rows.append(
            timed_row(
                f"`make test` wall time, median of {MAKE_TEST_RUNS}",
                "whole suite",
                tests,
                MAKE_TEST_GOAL_S,
                "make-test.log",
            )
        )
    if ci is not None:
        rows.append(
            timed_row("`.ci/run` wall time, one run", "test, scan, synth, lint, docs", ci, CI_RUN_GOAL_S, "ci-run.log")
        )
    table = render_table(rows)
    duration = time.perf_counter() - started
    print(table)
    costs_md = (
        cost_table(results)
        + "\n\nWith the archive (`archive=True`: Firehose and a year in S3):\n\n"
        + archive_cost_table(results)
    )
    print("\n" + costs_md)
    results_file = results_path(quick=args.quick)
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(_results_md(table, rows, profile, shares, args, duration, costs_md), encoding="utf-8")
    print(f"\nWritten to {results_file.relative_to(ROOT)} in {duration:.0f} s", file=sys.stderr)
    return 0


def results_path(*, quick: bool) -> Path:
    """Only a full run rewrites the tracked RESULTS.md."""
    return QUICK_RESULTS if quick else RESULTS


def _closing_note(rows: list[Row], shares: list[tuple[str, float]]) -> str:
    """The goals missed, grouped by measure, and where our handler's time goes."""
    missed: dict[str, list[Row]] = {}
    for row in rows:
        if row.met.startswith("**no"):
            missed.setdefault(f"{row.measure} (goal {row.goal})", []).append(row)
    if not missed:
        return "**All goals are met.**"
    lines = ["**Goals missed:**", ""]
    for measure, misses in missed.items():
        figures = "; ".join(f"{row.variant} {(row.ratio or row.result).split(' (')[0]}" for row in misses)
        lines.append(f"- {measure}: {figures}")
    where = ", ".join(f"`{name}` {share:.0%}" for name, share in shares)
    lines += ["", f"Where our handler's time goes, by own time under the profiler: {where}; see the profile below."]
    return "\n".join(lines)


def _results_md(
    table: str,
    rows: list[Row],
    profile: str,
    shares: list[tuple[str, float]],
    args: argparse.Namespace,
    duration: float,
    costs_md: str,
) -> str:
    closing = _closing_note(rows, shares)
    versions = "\n".join(f"| {name} | {value} |" for name, value in machine().items())
    return f"""# Benchmark results

Written by `make bench` ({"`--quick`, " if args.quick else ""}{args.rounds} rounds, {duration:.0f} s).
Regenerate it rather than edit it. Absolute times on a shared machine are noise: compare
the ratios, which are measured side by side in one run. What is measured and how:
[`bench/run.py`](run.py); the data: [`bench/data.py`](data.py).

| machine and versions | |
|---|---|
{versions}

{table}

How to read it:

- **Handler time**: in-process, with the environment Lambda derives from the function's
  configuration (`lambda_runtime.lambda_environment`, as `make local` runs it under
  `awslambdaric`; in process here, since a process per call would time the harness),
  stdout to a file on disk that every write is flushed to
  (as the Lambda Python runtime does), best of the rounds, each round running every
  variant once in a rotating order. The ratio is to *Node both images* (best / best;
  in brackets the lowest and highest ratio within one round). The Node handlers are timed
  inside Node (`process.hrtime.bigint()`), after warm-up runs, in a fresh process per
  measurement. Node's `unmarshall` throws on numbers beyond double precision; each record
  is wrapped in try/catch and the records it could not log are counted (a finding about
  the tutorial's handler, not an error of the benchmark).
- **Log bytes**: what each variant writes to stdout for the batch, per record. Lambda's
  Node runtime adds a prefix of about 67 bytes per `console.log` line (timestamp, request
  id, level), not counted here.
- **Cold start**: `import` of the module in a fresh Python process with the function's
  environment, bytecode caches present, against `import aws_lambda_powertools.logging`.
- **Synth**: wall time of `cdk synth --quiet` with the Makefile's environment, against
  `bench/minimal_app.py` (one `dynamodb.Table`, same cdk.json context).

{closing}

## What a million changes cost

USD per million item changes in us-east-1, from the measured log bytes and handler time per
record of the {BYTES_BATCH.label}: CloudWatch Logs ingestion (standard class, USD
{costs.LOGS_INGESTION_USD_PER_GB:.2f}/GB; the last column with the infrequent access class, USD
{costs.LOGS_INFREQUENT_ACCESS_INGESTION_USD_PER_GB:.2f}/GB) and a month of storage (USD
{costs.LOGS_STORAGE_USD_PER_GB_MONTH:.2f}/GB, on the gzip-compressed size measured here), Lambda
requests and compute (arm64, 256 MB, batches of {costs.BATCH_SIZE}, the measured time per record
plus {costs.INVOCATION_OVERHEAD_S * 1000:.0f} ms per invocation, whole milliseconds). Prices, their
source and date: [`bench/costs.py`](costs.py). The Node handlers' bytes leave out the ~67-byte
prefix Lambda adds to each of their lines, so their cost is understated.

{costs_md}

## Where our handler's time goes

cProfile of `stream_logger.handler`, `LOG_IMAGES=NEW_AND_CHANGES`, {PROFILE_BATCH.label}, by own time
(profiling slows Python code more than C functions such as `str.translate`):

```
{profile}
```
"""


if __name__ == "__main__":
    raise SystemExit(main())
