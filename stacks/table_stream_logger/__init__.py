"""TableStreamLogger logs every change of a DynamoDB table as one JSON line in CloudWatch Logs;
ChangeAlerts publishes an SNS notification when a change matches a rule (back in stock, ...).

A CDK (v2) construct library. Installed from its wheel, it is imported as ``table_stream_logger``;
inside this repository, the app imports the same code as ``stacks.table_stream_logger``. The
modules of this package import each other relatively, so both names work.

The names below are imported on first use: ``python -m table_stream_logger`` (the redrive
command, redrive.py) then runs without loading aws-cdk-lib, which starts a Node.js process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core.failure_destinations import FailureDestinationType
    from ._core.log_levels import LOG_LEVEL_NAMES, LogLevel
    from ._core.stream_consumer import (
        POWERTOOLS_LAYER_PARAMETER,
        POWERTOOLS_VERSION,
        StreamReading,
        handler_asset_dir,
    )
    from .alerts.change_alerts import ChangeAlerts
    from .alerts.rules import AlertRule, Becomes, Expires, FallsToOrBelow, RisesAbove
    from .archive.change_archive import ChangeArchive
    from .filters import MAX_FILTERS, ChangeFilter, EventName, TypeTag
    from .logger import HANDLER, HANDLER_METRICS, LogContextKeys, LogImages, TableStreamLogger

__version__ = "0.1.0"

# Each public name and the module that defines it.
_EXPORTS = {
    "AlertRule": "alerts.rules",
    "Becomes": "alerts.rules",
    "Expires": "alerts.rules",
    "FallsToOrBelow": "alerts.rules",
    "RisesAbove": "alerts.rules",
    "ChangeAlerts": "alerts.change_alerts",
    "ChangeArchive": "archive.change_archive",
    "HANDLER": "logger",
    "HANDLER_METRICS": "logger",
    "TableStreamLogger": "logger",
    "LogContextKeys": "logger",
    "LogImages": "logger",
    "POWERTOOLS_LAYER_PARAMETER": "_core.stream_consumer",
    "POWERTOOLS_VERSION": "_core.stream_consumer",
    "StreamReading": "_core.stream_consumer",
    "LogLevel": "_core.log_levels",
    "LOG_LEVEL_NAMES": "_core.log_levels",
    "FailureDestinationType": "_core.failure_destinations",
    "handler_asset_dir": "_core.stream_consumer",
    "MAX_FILTERS": "filters",
    "ChangeFilter": "filters",
    "EventName": "filters",
    "TypeTag": "filters",
}

__all__ = [
    "HANDLER",
    "HANDLER_METRICS",
    "LOG_LEVEL_NAMES",
    "MAX_FILTERS",
    "POWERTOOLS_LAYER_PARAMETER",
    "POWERTOOLS_VERSION",
    "AlertRule",
    "Becomes",
    "ChangeAlerts",
    "ChangeArchive",
    "ChangeFilter",
    "EventName",
    "Expires",
    "FailureDestinationType",
    "FallsToOrBelow",
    "LogContextKeys",
    "LogImages",
    "LogLevel",
    "RisesAbove",
    "StreamReading",
    "TableStreamLogger",
    "TypeTag",
    "__version__",
    "handler_asset_dir",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
