"""The writing of the logger's lines to stdout: their timestamp, one line each, buffered writes.

These run once or more per record, so each is shaped for speed and says why: the buffered
writes save a system call per record (about a tenth of the handler's time). The rendering's
own tricks are in ``line_render`` and ``dynamo_json`` (``render_map``: 13%).
"""

from __future__ import annotations

import time
from typing import Any

# The cache below starts from a value no input equals.
_NOTHING = object()
_last_timestamp: tuple[object, str] = (_NOTHING, "")  # the last millisecond and its text


def timestamp() -> str:
    """Now, as the Logger writes it (RFC 3339, UTC, milliseconds): ``2026-11-23T15:33:15.166Z``."""
    global _last_timestamp
    millis = int(time.time() * 1000)
    if millis != _last_timestamp[0]:  # dozens of records share a millisecond
        second, milli = divmod(millis, 1000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{milli:03d}Z"
        _last_timestamp = (millis, text)
    return _last_timestamp[1]


# JSON allows these raw inside strings, but many readers break lines at them.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def one_line(line: str) -> str:
    # str.translate is slow on long lines; these characters are rare, so look first.
    if "\x85" in line or "\u2028" in line or "\u2029" in line:
        return line.translate(_LINE_BREAKS)
    return line


class Lines:
    """Lines on their way to stdout, written about 64 KiB at a time.

    Lambda's runtime flushes stdout at every write: a write per line would cost a system
    call per record (about a tenth of the handler's time). The handler flushes before a
    line of the Logger's (an ERROR) and when it ends, so the log keeps the records' order.
    """

    SIZE = 64 * 1024

    def __init__(self, write: Any) -> None:
        self._write = write
        self._lines: list[str] = []
        self._size = 0

    def add(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.SIZE:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._write("".join(self._lines))
            self._lines.clear()
            self._size = 0
