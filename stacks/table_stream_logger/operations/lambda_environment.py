"""A function's configuration and the environment Lambda derives from it, for running the function
on this machine as Lambda runs it (lambda_runtime.py).

:func:`lambda_environment` derives, from the function's configuration, the variables Lambda sets
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
``AWS_LAMBDA_LOG_FORMAT`` and ``AWS_LAMBDA_LOG_LEVEL`` as its ``LoggingConfig`` implies them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

# Lambda's defaults for what a function's configuration leaves out.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
DEFAULT_RUNTIME = "python3.14"
LOCAL_ACCOUNT = "123456789012"
# The variables the local process is given from outside, as Lambda gives a role's credentials.
PASSED_THROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


@dataclass(frozen=True)
class FunctionConfig:
    """A function's configuration, as ``AWS::Lambda::Function`` holds it.

    :param code: The folder of its code (the asset), Lambda's ``LAMBDA_TASK_ROOT``.
    :param log_format: ``LoggingConfig.LogFormat``: ``Text`` (Lambda's default) or ``JSON``.
    :param application_log_level: ``LoggingConfig.ApplicationLogLevel`` (JSON only; default INFO).
    :param log_group: ``LoggingConfig.LogGroup``; default ``/aws/lambda/<name>``.
    """

    name: str
    handler: str
    code: Path
    runtime: str = DEFAULT_RUNTIME
    memory_size: int = DEFAULT_MEMORY_MB
    timeout: float = DEFAULT_TIMEOUT_S
    environment: Mapping[str, str] = field(default_factory=dict)
    log_format: str = "Text"
    application_log_level: str | None = None
    log_group: str | None = None
    region: str = "us-east-1"
    account: str = LOCAL_ACCOUNT

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    @property
    def json_logs(self) -> bool:
        return self.log_format.upper() == "JSON"


def lambda_environment(config: FunctionConfig, runtime_api: str, log_stream: str) -> dict[str, str]:
    """The environment Lambda gives the function's process: its variables and Lambda's reserved ones.

    A function's own variables cannot override a reserved one (Lambda refuses to deploy it), so
    they come first and the reserved ones over them.
    """
    runtime_dir = Path(str(awslambdaric_dir())).parent
    variables = {
        **config.environment,
        "_HANDLER": config.handler,
        "LAMBDA_TASK_ROOT": str(config.code),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "TZ": ":UTC",
        "LANG": config.environment.get("LANG", "en_US.UTF-8"),
        "PATH": config.environment.get("PATH", os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])),
    }
    if config.json_logs:
        # Lambda's advanced logging controls: a JSON function gets its log format and level.
        variables["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        variables["AWS_LAMBDA_LOG_LEVEL"] = (config.application_log_level or "INFO").upper()
    return variables


def log_stream_name(now: float) -> str:
    """A log stream's name as Lambda makes it: ``YYYY/MM/DD/[$LATEST]<32 hex digits>``."""
    return f"{datetime.fromtimestamp(now, UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"


def runtime_client_version() -> str:
    """The version of awslambdaric installed, e.g. ``4.2.2``."""
    return metadata.version("awslambdaric")


def awslambdaric_dir() -> Path:
    """Where the runtime client is installed: the process runs it, this one only finds it."""
    spec = importlib.util.find_spec("awslambdaric")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("awslambdaric is not installed: pip install 'table-stream-logger[redrive]'")
    return Path(spec.origin).resolve().parent
