"""Powertools' idiomatic DynamoDB stream handler, as its documentation writes it.

``BatchProcessor`` + ``process_partial_response`` at module level, and a record handler
that logs both images through the ``DynamoDBRecord`` data class, which deserializes them
(numbers become ``Decimal``, which the Logger then writes as strings). Compare
``examples/batch_processing/src/getting_started_dynamodb.py`` in
aws-powertools/powertools-lambda-python.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
logger = Logger()


def record_handler(record: DynamoDBRecord) -> None:
    if record.dynamodb:
        logger.info({"new": record.dynamodb.new_image, "old": record.dynamodb.old_image})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
