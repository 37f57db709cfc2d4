"""The functions' execution environment: awslambdaric against the local Runtime API, as Lambda runs it.

Probe handlers in a folder of the test's own stand for an asset: they report what the
runtime gave them (environment, context, root logger level), or misbehave as a function can
(an uncaught exception, an import error, a timeout, an exit).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stacks.table_stream_logger.operations.lambda_environment import FunctionConfig
from stacks.table_stream_logger.operations.lambda_runtime import FunctionError, LambdaRuntime

PROBE = """
import json, logging, os, time

INVOCATIONS = 0
print("init: imported")


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError("the probe's own error")
    if event.get("exit"):
        os._exit(3)
    print(json.dumps({"level": "INFO", "message": "probed", "invocation": INVOCATIONS}))
    return {
        "invocations": INVOCATIONS,
        "environment": dict(os.environ),
        "root_level": logging.getLevelName(logging.getLogger().level),
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "event": event,
    }
"""


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("asset")
    (folder / "probe.py").write_text(PROBE)
    (folder / "broken.py").write_text("import a_module_nobody_has\n\ndef handler(event, context):\n    return 1\n")
    return folder


def config(asset: Path, **changes: Any) -> FunctionConfig:
    settings: dict[str, Any] = {
        "name": "Probe",
        "handler": "probe.handler",
        "code": asset,
        "runtime": "python3.14",
        "memory_size": 256,
        "timeout": 3,
        "environment": {"MY_SETTING": "42", "AWS_REGION": "mars-north-1"},
        "log_format": "JSON",
        "application_log_level": "WARN",
        "region": "eu-west-1",
        **changes,
    }
    return FunctionConfig(**settings)


@pytest.fixture(scope="module")
def runtime(asset: Path) -> Iterator[LambdaRuntime]:
    with LambdaRuntime(config(asset), environment={"AWS_ACCESS_KEY_ID": "role-key"}) as started:
        yield started


def test_the_function_gets_the_environment_lambda_derives_from_its_configuration(
    runtime: LambdaRuntime, asset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variable of this process that is no part of the function's configuration
    monkeypatch.setenv("DEVELOPERS_OWN_SETTING", "leaks")

    result = runtime.invoke({"probe": 1})

    environment = result.response["environment"]
    assert result.error is None
    # THEN the reserved variables are Lambda's, from the configuration
    assert {name: environment[name] for name in RESERVED} == {
        "_HANDLER": "probe.handler",
        "LAMBDA_TASK_ROOT": str(asset),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
        "AWS_LAMBDA_FUNCTION_NAME": "Probe",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/Probe",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        # What Lambda's advanced logging controls set, and Powertools obeys over POWERTOOLS_LOG_LEVEL.
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
        # A function's own variable cannot override a reserved one.
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
    }
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", environment["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert Path(environment["LAMBDA_RUNTIME_DIR"], "awslambdaric", "bootstrap.py").is_file()
    assert environment["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    # AND its own variables and the credentials it is given, and nothing else of this process
    assert (environment["MY_SETTING"], environment["AWS_ACCESS_KEY_ID"]) == ("42", "role-key")
    assert "DEVELOPERS_OWN_SETTING" not in environment
    # AND Lambda's bootstrap sets the root logger to the application log level
    assert result.response["root_level"] == "WARNING"


RESERVED = (
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "TZ",
    "AWS_LAMBDA_RUNTIME_API",
)


def test_a_text_log_format_sets_no_log_level(asset: Path) -> None:
    # Lambda sets AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT for the JSON log format only.
    with LambdaRuntime(config(asset, log_format="Text", application_log_level=None)) as runtime:
        environment = runtime.invoke({}).response["environment"]

    assert "AWS_LAMBDA_LOG_LEVEL" not in environment
    assert "AWS_LAMBDA_LOG_FORMAT" not in environment


def test_the_context_is_lambdas_and_the_environment_stays_warm(runtime: LambdaRuntime) -> None:
    first = runtime.invoke({"n": 1}, request_id="request-1")
    second = runtime.invoke({"n": 2}, request_id="request-2")

    # The event and the context as the Runtime API hands them over
    assert (first.response["event"], first.response["request_id"]) == ({"n": 1}, "request-1")
    assert first.response["function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:Probe"
    assert 0 < first.response["remaining_ms"] <= 3000
    # One process for both: its module state is kept, and only the first was a cold start
    assert second.response["invocations"] == first.response["invocations"] + 1
    assert not second.cold_start
    # What the process wrote during each invocation comes back with it, and only with it
    assert second.lines == [f'{{"level": "INFO", "message": "probed", "invocation": {second.response["invocations"]}}}']


def test_an_uncaught_exception_is_reported_as_lambda_does_and_the_environment_stays(runtime: LambdaRuntime) -> None:
    before = runtime.invoke({}).response["invocations"]

    result = runtime.invoke({"raise": True})

    assert result.error is not None
    assert (result.error["errorType"], result.error["errorMessage"]) == ("ValueError", "the probe's own error")
    assert any("raise ValueError" in frame for frame in result.error["stackTrace"])
    # The runtime logs it, as JSON at ERROR in the JSON log format
    (logged,) = result.lines
    assert '"level": "ERROR"' in logged and '"errorType": "ValueError"' in logged
    assert runtime.invoke({}).response["invocations"] == before + 2
    # As a handler for the event source mapping, the error is raised
    with pytest.raises(FunctionError, match="ValueError: the probe's own error"):
        runtime({"raise": True}, None)


def test_a_timeout_stops_the_environment_and_the_next_invocation_starts_a_new_one(asset: Path) -> None:
    with LambdaRuntime(config(asset, timeout=1)) as runtime:
        runtime.invoke({})
        began = time.monotonic()

        result = runtime.invoke({"sleep": 30})

        assert time.monotonic() - began < 10  # stopped at its deadline, not after its sleep
        assert result.error is not None
        assert result.error["errorType"] == "Sandbox.Timedout"
        assert result.error["errorMessage"].endswith(f"{result.request_id} Task timed out after 1.00 seconds")
        again = runtime.invoke({})
        assert again.cold_start and again.response["invocations"] == 1
        assert again.lines[0] == "init: imported"


def test_an_init_error_is_reported_as_lambda_does_and_init_is_tried_again(asset: Path) -> None:
    with LambdaRuntime(config(asset, handler="broken.handler")) as runtime:
        first = runtime.invoke({})
        second = runtime.invoke({})

    for result in (first, second):
        assert result.error is not None
        assert result.error["errorType"] == "Runtime.ImportModuleError"
        assert "No module named 'a_module_nobody_has'" in result.error["errorMessage"]
        assert result.cold_start
    assert any("Runtime.ImportModuleError" in line for line in first.lines)


def test_a_process_that_exits_is_an_exit_error(asset: Path) -> None:
    with LambdaRuntime(config(asset)) as runtime:
        result = runtime.invoke({"exit": True})
        after = runtime.invoke({})

    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in result.error["errorMessage"]
    assert after.cold_start and after.error is None
