"""What the local run reproduces of a stack: its table, its stream mappings and their functions.

``local/template.py`` reads them from the synthesized template; Lambda's own defaults fill in
what the template leaves out. A function's settings give the configuration its execution
environment is made from (``FunctionSettings.config``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacks.table_stream_logger.operations.lambda_environment import FunctionConfig

# Lambda's own defaults for a DynamoDB stream mapping, for settings the template leaves out
# (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html).
DEFAULT_BATCH_SIZE = 100
DEFAULT_BATCHING_WINDOW = 0
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
INFINITE = -1


class TemplateError(ValueError):
    """The template lacks something the local run needs, or has it in a form it cannot use."""


@dataclass(frozen=True)
class TableDefinition:
    """The table as the template defines it."""

    logical_id: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    stream_view_type: str
    billing_mode: str
    # The TTL attribute (TimeToLiveSpecification), if TTL is on.
    ttl_attribute: str | None = None

    @property
    def key_names(self) -> list[str]:
        """The key attribute names, partition key first."""
        ordered = sorted(self.key_schema, key=lambda key: key["KeyType"] != "HASH")
        return [key["AttributeName"] for key in ordered]

    @property
    def key_types(self) -> dict[str, str]:
        """Each key attribute's type (``S``, ``N`` or ``B``), partition key first."""
        types = {definition["AttributeName"]: definition["AttributeType"] for definition in self.attribute_definitions}
        return {name: types[name] for name in self.key_names}

    def create_table_arguments(self, table_name: str) -> dict[str, Any]:
        """Arguments of DynamoDB's CreateTable for a local copy of this table."""
        arguments: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": self.key_schema,
            "AttributeDefinitions": self.attribute_definitions,
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": self.stream_view_type},
        }
        if self.billing_mode == "PAY_PER_REQUEST":
            arguments["BillingMode"] = "PAY_PER_REQUEST"
        else:
            # A provisioned table's capacity is irrelevant locally, and may be an intrinsic.
            arguments["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        return arguments


@dataclass(frozen=True)
class MappingSettings:
    """The event source mapping's settings, with Lambda's defaults where the template has none.

    ``-1`` means infinite for ``maximum_retry_attempts`` and ``maximum_record_age``, as in
    Lambda's API.
    """

    logical_id: str
    starting_position: str
    batch_size: int = DEFAULT_BATCH_SIZE
    maximum_batching_window: float = DEFAULT_BATCHING_WINDOW
    report_batch_item_failures: bool = False
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = INFINITE
    maximum_record_age: int = INFINITE
    filter_patterns: tuple[str, ...] = ()
    # What the deployed mapping sends failure records to, e.g. "SQS queue FailureQueue2CBD597B".
    on_failure: str | None = None
    # The logical ID of that destination when it is an S3 bucket (the construct's default).
    failure_bucket: str | None = None


@dataclass(frozen=True)
class FunctionSettings:
    """The function as the template defines it."""

    logical_id: str
    handler: str
    environment: dict[str, str]
    memory_size: int = DEFAULT_MEMORY_MB
    timeout: int = DEFAULT_TIMEOUT_S
    # Lambda's log-level filter of the function's own lines (LoggingConfig), INFO by default.
    application_log_level: str = "INFO"
    # The variables that name its mapping's failure bucket (FAILURE_BUCKET: a Ref to it). They
    # are not in ``environment``: the run sets them if it has a local bucket for it (cli.py).
    failure_bucket_variables: tuple[str, ...] = ()
    runtime: str = "python3.14"
    # LoggingConfig.LogFormat: Lambda sets AWS_LAMBDA_LOG_LEVEL only for JSON.
    log_format: str = "Text"
    # Its code: the asset's folder in the cloud assembly (None: the template was read alone).
    code: Path | None = None
    # Why ``code`` is None, for the error of a run that needs it.
    code_missing: str = ""

    def config(self, name: str, region: str, environment: dict[str, str] | None = None) -> FunctionConfig:
        """The configuration its execution environment is made from (``environment``: default the template's)."""
        if self.code is None:
            raise TemplateError(self.code_missing)
        return FunctionConfig(
            name=name,
            handler=self.handler,
            code=self.code,
            runtime=self.runtime,
            memory_size=self.memory_size,
            timeout=self.timeout,
            environment=self.environment if environment is None else environment,
            log_format=self.log_format,
            application_log_level=self.application_log_level,
            region=region,
        )


@dataclass(frozen=True)
class Consumer:
    """Another reader of the same stream: its mapping and its function (e.g. the alerts)."""

    mapping: MappingSettings
    function: FunctionSettings

    def function_name(self, stack_name: str) -> str:
        return f"{stack_name}-{self.function.logical_id}"


@dataclass(frozen=True)
class StackModel:
    """The parts of one stack's template that the local run reproduces.

    ``mapping`` and ``function`` are the logger's; ``others`` the stream's other readers.
    """

    stack_name: str
    table: TableDefinition
    mapping: MappingSettings
    function: FunctionSettings
    notes: list[str] = field(default_factory=list)
    others: tuple[Consumer, ...] = ()

    @property
    def table_name(self) -> str:
        """A local name for the table, shaped like the one CloudFormation generates."""
        return f"{self.stack_name}-{self.table.logical_id}"

    @property
    def function_name(self) -> str:
        """A local name for the function, shaped like the one CloudFormation generates."""
        return f"{self.stack_name}-{self.function.logical_id}"

    @property
    def failure_bucket_name(self) -> str | None:
        """A local name for the mapping's failure bucket (None if it has none): ends in ``-local``.

        Shaped like the one CloudFormation generates, and valid for S3: lowercase, at most 63
        characters.
        """
        if self.mapping.failure_bucket is None:
            return None
        name = re.sub(r"[^a-z0-9-]+", "-", f"{self.stack_name}-{self.mapping.failure_bucket}".lower())
        return f"{name[:57].strip('-')}-local"
