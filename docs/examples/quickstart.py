"""The library's quick start: README.md shows the part between the markers, as does docs/library.md.

tests/unit/docs/test_examples.py synthesizes this stack and checks that the README's block is this section.
"""

# --8<-- [start:quickstart]
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from table_stream_logger import LogOptions, NewTable, TableStreamLogger


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The construct builds the table (on-demand, NEW_AND_OLD_IMAGES stream, point-in-time
        # recovery, kept when the stack is deleted), the function and its log group, the event
        # source mapping, the failure bucket, the alarms and a dashboard.
        self.orders = TableStreamLogger(
            self,
            "OrdersLogger",
            new_table=NewTable(partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)),
            log=LogOptions(service_name="orders"),
        )
        # self.orders.table, .function, .log_group, .failure_destination, ...
