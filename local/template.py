"""What the local run takes from the synthesized CloudFormation template.

The table, the event source mapping and the function are read from the template that
`cdk synth` produces (into the types of local/stack_model.py), so the local table and poller
match what would be deployed instead of being a second, hand-written copy that drifts.

Values that are CloudFormation intrinsics (``Ref``, ``Fn::GetAtt``, ...) only get a value
at deploy time. The few the local run needs are resolved to local stand-ins (the local
table's name and stream ARN, the topic's ARN; the failure bucket's name is the run's to
give, cli.py); the others are ignored, each with a note that the run prints, so nothing is
dropped silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from local.stack_model import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCHING_WINDOW,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    INFINITE,
    Consumer,
    FunctionSettings,
    MappingSettings,
    StackModel,
    TableDefinition,
    TemplateError,
)

TABLE = "AWS::DynamoDB::Table"
MAPPING = "AWS::Lambda::EventSourceMapping"
FUNCTION = "AWS::Lambda::Function"
TOPIC = "AWS::SNS::Topic"
# The logger's handler: its mapping is the run's main one when the stream has other readers.
LOGGER_HANDLER = "stream_logger.handler"
# The region and account of the ARNs that the local run makes up for resources it stands in for.
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "000000000000"


def load(path: Path) -> dict[str, Any]:
    """Read a template file (JSON, as `cdk synth` writes it)."""
    try:
        template = json.loads(path.read_text())
    except FileNotFoundError:
        raise TemplateError(f"{path}: no such template; run `make synth` or leave out --template") from None
    except json.JSONDecodeError as error:
        raise TemplateError(f"{path}: not a JSON template ({error})") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return template


def synthesize(app_dir: Path, outdir: Path) -> Path:
    """Synthesize the CDK app in ``app_dir`` into ``outdir`` and return its only template.

    This runs ``app.py`` the way the CDK CLI does (``CDK_OUTDIR`` and ``CDK_CONTEXT_JSON`` in
    its environment, the context of ``cdk.json`` and ``cdk.context.json``), so ``app.py`` stays
    the one place that builds the stack, and no CLI or network is needed.
    """
    context: dict[str, Any] = {}
    for name in ("cdk.json", "cdk.context.json"):
        path = app_dir / name
        if path.exists():
            settings = json.loads(path.read_text())
            context.update(settings.get("context", {}) if name == "cdk.json" else settings)
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        # The virtualenv's Node.js first, as the Makefile does: jsii needs a supported one.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=app_dir, env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise TemplateError(f"synthesizing {app_dir / 'app.py'} failed:\n{result.stderr.strip()}")
    templates = sorted(outdir.glob("*.template.json"))
    if len(templates) != 1:
        names = ", ".join(path.name for path in templates) or "none"
        raise TemplateError(f"expected one stack in the app, found {names}: pick one with --template")
    return templates[0]


def read(template: dict[str, Any], stack_name: str, assembly: Path | None = None) -> StackModel:
    """Find the stream mapping and the table and function it connects.

    ``assembly`` is the cloud assembly the template is in (``cdk.out/``): its asset manifest
    says which folder holds each function's code.
    """
    resources: dict[str, dict[str, Any]] = template["Resources"]
    assets = _assets(assembly, stack_name)
    notes: list[str] = []

    mappings = [
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") == MAPPING and _stream_table(resource, resources) is not None
    ]
    if not mappings:
        raise TemplateError(f"the template has no {MAPPING} that reads the stream of an {TABLE} in it")
    tables = sorted({str(_stream_table(resources[mapping_id], resources)) for mapping_id in mappings})
    if len(tables) > 1:
        raise TemplateError(f"the template has stream mappings on more than one table: {', '.join(tables)}")
    (table_id,) = tables

    # Refs that get a local stand-in: the table's name, and an SNS topic's ARN (the alerts').
    names = {table_id: stack_name + "-" + table_id}
    for logical_id, resource in resources.items():
        if resource.get("Type") == TOPIC:
            names[logical_id] = f"arn:aws:sns:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{stack_name}-{logical_id}"
    consumers = []
    for mapping_id in mappings:
        mapping = resources[mapping_id]
        function_id = _referenced(mapping["Properties"].get("FunctionName"), resources, FUNCTION)
        if function_id is None:
            raise TemplateError(f"the mapping {mapping_id} does not name an {FUNCTION} of the template")
        settings = _mapping(mapping_id, mapping["Properties"], resources, notes)
        function = _function(
            function_id, resources[function_id]["Properties"], names, notes, settings.failure_bucket, assets
        )
        consumers.append(Consumer(settings, function))
    # The logger first, whatever the template's order; the other readers after it.
    consumers.sort(key=lambda consumer: consumer.function.handler != LOGGER_HANDLER)
    main, *others = consumers
    table = _table(table_id, resources[table_id])
    return StackModel(stack_name, table, main.mapping, main.function, list(dict.fromkeys(notes)), tuple(others))


def _stream_table(mapping: dict[str, Any], resources: dict[str, dict[str, Any]]) -> str | None:
    """The logical ID of the table whose stream the mapping reads: ``Fn::GetAtt [Table, StreamArn]``."""
    source = mapping.get("Properties", {}).get("EventSourceArn")
    if isinstance(source, dict) and isinstance(source.get("Fn::GetAtt"), list):
        logical_id, attribute = source["Fn::GetAtt"]
        if attribute == "StreamArn" and resources.get(logical_id, {}).get("Type") == TABLE:
            return str(logical_id)
    return None


# What a stream event source mapping can send failure records to.
BUCKET = "AWS::S3::Bucket"
ON_FAILURE_DESTINATION_TYPES = (BUCKET, "AWS::SQS::Queue", "AWS::SNS::Topic")


def _referenced(value: Any, resources: dict[str, dict[str, Any]], resource_type: str) -> str | None:
    """The logical ID behind ``Ref`` or ``Fn::GetAtt [X, Arn]``, if it is a resource of that type."""
    logical_id: Any = None
    if isinstance(value, dict) and "Ref" in value:
        logical_id = value["Ref"]
    elif isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        logical_id = value["Fn::GetAtt"][0]
    if isinstance(logical_id, str) and resources.get(logical_id, {}).get("Type") == resource_type:
        return logical_id
    return None


def _table(logical_id: str, resource: dict[str, Any]) -> TableDefinition:
    properties = resource.get("Properties", {})
    for name in ("KeySchema", "AttributeDefinitions"):
        if not isinstance(properties.get(name), list):
            raise TemplateError(f"the table {logical_id} has no {name}")
    ttl = properties.get("TimeToLiveSpecification", {})
    view_type = properties.get("StreamSpecification", {}).get("StreamViewType")
    if not isinstance(view_type, str):
        raise TemplateError(f"the table {logical_id} has no StreamSpecification.StreamViewType")
    return TableDefinition(
        logical_id=logical_id,
        key_schema=properties["KeySchema"],
        attribute_definitions=properties["AttributeDefinitions"],
        stream_view_type=view_type,
        billing_mode=properties.get("BillingMode", "PROVISIONED"),
        ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") is True else None,
    )


def _mapping(
    logical_id: str, properties: dict[str, Any], resources: dict[str, dict[str, Any]], notes: list[str]
) -> MappingSettings:
    position = properties.get("StartingPosition")
    if position not in ("TRIM_HORIZON", "LATEST"):
        raise TemplateError(f"the mapping {logical_id} has no StartingPosition TRIM_HORIZON or LATEST")
    patterns = tuple(
        str(item["Pattern"]) for item in properties.get("FilterCriteria", {}).get("Filters", []) if "Pattern" in item
    )
    on_failure = target = None
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination is not None:
        target = next(
            filter(None, (_referenced(destination, resources, kind) for kind in ON_FAILURE_DESTINATION_TYPES)), None
        )
        on_failure = f"{resources[target]['Type']} {target}" if target else json.dumps(destination)
        notes.append(f"on-failure destination {on_failure}: written to a local folder instead")
    for ignored in ("ParallelizationFactor", "TumblingWindowInSeconds"):
        value = properties.get(ignored)
        if value not in (None, 1, 0):
            notes.append(f"{ignored}={value} is not emulated: shards are read one batch at a time")
    return MappingSettings(
        logical_id=logical_id,
        starting_position=position,
        batch_size=int(properties.get("BatchSize", DEFAULT_BATCH_SIZE)),
        maximum_batching_window=float(properties.get("MaximumBatchingWindowInSeconds", DEFAULT_BATCHING_WINDOW)),
        report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
        bisect_batch_on_function_error=bool(properties.get("BisectBatchOnFunctionError", False)),
        maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", INFINITE)),
        maximum_record_age=int(properties.get("MaximumRecordAgeInSeconds", INFINITE)),
        filter_patterns=patterns,
        on_failure=on_failure,
        failure_bucket=target if target and resources[target]["Type"] == BUCKET else None,
    )


def _assets(assembly: Path | None, stack_name: str) -> dict[str, Path] | None:
    """``S3Key -> folder`` of the stack's file assets, from ``<stack>.assets.json`` (None: no assembly)."""
    if assembly is None:
        return None
    manifest = assembly / f"{stack_name}.assets.json"
    try:
        files = json.loads(manifest.read_text()).get("files", {})
    except (OSError, ValueError):
        return {}
    found = {}
    for asset in files.values():
        for destination in asset.get("destinations", {}).values():
            key = destination.get("objectKey")
            path = asset.get("source", {}).get("path")
            if isinstance(key, str) and isinstance(path, str):
                found[key] = assembly / path
    return found


def _code(logical_id: str, code: Any, assets: dict[str, Path] | None) -> tuple[Path | None, str]:
    """The folder of the function's code in the cloud assembly, or None and why not."""
    key = code.get("S3Key") if isinstance(code, dict) else None
    if not isinstance(key, str):
        return None, f"the function {logical_id}'s code is no asset of a cloud assembly (Code: {json.dumps(code)})"
    if assets is None:
        return None, f"the function {logical_id}'s code is the asset {key}: read the template in its cloud assembly"
    folder = assets.get(key)
    if folder is None:
        return None, (
            f"the function {logical_id}'s code is the asset {key}, which no <stack>.assets.json beside the "
            "template lists: give a template in its cloud assembly (cdk.out/)"
        )
    if not folder.is_dir():
        return None, f"the function {logical_id}'s code, {folder}, is not a folder of the cloud assembly"
    return folder, ""


def _function(
    logical_id: str,
    properties: dict[str, Any],
    names: dict[str, str],
    notes: list[str],
    failure_bucket: str | None = None,
    assets: dict[str, Path] | None = None,
) -> FunctionSettings:
    handler = properties.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"the function {logical_id} has no Handler of the form module.function")
    environment: dict[str, str] = {}
    failure_bucket_variables: list[str] = []
    for name, value in properties.get("Environment", {}).get("Variables", {}).items():
        if isinstance(value, str):
            environment[name] = value
        elif isinstance(value, dict) and value.get("Ref") in names:
            environment[name] = names[value["Ref"]]
        elif failure_bucket is not None and value == {"Ref": failure_bucket}:
            failure_bucket_variables.append(name)  # set, or noted, by the run (cli.py)
        else:
            notes.append(f"environment variable {name} is {json.dumps(value)} at deploy time: left unset locally")
    if properties.get("Layers"):
        notes.append("layers are not loaded: the handler's libraries come from this virtualenv")
    logging_config = properties.get("LoggingConfig", {})
    code, code_missing = _code(logical_id, properties.get("Code"), assets)
    return FunctionSettings(
        logical_id=logical_id,
        handler=handler,
        environment=environment,
        memory_size=_integer(properties, "MemorySize", DEFAULT_MEMORY_MB, notes),
        timeout=_integer(properties, "Timeout", DEFAULT_TIMEOUT_S, notes),
        application_log_level=str(logging_config.get("ApplicationLogLevel", "INFO")),
        failure_bucket_variables=tuple(failure_bucket_variables),
        runtime=str(properties.get("Runtime", "python3.14")),
        log_format=str(logging_config.get("LogFormat", "Text")),
        code=code,
        code_missing=code_missing,
    )


def _integer(properties: dict[str, Any], name: str, default: int, notes: list[str]) -> int:
    """A number the template may also give as an intrinsic (a parameter, say)."""
    value = properties.get(name, default)
    if isinstance(value, int | str) and str(value).isdigit():
        return int(value)
    notes.append(f"{name} is {json.dumps(value)} at deploy time: {default} locally")
    return default
