"""TableStreamLogger logs every change of a DynamoDB table as one JSON line in CloudWatch Logs;
ChangeAlerts publishes an SNS notification when a change matches a rule (back in stock, ...).

A CDK (v2) construct library. Installed from its wheel, it is imported as ``table_stream_logger``;
inside this repository, the app imports the same code as ``stacks.table_stream_logger``. The
modules of this package import each other relatively, so both names work.
"""

from .alerts import AlertRule, Becomes, Expires, FallsToOrBelow, RisesAbove
from .archive import ChangeArchive
from .change_alerts import ChangeAlerts
from .construct import HANDLER, HANDLER_METRICS, TableStreamLogger
from .filters import MAX_FILTERS, ChangeFilter, EventName, TypeTag
from .stream_consumer import POWERTOOLS_LAYER_PARAMETER, POWERTOOLS_VERSION, StreamReading, handler_asset_dir

__version__ = "0.1.0"

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
    "FallsToOrBelow",
    "RisesAbove",
    "StreamReading",
    "TableStreamLogger",
    "TypeTag",
    "__version__",
    "handler_asset_dir",
]
