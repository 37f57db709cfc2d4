"""Which of the function's lines Lambda sends on to CloudWatch Logs: its log-level filtering.

From the Lambda developer guide, "Log-level filtering" (functions with the JSON log format):

    "your function code must output log events to stdout or stderr as JSON formatted objects
    that contain a key value pair with the key "level". [...] If the "level" value field is
    invalid or missing, Lambda will assign the log output the level INFO. For Lambda to use the
    timestamp field, you must specify the time in valid RFC 3339 timestamp format. If you don't
    supply a valid timestamp, Lambda will assign the log the level INFO and add a timestamp for
    you."

and the levels it knows, from most to least detail: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.
A line is sent when its level is the function's application log level or less detailed.
"""

from __future__ import annotations

import json

from rfc3339_validator import validate_rfc3339

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def level_of(line: str) -> str:
    """The level Lambda gives a line written to stdout."""
    try:
        entry = json.loads(line)
    except ValueError:
        return "INFO"  # a text line
    if not isinstance(entry, dict):
        return "INFO"
    level = entry.get("level")
    timestamp = entry.get("timestamp")
    if not isinstance(timestamp, str) or not validate_rfc3339(timestamp):
        return "INFO"
    if not isinstance(level, str) or level.upper() not in LEVELS:
        return "INFO"
    return level.upper()


def kept(line: str, application_log_level: str) -> bool:
    """Whether Lambda sends the line to CloudWatch Logs at this application log level."""
    return LEVELS.index(level_of(line)) >= LEVELS.index(application_log_level.upper())
