"""The app's settings as app.py reads them from the context (cdk.json, then `-c key=value`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.settings import AppSettings
from tests.conftest import CDK_CONTEXT, ROOT


def settings(**context: Any) -> AppSettings:
    return AppSettings.from_context(cdk.App(context={**CDK_CONTEXT, **context}).node)


def test_defaults_are_those_of_cdk_json() -> None:
    assert settings() == AppSettings(
        service_name="inventory",
        log_level="INFO",
        stage="dev",
        destroy_on_delete=False,
        alarm_topic_arn=None,
    )


def test_context_values_from_the_command_line_are_strings() -> None:
    # `cdk deploy -c stage=prod -c alarm_topic_arn=...` passes every value as a string.
    topic = "arn:aws:sns:eu-west-1:123456789012:on-call"
    assert settings(stage="prod", alarm_topic_arn=topic) == AppSettings(
        service_name="inventory", log_level="INFO", stage="prod", alarm_topic_arn=topic
    )
    assert settings(destroy_on_delete="true").destroy_on_delete is True
    assert settings(destroy_on_delete="False").destroy_on_delete is False
    assert settings(destroy_on_delete=True).destroy_on_delete is True


def test_stage_defaults_to_dev_when_the_context_has_none() -> None:
    context = {key: value for key, value in CDK_CONTEXT.items() if key not in ("stage", "destroy_on_delete")}
    read = AppSettings.from_context(cdk.App(context=context).node)

    assert (read.stage, read.destroy_on_delete) == ("dev", False)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"stage": "staging"},
            r"stage must be one of dev, prod, got 'staging' \(e.g. `make deploy CDK_ARGS=\"-c stage=prod\"`\)",
        ),
        ({"log_level": "verbose"}, r"log_level must be one of DEBUG, INFO, WARN, ERROR \(any case\), got 'VERBOSE'"),
        ({"service_name": ""}, r"service_name must be 1 to 1024 printable ASCII characters, .*, got ''"),
        ({"service_name": " "}, r"service_name must be .*, got ' '"),
        ({"service_name": "café"}, r"service_name must be .*, got 'café'"),
        ({"service_name": "x" * 1025}, r"service_name must be 1 to 1024"),
        (
            {"alarm_topic_arn": "on-call"},
            r"alarm_topic_arn must be the ARN of an SNS topic, arn:aws:sns:<region>:<account>:<topic>, got 'on-call'",
        ),
        (
            {"alarm_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"},
            r"alarm_topic_arn must be the ARN of an SNS topic",
        ),
        ({"stage": "prod", "destroy_on_delete": "true"}, r"destroy_on_delete=true is refused with stage=prod"),
        ({"destroy_on_delete": "yes"}, r"context destroy_on_delete must be true or false, got 'yes'"),
        ({"destroy_on_delete": 1}, r"context destroy_on_delete must be true or false, got 1"),
        ({"stage": 1}, r"context stage must be a string, got 1"),
    ],
)
def test_invalid_context_is_an_error(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(**context)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stagee": "prod"}, "-c stagee=prod: no such setting; did you mean stage?"),
        ({"log-level": "DEBUG"}, "-c log-level=DEBUG: no such setting; did you mean log_level?"),
        ({"Stage": "prod"}, "-c Stage=prod: no such setting; did you mean stage?"),
        ({"alert-email": "a@b.c"}, "-c alert-email=a@b.c: no such setting; did you mean alert_email?"),
        (
            {"colour": "red"},
            "-c colour=red: no such setting; the settings are service_name, log_level, stage, "
            "destroy_on_delete, alarm_topic_arn, alert_email",
        ),
    ],
)
def test_an_unknown_key_is_refused_with_the_nearest_setting(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        settings(**context)

    assert str(error.value) == message


def test_the_cdks_own_keys_pass() -> None:
    # Feature flags, what the CLI injects, cached lookups, the CLI's own settings of cdk.json.
    assert (
        settings(
            **{
                "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
                "aws:cdk:enable-path-metadata": True,
                "aws:cdk:bundling-stacks": ["**"],
                "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
                "cli-telemetry": False,
                "acknowledged-issue-numbers": [12345],
                "cdk-foo": "bar",
            }
        )
        == settings()
    )


def test_a_log_level_is_read_in_any_case() -> None:
    assert settings(log_level="debug").log_level == "DEBUG"
    assert settings(log_level=" Warn ").log_level == "WARN"


def test_valid_values_pass() -> None:
    topic = "arn:aws-cn:sns:cn-north-1:123456789012:on-call.fifo"
    assert settings(service_name="shop inventory", alarm_topic_arn=topic).alarm_topic_arn == topic


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ('"stage": "qa"', "stage must be one of dev, prod, got 'qa' (e.g. `make deploy CDK_ARGS=\"-c stage=prod\"`)"),
        ('"log_level": "verbose"', "log_level must be one of DEBUG, INFO, WARN, ERROR (any case), got 'VERBOSE'"),
        ('"alarm_topic_arn": "on-call"', "alarm_topic_arn must be the ARN of an SNS topic, "),
        ('"service_name": ""', "service_name must be 1 to 1024 printable ASCII characters"),
        ('"stagee": "prod"', "-c stagee=prod: no such setting; did you mean stage?"),
    ],
)
def test_app_reports_an_invalid_setting_in_one_line_without_a_traceback(context: str, message: str) -> None:
    # As `cdk synth -c stage=qa` runs it: the CLI hands the context over in CDK_CONTEXT_JSON.
    environment = {
        **os.environ,
        # The virtualenv's Node first, as `make` and the CDK CLI run the app.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_CONTEXT_JSON": '{"service_name": "s", "log_level": "INFO", ' + context + "}",
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Invalid setting: {message}")
