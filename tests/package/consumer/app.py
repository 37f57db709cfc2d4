"""A CDK app of a library user: it imports the installed wheel, ``table_stream_logger``.

tests/package/test_wheel.py copies this folder out of the repository, installs the wheel into a
fresh virtualenv and runs this file there, in this folder; it then reads the templates that it
writes to ``cdk.out/``. Not type-checked with the repository (mypy knows the package as
``stacks.table_stream_logger`` there); ruff checks it.
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from table_stream_logger import (
    ChangeAlerts,
    ChangeFilter,
    CustomHandler,
    FailureOptions,
    LogOptions,
    NewTable,
    RisesAbove,
    TableStreamLogger,
)

HERE = Path(__file__).resolve().parent
ORDERS_STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)

app = cdk.App(outdir=str(HERE / "cdk.out"))

# A table built by the construct.
built = cdk.Stack(app, "NewTableStack")
TableStreamLogger(built, "Logger", new_table=NewTable(partition_key=ID), log=LogOptions(service_name="orders"))

# A table of another app, imported with its stream ARN.
imported = cdk.Stack(app, "ImportedTableStack")
TableStreamLogger(
    imported,
    "Logger",
    table=dynamodb.Table.from_table_attributes(
        imported, "Orders", table_name="orders", table_stream_arn=ORDERS_STREAM_ARN
    ),
    stream_view_type=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
)

# A built table encrypted with a customer-managed key.
with_key = cdk.Stack(app, "CustomerManagedKeyStack")
TableStreamLogger(
    with_key,
    "Logger",
    new_table=NewTable(partition_key=ID, encryption_key=kms.Key(with_key, "TableKey", enable_key_rotation=True)),
)

# The caller's own handler, fed only the changes that keep a stock count.
custom = cdk.Stack(app, "CustomHandlerStack")
TableStreamLogger(
    custom,
    "Logger",
    filters=[
        ChangeFilter(event_names=["INSERT", "MODIFY"], new_image_has={"Stocks": "N"}),
        ChangeFilter(event_names=["REMOVE"], keys_equal={"id": "FRUIT"}),
    ],
    new_table=NewTable(partition_key=ID),
    handler=CustomHandler(code=lambda_.Code.from_asset(str(HERE / "handler")), handler="mine.handler"),
)

# The tutorial's use case: the logged table's second reader tells people when an item is back in stock.
alerts = cdk.Stack(app, "AlertsStack")
shop = TableStreamLogger(alerts, "Logger", new_table=NewTable(partition_key=ID))
ChangeAlerts(
    alerts,
    "Alerts",
    table=shop.table,
    rules=[RisesAbove("Stocks", 0, name="back-in-stock", title="Back in stock")],
    failure=FailureOptions(destination=shop.failure_destination),
)

app.synth()
