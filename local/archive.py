"""``--archive DIR``: the change lines as the archive bucket holds them, in a local folder.

In AWS a subscription filter picks the change lines out of the function's log group and
Amazon Data Firehose writes them to S3 (stacks/table_stream_logger/archive/change_archive.py). Here the same
filter pattern picks them out of each invocation's lines, and each invocation's change lines
become one object, in Firehose's layout and format::

    DIR/changes/year=2026/month=12/day=01/local-1-2026-12-01-13-55-00-<id>.gz

a GZIP file of the lines exactly as the handler wrote them, each ended by a newline (what the
decompression, message extraction and newline processors of the delivery stream produce).
The partitions are the time the lines were written, in UTC, as Firehose's are the time they
reached it. The saved Athena queries run on such a folder (tests/e2e/test_archive.py).
"""

from __future__ import annotations

import fnmatch
import gzip
import importlib.util
import json
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

LAYOUT_FILE = Path(__file__).resolve().parent.parent / "stacks" / "table_stream_logger" / "archive" / "layout.py"


def _load_layout() -> ModuleType:
    """The construct library's archive/layout.py module, loaded from its file: importing it as
    ``stacks.table_stream_logger.archive.layout`` would import the whole library, and with it
    CDK (a Node.js process, seconds), for a few constants."""
    spec = importlib.util.spec_from_file_location("table_stream_logger_archive_layout", LAYOUT_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAYOUT = _load_layout()

# Firehose names an object <stream>-<stream version>-<yyyy-MM-dd-HH-mm-ss>-<random id>.
STREAM_NAME = "local"

# The one form of CloudWatch's JSON filter patterns that the archive uses: `{ $.a.b = "value" }`,
# `*` a wildcard. No library implements CloudWatch's filter patterns (moto lets JSON patterns
# match every line); this matcher knows this form and refuses any other.
_EQUALS = re.compile(r'\{\s*\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*\}')


class PatternError(ValueError):
    """A filter pattern of a form this matcher does not know."""


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A test of one log line against a JSON filter pattern of the form ``{ $.name = "value" }``.

    As CloudWatch Logs: a line that is no JSON object never matches; the selected member must
    exist and be a string, number or boolean whose text matches the value, ``*`` matching any
    run of characters (so ``"*"`` matches whenever the member is there).
    """
    match = _EQUALS.fullmatch(pattern.strip())
    if match is None:
        raise PatternError(f'unsupported filter pattern {pattern!r}: only {{ $.name = "value" }} is known here')
    path = match.group(1).split(".")[1:]
    expected = json.loads(f'"{match.group(2)}"')

    def matches(line: str) -> bool:
        try:
            value: Any = json.loads(line)
        except json.JSONDecodeError:
            return False
        for name in path:
            if not isinstance(value, dict) or name not in value:
                return False
            value = value[name]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            return False
        return fnmatch.fnmatchcase(text, expected)

    return matches


is_change_line = compile_pattern(LAYOUT.CHANGE_LINES_PATTERN)


def object_key(now: float) -> str:
    """The key of an object written at ``now`` (seconds since the epoch), as Firehose names it."""
    moment = time.gmtime(now)
    partitions: str = LAYOUT.PARTITIONS
    for pattern, value in (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d")):
        partitions = partitions.replace(f"!{{timestamp:{pattern}}}", time.strftime(value, moment))
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", moment)
    return f"{LAYOUT.DATA_PREFIX}{partitions}{STREAM_NAME}-1-{stamp}-{secrets.token_hex(16)}.gz"


class ArchiveWriter:
    """Writes each invocation's change lines to ``folder`` as one archive object."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.clock = clock
        self.lines = 0
        self.objects: list[Path] = []

    def __call__(self, lines: list[str]) -> None:
        changes = [line for line in lines if is_change_line(line)]
        if not changes:
            return
        path = self.folder / object_key(self.clock())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress("".join(line + "\n" for line in changes).encode()))
        self.lines += len(changes)
        self.objects.append(path)


def tee(*sinks: Callable[[list[str]], None]) -> Callable[[list[str]], None]:
    """One sink of log lines that hands them to each of ``sinks`` in turn."""

    def write(lines: list[str]) -> None:
        for sink in sinks:
            sink(lines)

    return write
