"""TableStreamLogger logs every change of a DynamoDB table as one JSON line in CloudWatch Logs;
ChangeAlerts publishes an SNS notification when a change matches a rule (back in stock, ...).

A CDK (v2) construct library. Installed from its wheel, it is imported as ``table_stream_logger``;
inside this repository, the app imports the same code as ``stacks.table_stream_logger``. The
modules of this package import each other relatively, so both names work.

The names below are imported on first use: ``python -m table_stream_logger`` (the operator
command, operations/) then runs without loading aws-cdk-lib, which starts a Node.js process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core.function import POWERTOOLS_LAYER_PARAMETER, POWERTOOLS_VERSION
    from ._core.handler_assets import handler_asset_dir
    from ._core.log_levels import LOG_LEVEL_NAMES, LogLevel
    from ._core.monitoring import HANDLER_METRICS
    from .alerts.change_alerts import ChangeAlerts
    from .alerts.rules import AlertRule, Becomes, Expires, FallsToOrBelow, RisesAbove
    from .archive.change_archive import ChangeArchive
    from .filters import MAX_FILTERS, ChangeFilter, EventName, TypeTag
    from .logger import HANDLER, TableStreamLogger
    from .options import (
        ArchiveOptions,
        CustomHandler,
        FailureDestinationType,
        FailureOptions,
        FunctionOptions,
        LogContextKeys,
        LogImages,
        LogLines,
        LogOptions,
        Monitoring,
        NewTable,
        StreamReading,
    )

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
    "HANDLER_METRICS": "_core.monitoring",
    "TableStreamLogger": "logger",
    "ArchiveOptions": "options",
    "CustomHandler": "options",
    "FailureDestinationType": "options",
    "FailureOptions": "options",
    "FunctionOptions": "options",
    "LogContextKeys": "options",
    "LogImages": "options",
    "LogLines": "options",
    "LogOptions": "options",
    "Monitoring": "options",
    "NewTable": "options",
    "StreamReading": "options",
    "POWERTOOLS_LAYER_PARAMETER": "_core.function",
    "POWERTOOLS_VERSION": "_core.function",
    "LogLevel": "_core.log_levels",
    "LOG_LEVEL_NAMES": "_core.log_levels",
    "handler_asset_dir": "_core.handler_assets",
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
    "ArchiveOptions",
    "Becomes",
    "ChangeAlerts",
    "ChangeArchive",
    "ChangeFilter",
    "CustomHandler",
    "EventName",
    "Expires",
    "FailureDestinationType",
    "FailureOptions",
    "FallsToOrBelow",
    "FunctionOptions",
    "LogContextKeys",
    "LogImages",
    "LogLevel",
    "LogLines",
    "LogOptions",
    "Monitoring",
    "NewTable",
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
