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
    from .alerts import AlertRule, Becomes, Expires, FallsToOrBelow, RisesAbove
    from .archive import ChangeArchive
    from .change_alerts import ChangeAlerts
    from .construct import HANDLER, HANDLER_METRICS, LogContextKeys, LogImages, TableStreamLogger
    from .failure_destinations import FailureDestinationType
    from .filters import MAX_FILTERS, ChangeFilter, EventName, TypeTag
    from .stream_consumer import (
        POWERTOOLS_LAYER_PARAMETER,
        POWERTOOLS_VERSION,
        LogLevel,
        StreamReading,
        handler_asset_dir,
    )

__version__ = "0.1.0"

# Each public name and the module that defines it.
_EXPORTS = {
    "AlertRule": "alerts",
    "Becomes": "alerts",
    "Expires": "alerts",
    "FallsToOrBelow": "alerts",
    "RisesAbove": "alerts",
    "ChangeAlerts": "change_alerts",
    "ChangeArchive": "archive",
    "HANDLER": "construct",
    "HANDLER_METRICS": "construct",
    "TableStreamLogger": "construct",
    "LogContextKeys": "construct",
    "LogImages": "construct",
    "POWERTOOLS_LAYER_PARAMETER": "stream_consumer",
    "POWERTOOLS_VERSION": "stream_consumer",
    "StreamReading": "stream_consumer",
    "LogLevel": "stream_consumer",
    "FailureDestinationType": "failure_destinations",
    "handler_asset_dir": "stream_consumer",
    "MAX_FILTERS": "filters",
    "ChangeFilter": "filters",
    "EventName": "filters",
    "TypeTag": "filters",
}

__all__ = [
    "HANDLER",
    "HANDLER_METRICS",
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
