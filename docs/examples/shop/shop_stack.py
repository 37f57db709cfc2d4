"""The library example of docs/library.md: a stack with four loggers, the last running handlers/archive.py.

tests/unit/docs/test_examples.py synthesizes it as it is here, with its handler beside it.
"""

# --8<-- [start:stack]
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from table_stream_logger import ChangeFilter, CustomHandler, LogLines, LogOptions, NewTable, TableStreamLogger

ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)


class ShopStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # A new table: the construct builds it (on-demand, NEW_AND_OLD_IMAGES stream,
        # point-in-time recovery, kept when the stack is deleted).
        self.carts = TableStreamLogger(
            self, "CartsLogger", new_table=NewTable(partition_key=ID), log=LogOptions(service_name="carts")
        )

        # A table of this app, without customer e-mails in the log, and only the changes that
        # modify an item holding a stock count.
        orders = dynamodb.Table(self, "Orders", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
        TableStreamLogger(
            self,
            "OrdersLogger",
            table=orders,
            redact=["customer.email"],
            filters=[ChangeFilter(event_names=["MODIFY"], new_image_has={"Stocks": "N"})],
            log=LogOptions(service_name="orders"),
        )

        # A table of another app, imported with its stream ARN. Its stream's view type cannot be
        # read; say it, and the construct checks it against log_images.
        audit = dynamodb.Table.from_table_attributes(
            self,
            "Audit",
            table_name="audit",
            table_stream_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/audit/stream/2026-01-01T00:00:00.000",
        )
        TableStreamLogger(
            self,
            "AuditLogger",
            table=audit,
            stream_view_type=dynamodb.StreamViewType.NEW_IMAGE,
            lines=LogLines(images="NEW"),
        )

        # Your own handler (handlers/archive.py, function `handler`), given only the removals of
        # the FRUIT partition, with the same role, mapping, failure bucket and alarms.
        TableStreamLogger(
            self,
            "Archiver",
            filters=[ChangeFilter(event_names=["REMOVE"], keys_equal={"PK": "FRUIT"})],
            new_table=NewTable(
                partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            ),
            handler=CustomHandler(
                code=lambda_.Code.from_asset(str(Path(__file__).resolve().parent / "handlers")),
                handler="archive.handler",
            ),
        )
        # self.carts.table, .function, .log_group, .event_source_mapping, ...
