"""TableStreamLogger: logs every change of a DynamoDB table as one JSON line in CloudWatch Logs.

A CDK (v2) construct library. Installed from its wheel, it is imported as ``table_stream_logger``;
inside this repository, the app imports the same code as ``stacks.table_stream_logger``. The
modules of this package import each other relatively, so both names work.
"""

from .archive import ChangeArchive
from .construct import (
    HANDLER,
    HANDLER_METRICS,
    POWERTOOLS_LAYER_PARAMETER,
    POWERTOOLS_VERSION,
    FailureDestinationType,
    LogLevel,
    TableStreamLogger,
    handler_asset_dir,
)
from .filters import MAX_FILTERS, ChangeFilter, EventName, TypeTag

__version__ = "0.1.0"

__all__ = [
    "HANDLER",
    "HANDLER_METRICS",
    "MAX_FILTERS",
    "POWERTOOLS_LAYER_PARAMETER",
    "POWERTOOLS_VERSION",
    "ChangeArchive",
    "ChangeFilter",
    "EventName",
    "FailureDestinationType",
    "LogLevel",
    "TableStreamLogger",
    "TypeTag",
    "__version__",
    "handler_asset_dir",
]
