"""``poison``: a stream record the logger's handler cannot process, to walk the failure path offline.

DynamoDB only sends records the handler can log: every value it accepts renders, and the
items file refuses before writing any value it would not accept. So no write makes the
handler fail, and the path a failing record takes (``batchItemFailures``, retries, bisection,
the on-failure destination, then the redrive command) could not be seen without AWS.

``{"op": "poison", "item": {...}}`` puts the item as ``put`` does, with moto's own write and
its own stream record; the run then gives that record's ``NewImage`` one attribute no
DynamoDB record carries, ``"Poison": {"N": "not a number"}`` (``backend.poison_in_moto``),
before any reader of the stream gets it. From there everything is real: the poller reads it
with GetRecords, the handler refuses it (``NewImage: Poison: N value is not a number``) and
reports it in ``batchItemFailures``, and the poller retries, bisects and parks it as Lambda's
mapping does. The progress line says that the record was simulated. moto only: DynamoDB Local
and AWS write their own stream records.
"""

from __future__ import annotations

from typing import Any

from local import backend
from local.items import ItemsError
from local.writes import attributes

ATTRIBUTE = "Poison"
# A number DynamoDB cannot hold: the handler's own check (dynamo_json.number) refuses it.
VALUE = {"N": "not a number"}
SIMULATED = (
    f"simulated poison record: the item was put, and its stream record given NewImage.{ATTRIBUTE} "
    f'{{"N": "{VALUE["N"]}"}}, which no DynamoDB record carries: the handler fails it'
)
ONLY_ON_MOTO = (
    "poison is simulated on moto, the default backend, only: DynamoDB Local and AWS write their own "
    "stream records (leave out --endpoint-url and --stack-name)"
)


def poison(dynamodb: Any, table_name: str, item: dict[str, Any], *, simulated: bool) -> str:
    """Put ``item`` and make its stream record one the handler cannot process; the progress note."""
    if not simulated:
        raise ItemsError(ONLY_ON_MOTO)
    dynamodb.put_item(TableName=table_name, Item=attributes(item))
    backend.poison_in_moto(table_name, ATTRIBUTE, VALUE)
    return SIMULATED
