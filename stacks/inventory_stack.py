"""The shop inventory of the AWS tutorials, with every change logged."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks.table_stream_logger import TableStreamLogger


class InventoryStack(Stack):
    """An inventory table (keys ``PK``/``SK``) whose stream is logged by a TableStreamLogger.

    :param service_name: The ``service`` of every log line.
    :param log_level: The function's log level.
    :param kwargs: Passed to ``Stack`` (``env``, ``description``, ...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        log_level: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        logger = TableStreamLogger(
            self,
            "InventoryLogger",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            service_name=service_name,
            log_level=log_level,
        )

        CfnOutput(self, "TableName", value=logger.table.table_name)
        CfnOutput(self, "StreamArn", value=logger.stream_arn)
        CfnOutput(self, "FunctionName", value=logger.function.function_name)
        CfnOutput(self, "LogGroupName", value=logger.log_group.log_group_name)
        # The AWS walkthrough has users note this UUID to inspect or update the mapping.
        CfnOutput(
            self,
            "EventSourceMappingUuid",
            value=logger.event_source_mapping.event_source_mapping_id,
        )
