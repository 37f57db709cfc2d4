"""What the run reports: the mapping it emulates, and the summary that accounts for every record read."""

from __future__ import annotations

from pathlib import Path

from local.output import Progress
from local.run import Run
from local.stack_model import MappingSettings, StackModel


def describe_mapping(settings: MappingSettings) -> str:
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


def summary(run: Run, model: StackModel, progress: Progress, elapsed: float, stopped: int = 130) -> int:
    """Account for every record read; 1 if one is lost."""
    poller, stats = run.poller, run.poller.stats
    progress(
        f"{stats.seen} record(s) read: {stats.delivered} delivered, {stats.filtered} filtered, "
        f"{stats.parked} parked, {poller.pending()} pending; {stats.invocations} invocation(s), "
        f"{stats.failed_invocations} failed, {stats.retries} retries, {stats.bisections} bisections; "
        f"{elapsed:.1f} s"
    )
    for path in stats.parked_files:
        progress(f"parked: {shown_path(path)}")
    # The function writes only the whole copies of oversized records to the failure bucket.
    if run.failure_bucket is not None:
        for path in run.failure_bucket.copied:
            replaced = " (replaced an earlier run's file)" if path in run.failure_bucket.replaced else ""
            progress(f"oversized: {shown_path(path)}{replaced}")
    if run.archive is not None:
        progress(
            f"archived {run.archive.lines} change line(s) in {len(run.archive.objects)} object(s) under "
            f"{shown_path(run.archive.folder)}"
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


def shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
