"""The alerts of docs/alerts.md and the grant of docs/operations.md, in a stack like the app's.

tests/unit/docs/test_examples.py synthesizes it and checks what each part builds.
"""

# --8<-- [start:stack]
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct
from table_stream_logger import ChangeAlerts, Expires, FailureOptions, NewTable, RisesAbove, TableStreamLogger

PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING)


class ShopAlertsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # --8<-- [start:logger]
        logger = TableStreamLogger(
            self,
            "InventoryLogger",
            new_table=NewTable(partition_key=PK, sort_key=SK, time_to_live_attribute="ExpiresAt"),
        )
        # --8<-- [end:logger]
        # --8<-- [start:alerts]
        alerts = ChangeAlerts(
            self,
            "InventoryAlerts",
            table=logger.table,
            rules=[
                RisesAbove("Stocks", 0, name="back-in-stock", title="Back in stock", include_inserts=False),
                Expires(name="listing-expired", title="Listing expired"),
            ],
            failure=FailureOptions(destination=logger.failure_destination),  # parked with the logger's batches
        )
        # --8<-- [end:alerts]
        # --8<-- [start:grant-redrive]
        on_call = iam.Role.from_role_name(self, "OnCall", "on-call")
        logger.grant_redrive(on_call)
        alerts.grant_redrive(on_call)
        # --8<-- [end:grant-redrive]
        # --8<-- [start:grant-status-history]
        for reader in (logger, alerts):
            reader.grant_status(on_call)  # status checks every reader of the stack
        logger.grant_history(on_call)
        # --8<-- [end:grant-status-history]
