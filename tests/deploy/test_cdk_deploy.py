"""`cdk deploy` for real, with the pinned CLI, against a moto server on 127.0.0.1.

bootstrap -> deploy -> inspect with boto3 -> run the shipped code package -> run the redrive
command on the stack (which it finds from the stack's resources) -> destroy. No AWS
account and no outside connection: every SDK call of the CLI goes to the moto server.

What moto cannot do, and how the test works around it (measured with moto 5.2.5 and CDK CLI
2.1148.1):
- It does not know AWS's public SSM parameters, so the test seeds the Powertools layer's one
  (`POWERTOOLS_LAYER_PARAMETER`) with a stand-in value, as moto seeds its own public parameters.
- Stacks created through a change set lose their Outputs, so the deploy uses `--method=direct`
  (a plain CreateStack); updates are not exercised, as moto cannot update a stack reliably.
- Its CloudFormation drops a function's `Architectures` (the function reports x86_64) and
  `Layers`, so arm64 is asserted on the template (tests/unit) and the layer through the stack's
  resolved parameter.
- With an event source mapping in place, moto would try to invoke the function through Docker
  on every table write, so the test writes no item: local record processing is `make local`'s job.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from moto.ssm.models import Parameter, ssm_backends

from local.bookkeeping import Entry, Outcome
from local.on_failure import failure_document
from stacks.table_stream_logger import POWERTOOLS_LAYER_PARAMETER
from stacks.table_stream_logger.operations.lambda_environment import FunctionConfig
from stacks.table_stream_logger.operations.lambda_runtime import LambdaRuntime

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
EVENTS = ROOT / "tests" / "fixtures" / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
STACK = "InventoryStack"
# A stand-in for the value AWS publishes under POWERTOOLS_LAYER_PARAMETER.
LAYER_ARN = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:1"

pytestmark = [
    pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is not installed: run `make deps`"),
    # moto skips the resource types it does not model (AWS::S3::BucketPolicy of the bootstrap
    # stack, ...) with a warning; the resources this test inspects are all modelled.
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported by moto:UserWarning"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto server on a free loopback port, stopped whatever happens."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        ssm_backends[ACCOUNT][REGION]._parameters[POWERTOOLS_LAYER_PARAMETER].append(
            Parameter(  # type: ignore[abstract]  # moto seeds its own public parameters so
                account_id=ACCOUNT,
                name=POWERTOOLS_LAYER_PARAMETER,
                value=LAYER_ARN,
                parameter_type="String",
                description=None,
                allowed_pattern=None,
                keyid=None,
                last_modified_date=datetime.datetime.now(datetime.UTC),
                version=1,
                data_type="text",
            )
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cli_env(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    port = endpoint.rsplit(":", 1)[1]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CDK_"))}
    return {
        **env,
        # The virtualenv's python runs app.py and its Node runs the CLI.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "AWS_ENDPOINT_URL": endpoint,
        # CloudFormation fetches the template from S3 by URL; with 127.0.0.1 in it moto reads
        # the bucket name as "127". A host name keeps the path-style URL intact.
        "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"http://localhost:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "CDK_HOME": str(tmp_path_factory.mktemp("cdk-home")),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
    }


def _cdk(env: dict[str, str], *args: str) -> str:
    process = subprocess.run(
        [str(CDK), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert process.returncode == 0, f"cdk {' '.join(args)} failed:\n{process.stdout}\n{process.stderr}"
    return process.stdout + process.stderr


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def deployed(endpoint: str, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Bootstrap and deploy with the CLI; destroy in the end even when a test failed."""
    out = tmp_path_factory.mktemp("cdk.out")
    _cdk(cli_env, "bootstrap", f"aws://{ACCOUNT}/{REGION}")
    try:
        _cdk(cli_env, "deploy", STACK, "--require-approval", "never", "--method=direct", "--output", str(out))
        yield out
    finally:
        subprocess.run(
            [str(CDK), "destroy", STACK, "--force", "--app", str(out)],
            cwd=ROOT,
            env=cli_env,
            capture_output=True,
            timeout=180,
            check=False,
        )


def _outputs(endpoint: str) -> dict[str, str]:
    (stack,) = _client("cloudformation", endpoint).describe_stacks(StackName=STACK)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def _template(out: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads((out / f"{STACK}.template.json").read_text())
    return template


def _resource(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The logger's resource of a type (the alerts have their own function, role, policy, mapping)."""
    (resource,) = [
        r
        for name, r in template["Resources"].items()
        if r["Type"] == resource_type and not name.startswith("InventoryAlerts")
    ]
    properties: dict[str, Any] = resource["Properties"]
    return properties


def test_stack_is_created_with_all_outputs(deployed: Path, endpoint: str) -> None:
    (stack,) = _client("cloudformation", endpoint).describe_stacks(StackName=STACK)["Stacks"]

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = _outputs(endpoint)
    assert set(outputs) == set(_template(deployed)["Outputs"])
    assert {"TableName", "StreamArn", "FunctionName", "LogGroupName", "EventSourceMappingUuid"} <= set(outputs)


def test_table_has_the_keys_and_stream_of_the_template(deployed: Path, endpoint: str) -> None:
    outputs = _outputs(endpoint)

    table = _client("dynamodb", endpoint).describe_table(TableName=outputs["TableName"])["Table"]

    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"] == outputs["StreamArn"]


def test_function_runs_the_handler_with_the_powertools_layer(deployed: Path, endpoint: str) -> None:
    outputs = _outputs(endpoint)
    expected = _resource(_template(deployed), "AWS::Lambda::Function")

    config = _client("lambda", endpoint).get_function_configuration(FunctionName=outputs["FunctionName"])

    assert config["Runtime"] == "python3.14"
    assert config["Handler"] == "stream_logger.handler"
    # moto's CloudFormation drops Layers from the function too; what it does show is that the
    # layer's parameter resolved from the public Powertools SSM parameter.
    (layer_ref,) = expected["Layers"]
    (stack,) = _client("cloudformation", endpoint).describe_stacks(StackName=STACK)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters[layer_ref["Ref"]] == LAYER_ARN
    assert _template(deployed)["Parameters"][layer_ref["Ref"]]["Default"] == POWERTOOLS_LAYER_PARAMETER
    variables = dict(expected["Environment"]["Variables"])
    # The failure bucket's name, resolved from its Ref by the deployment.
    bucket_ref = variables.pop("FAILURE_BUCKET")
    assert bucket_ref == {
        "Ref": next(k for k, v in _template(deployed)["Resources"].items() if v["Type"] == "AWS::S3::Bucket")
    }
    assert config["Environment"]["Variables"] == {**variables, "FAILURE_BUCKET": outputs["FailureBucketName"]}
    assert config["MemorySize"] == expected["MemorySize"]
    assert config["Timeout"] == expected["Timeout"]


def test_event_source_mapping_equals_the_template(deployed: Path, endpoint: str) -> None:
    outputs = _outputs(endpoint)
    expected = _resource(_template(deployed), "AWS::Lambda::EventSourceMapping")

    mapping = _client("lambda", endpoint).get_event_source_mapping(UUID=outputs["EventSourceMappingUuid"])

    assert mapping["EventSourceArn"] == outputs["StreamArn"]
    assert mapping["FunctionArn"].endswith(f":function:{outputs['FunctionName']}")
    for name in ("BatchSize", "StartingPosition", "MaximumBatchingWindowInSeconds"):
        assert mapping[name] == expected[name], name


def test_role_carries_only_the_template_policy(deployed: Path, endpoint: str) -> None:
    outputs = _outputs(endpoint)
    iam = _client("iam", endpoint)
    role_name = (
        _client("lambda", endpoint)
        .get_function_configuration(FunctionName=outputs["FunctionName"])["Role"]
        .rsplit("/", 1)[1]
    )

    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    actions = sorted(
        action
        for statement in document["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    )
    expected = _resource(_template(deployed), "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    assert actions == sorted(
        action
        for statement in expected
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    )
    list_streams = [s for s in document["Statement"] if s["Action"] == "dynamodb:ListStreams"]
    assert list_streams == [{"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"}]
    stream_read = next(s for s in document["Statement"] if "dynamodb:GetRecords" in s["Action"])
    assert stream_read["Resource"] == outputs["StreamArn"]


def test_shipped_code_package_holds_a_working_handler(deployed: Path, endpoint: str, tmp_path: Path) -> None:
    # GIVEN the code package the CLI uploaded to the bootstrap bucket, as the function has it
    outputs = _outputs(endpoint)
    config = _client("lambda", endpoint).get_function_configuration(FunctionName=outputs["FunctionName"])
    code = _resource(_template(deployed), "AWS::Lambda::Function")["Code"]
    bucket = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
    package = _client("s3", endpoint).get_object(Bucket=bucket, Key=code["S3Key"])["Body"].read()
    assert base64.b64encode(hashlib.sha256(package).digest()).decode() == config["CodeSha256"]
    archive = tmp_path / "package.zip"
    archive.write_bytes(package)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path / "task")

    assert sorted(path.name for path in (tmp_path / "task").iterdir()) == [
        "dynamo_json.py",
        "line_render.py",
        "line_writer.py",
        "oversized.py",
        "stream_common.py",
        "stream_logger.py",
    ]

    # WHEN Lambda's runtime client runs the unzipped package alone (Powertools stands in for the
    # layer), with the configuration the function was deployed with, and the tutorial's event
    function = _resource(_template(deployed), "AWS::Lambda::Function")
    logging_config = function["LoggingConfig"]  # moto does not keep it: read from the deployed template
    deployed_function = FunctionConfig(
        name=config["FunctionName"],
        handler=config["Handler"],
        code=tmp_path / "task",
        runtime=config["Runtime"],
        memory_size=config["MemorySize"],
        timeout=config["Timeout"],
        environment=config["Environment"]["Variables"],
        log_format=logging_config["LogFormat"],
        application_log_level=logging_config.get("ApplicationLogLevel"),
        region=REGION,
    )
    with LambdaRuntime(deployed_function, environment={}) as runtime:
        result = runtime.invoke(json.loads((EVENTS / "tutorial_modify.json").read_text()))

    # THEN it logs the tutorial's line and reports no failure
    assert result.error is None, result.lines
    assert runtime.environment["LAMBDA_TASK_ROOT"] == str(tmp_path / "task")
    assert runtime.environment["AWS_LAMBDA_LOG_LEVEL"] == logging_config["ApplicationLogLevel"]
    record_line = next(line for line in result.lines if '"event_name"' in line)
    assert json.loads(record_line)["message"] == "MODIFY FRUIT / APPLE#WASHINGTON"
    assert '"new_image":{"PK":"FRUIT","SK":"APPLE#WASHINGTON","Price":{"USD":0.8,"INR":50},"Stocks":32}' in record_line
    assert result.response == {"batchItemFailures": []}


def test_alerts_topic_and_function_are_deployed(deployed: Path, endpoint: str) -> None:
    outputs = _outputs(endpoint)
    topics = [topic["TopicArn"] for topic in _client("sns", endpoint).list_topics()["Topics"]]
    functions = _client("lambda", endpoint).list_functions()["Functions"]

    assert outputs["AlertTopicArn"] in topics
    (alerts,) = [function for function in functions if function["Handler"] == "change_alerts.handler"]
    assert alerts["Environment"]["Variables"]["TOPIC_ARN"] == outputs["AlertTopicArn"]
    assert outputs["AlertsFunctionName"] == alerts["FunctionName"]  # where the redrive command finds it


def _park(endpoint: str, bucket: str, mapping: str, function_arn: str, stream_arn: str, name: str) -> str:
    """A batch of one record parked in ``bucket`` under ``mapping``, as Lambda writes it (moto's
    mappings deliver nothing: the test writes no item)."""
    record = {
        "eventID": name,
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "Keys": {"PK": {"S": "FRUIT"}, "SK": {"S": name}},
            "SequenceNumber": "100",
            "ApproximateCreationDateTime": 1,
        },
    }
    document = failure_document(
        [Entry(record, "shardId-1", invocations=11)],
        condition="RetryAttemptsExhausted",
        outcome=Outcome(False, request_id="r"),
        function_arn=function_arn,
        stream_arn=stream_arn,
        now=1_796_000_000,
    )
    key = f"aws/lambda/{mapping}/shardId-1/2026/12/01/{name}.json"
    _client("s3", endpoint).put_object(Bucket=bucket, Key=key, Body=json.dumps(document))
    return key


def test_the_redrive_command_finds_both_readers_from_the_stacks_resources(
    deployed: Path, endpoint: str, cli_env: dict[str, str]
) -> None:
    # GIVEN a batch of each reader parked in the deployed failure bucket, under the reader's mapping
    outputs = _outputs(endpoint)
    functions = _client("lambda", endpoint)
    resources = _client("cloudformation", endpoint).list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    mapping_of = {
        functions.get_event_source_mapping(UUID=uuid)["FunctionArn"]: uuid
        for uuid in (
            r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::EventSourceMapping"
        )
    }
    bucket, stream = outputs["FailureBucketName"], outputs["StreamArn"]
    readers = [outputs["FunctionName"], outputs["AlertsFunctionName"]]
    for name in readers:
        arn = functions.get_function_configuration(FunctionName=name)["FunctionArn"]
        _park(endpoint, bucket, mapping_of[arn], arn, stream, name)

    # WHEN the operator dry-runs a replay with the stack's name alone, as the shipped command
    process = subprocess.run(
        [sys.executable, "-m", "stacks.table_stream_logger", "replay", "--all", "--stack-name", STACK],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN it found the bucket and both functions from the stack's mappings: each batch goes to its own
    assert process.returncode == 0, process.stderr
    first = process.stdout.splitlines()[0]
    assert first.startswith("dry run: would invoke ") and first.endswith(", one at a time:"), first
    invoked = first.removeprefix("dry run: would invoke ").removesuffix(", one at a time:").split(" and ")
    assert sorted(invoked) == sorted(f"{name} with 1 batch(es)" for name in readers)


def test_destroy_removes_the_stack_and_keeps_the_table(deployed: Path, endpoint: str, cli_env: dict[str, str]) -> None:
    table_name = _outputs(endpoint)["TableName"]

    _cdk(cli_env, "destroy", STACK, "--force", "--app", str(deployed))

    stacks = _client("cloudformation", endpoint).list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == STACK] == ["DELETE_COMPLETE"]
    assert table_name in _client("dynamodb", endpoint).list_tables()["TableNames"]
