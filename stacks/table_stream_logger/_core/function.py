"""The function of a stream consumer: its log group, its least-privilege role, the Powertools layer.

Shared by ``TableStreamLogger`` and ``ChangeAlerts`` (through ``StreamConsumer``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from . import iam_actions as actions
from .log_encryption import allow_logs_to_use_key

if TYPE_CHECKING:
    from ..options import FunctionOptions, LogOptions

# The newest Python runtime the Powertools layer is published for.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64

# Must equal the aws-lambda-powertools pin in requirements-dev.txt (a test checks it), so that
# the tests exercise the same Powertools the function runs with.
POWERTOOLS_VERSION = "3.37.0"
# Public parameter that Powertools publishes in every region for each layer version. Resolving
# it at deploy time keeps the template environment-agnostic and synth free of lookups.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"

LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARN": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


def lambda_log_level(log_level: str) -> lambda_.ApplicationLogLevel:
    """Lambda's own filter (the function's ApplicationLogLevel) for a consumer's ``log.level``.

    INFO, DEBUG for DEBUG: the handlers apply ``log.level`` to their lines themselves, and the
    logger's per-invocation metrics line is INFO, which the dashboard needs at every level.
    """
    return LOG_LEVELS["DEBUG" if log_level == "DEBUG" else "INFO"]


def json_list(values: Sequence[str]) -> str:
    """A list as the handlers read it from their environment: compact JSON."""
    return json.dumps(list(values), separators=(",", ":"))


@dataclass(frozen=True)
class FunctionProps:
    """What the consumer's function is: its code, its environment, and the construct's options."""

    description: str
    role_description: str
    code: lambda_.Code
    handler: str
    environment: Mapping[str, str]
    function: FunctionOptions
    log: LogOptions
    # Fields of the log lines to index (a field index policy), for queries that scan only the
    # lines they match; ignored with the Infrequent Access class, which has no field indexes.
    index_fields: Sequence[str] = ()


def handler_environment(
    service_name: str, log_level: str, redact: Sequence[str], key_attributes: list[str] | None, **own: str
) -> dict[str, str]:
    """A handler's environment: Powertools' settings, the handler's ``own``, what to redact, the keys."""
    environment = {"POWERTOOLS_SERVICE_NAME": service_name, "POWERTOOLS_LOG_LEVEL": log_level, **own}
    environment["REDACT_ATTRIBUTES"] = json_list(redact)
    if key_attributes is not None:
        environment["KEY_ATTRIBUTES"] = json_list(key_attributes)
    return environment


def build_function(
    scope: Construct, table: dynamodb.ITable, props: FunctionProps
) -> tuple[logs.LogGroup, iam.Role, lambda_.Function]:
    """The function's log group, its role and the function, as children ``LogGroup``, ``Role``,
    ``PowertoolsLayer`` (unless a layer is given) and ``Function`` of ``scope``."""
    log, options = props.log, props.function
    standard = log.group_class == logs.LogGroupClass.STANDARD
    # The function writes to this group only. CDK's default for a log group, RETAIN, is
    # kept: the group is the record of what the function did, so deleting the stack
    # leaves it to expire with its retention instead of erasing it.
    log_group = logs.LogGroup(
        scope,
        "LogGroup",
        retention=log.retention,
        # STANDARD is CloudFormation's default and stays unsaid: a class newly written into the
        # template would read as a change of class, which replaces the group.
        log_group_class=None if standard else log.group_class,
        encryption_key=log.encryption_key,
        # Omitted (CloudFormation's default: off) rather than false, as the table's protection is.
        deletion_protection_enabled=True if log.deletion_protection else None,
        field_index_policies=(
            [logs.FieldIndexPolicy(fields=list(props.index_fields))] if props.index_fields and standard else None
        ),
    )
    if log.encryption_key is not None:
        allow_logs_to_use_key(log_group, log.encryption_key)

    # A role of our own instead of CDK's default one, which attaches
    # AWSLambdaBasicExecutionRole (logs:* on every log group). Each grant below adds
    # exactly the permissions the function needs.
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=props.role_description,
    )
    log_group.grant_write(role)
    if table.encryption_key is not None:
        table.encryption_key.grant(role, actions.KMS_DECRYPT)

    layer = options.powertools_layer or lambda_.LayerVersion.from_layer_version_arn(
        scope,
        "PowertoolsLayer",
        ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER),
    )
    function = lambda_.Function(
        scope,
        "Function",
        description=props.description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=props.handler,
        code=props.code,
        layers=[layer],
        role=role,
        memory_size=options.memory_size,
        timeout=options.timeout,
        reserved_concurrent_executions=options.reserved_concurrent_executions,
        environment=dict(props.environment),
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_log_level(log.level),
        # Lambda's own start/report lines are INFO: they would add three lines to every
        # invocation. Its warnings and errors still come through.
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
    )
    return log_group, role, function
