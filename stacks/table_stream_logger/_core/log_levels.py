"""The function's log levels: their names, without aws-cdk-lib, so the app checks its settings before loading it."""

from __future__ import annotations

from typing import Literal, get_args

LogLevel = Literal["DEBUG", "INFO", "WARN", "ERROR"]
#: The names of the log levels, in order (``LogLevel``).
LOG_LEVEL_NAMES: tuple[LogLevel, ...] = get_args(LogLevel)
