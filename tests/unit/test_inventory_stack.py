"""Precise assertions on the synthesized InventoryStack."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk import assertions, cx_api
from aws_lambda_powertools.shared.version import VERSION as INSTALLED_POWERTOOLS
from cfnlint.api import ManualArgs, lint

from stacks.table_stream_logger import POWERTOOLS_VERSION

# Pinned on purpose: a new logical ID makes CloudFormation replace the table, and with it
# (under RETAIN) orphan the old one and its data. Change it only with a migration plan.
TABLE = "InventoryLoggerTableB5D61A0C"
# Pinned too: a new mapping would start again at TRIM_HORIZON and log a day of changes twice.
MAPPING = "InventoryLoggerFunctionDynamoDBEventSourceInventoryStackInventoryLoggerStream60906DDB38CCB648"
FUNCTION = "InventoryLoggerFunction6352DB15"
ROLE = "InventoryLoggerRoleCA5AC158"
LOG_GROUP = "InventoryLoggerLogGroup24D28F13"
QUEUE = "InventoryLoggerFailureQueue2CBD597B"
LAYER_PARAMETER = (
    "SsmParameterValueawsservicepowertoolspythonarm64python3143370C96584B6F00A464EAD1953AFF4B05118Parameter"
)


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def test_stack_has_exactly_these_resources(template: assertions.Template) -> None:
    resources = template.to_json()["Resources"]
    types = sorted(resource["Type"] for resource in resources.values())
    assert types == [
        "AWS::DynamoDB::Table",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
    ]


def test_table(template: assertions.Template) -> None:
    assert template.find_resources("AWS::DynamoDB::Table") == {
        TABLE: {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [
                    {"AttributeName": "PK", "AttributeType": "S"},
                    {"AttributeName": "SK", "AttributeType": "S"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    }


def test_event_source_mapping(template: assertions.Template) -> None:
    assert template.find_resources("AWS::Lambda::EventSourceMapping") == {
        MAPPING: {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "BatchSize": 100,
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": get_att(QUEUE, "Arn")}},
                "EventSourceArn": get_att(TABLE, "StreamArn"),
                "FunctionName": ref(FUNCTION),
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumBatchingWindowInSeconds": 1,
                "MaximumRecordAgeInSeconds": 6 * 3600,
                "MaximumRetryAttempts": 10,
                "ParallelizationFactor": 1,
                "StartingPosition": "TRIM_HORIZON",
            },
        }
    }


def test_function(template: assertions.Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    assert list(functions) == [FUNCTION]
    properties = dict(functions[FUNCTION]["Properties"])
    code = properties.pop("Code")

    assert code["S3Key"].endswith(".zip")
    assert properties == {
        "Architectures": ["arm64"],
        "Description": "Logs every change of a DynamoDB table as one JSON line",
        "Environment": {
            "Variables": {
                "POWERTOOLS_SERVICE_NAME": "inventory",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_METRICS_NAMESPACE": "TableStreamLogger",
                "LOG_IMAGES": "NEW_AND_OLD",
                "REDACT_ATTRIBUTES": "[]",
                "KEY_ATTRIBUTES": '["PK","SK"]',
            }
        },
        "Handler": "stream_logger.handler",
        "Layers": [ref(LAYER_PARAMETER)],
        "LoggingConfig": {
            "ApplicationLogLevel": "INFO",
            "LogFormat": "JSON",
            "LogGroup": ref(LOG_GROUP),
            "SystemLogLevel": "WARN",
        },
        "MemorySize": 256,
        "Role": get_att(ROLE, "Arn"),
        "Runtime": "python3.14",
        "Timeout": 30,
    }


def test_powertools_layer_comes_from_the_public_parameter_of_the_tested_version(
    template: assertions.Template,
) -> None:
    assert POWERTOOLS_VERSION == INSTALLED_POWERTOOLS
    assert template.to_json()["Parameters"][LAYER_PARAMETER] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/arm64/python3.14/{INSTALLED_POWERTOOLS}",
    }


def test_log_group(template: assertions.Template) -> None:
    assert template.find_resources("AWS::Logs::LogGroup") == {
        LOG_GROUP: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 30},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    }


def test_role_has_no_managed_policies(template: assertions.Template) -> None:
    assert template.find_resources("AWS::IAM::Role") == {
        ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                        }
                    ],
                    "Version": "2012-10-17",
                },
                "Description": "Reads the table's stream and writes the function's log group",
            },
        }
    }


def test_role_policy_is_exactly_least_privilege(template: assertions.Template) -> None:
    assert template.find_resources("AWS::IAM::Policy") == {
        "InventoryLoggerRoleDefaultPolicy4E29B359": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Effect": "Allow",
                            "Resource": get_att(LOG_GROUP, "Arn"),
                        },
                        {
                            "Action": "sqs:SendMessage",
                            "Effect": "Allow",
                            "Resource": get_att(QUEUE, "Arn"),
                        },
                        {
                            "Action": "dynamodb:ListStreams",
                            "Effect": "Allow",
                            "Resource": "*",
                        },
                        {
                            "Action": [
                                "dynamodb:DescribeStream",
                                "dynamodb:GetRecords",
                                "dynamodb:GetShardIterator",
                            ],
                            "Effect": "Allow",
                            "Resource": get_att(TABLE, "StreamArn"),
                        },
                    ],
                    "Version": "2012-10-17",
                },
                "PolicyName": "InventoryLoggerRoleDefaultPolicy4E29B359",
                "Roles": [ref(ROLE)],
            },
        }
    }


def test_failure_queue_is_encrypted_and_refuses_plain_http(template: assertions.Template) -> None:
    assert template.find_resources("AWS::SQS::Queue") == {
        QUEUE: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True},
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        }
    }
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "sqs:*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Resource": get_att(QUEUE, "Arn"),
                    }
                ],
                "Version": "2012-10-17",
            },
            "Queues": [ref(QUEUE)],
        },
    )


def test_outputs(template: assertions.Template) -> None:
    assert template.to_json()["Outputs"] == {
        "TableName": {"Value": ref(TABLE)},
        "StreamArn": {"Value": get_att(TABLE, "StreamArn")},
        "FunctionName": {"Value": ref(FUNCTION)},
        "LogGroupName": {"Value": ref(LOG_GROUP)},
        "EventSourceMappingUuid": {"Value": ref(MAPPING)},
    }


def test_template_passes_cfn_lint(template: assertions.Template) -> None:
    # W3005 flags the DependsOn on the role that CDK always writes for a function; it is
    # redundant but harmless.
    matches = lint(
        json.dumps(template.to_json()),
        regions=["us-east-1"],
        config=ManualArgs(ignore_checks=["W3005"]),
    )
    assert [str(match) for match in matches] == []


def test_function_asset_is_the_handler_without_caches(
    template: assertions.Template, cloud_assembly: cx_api.CloudAssembly
) -> None:
    assembly_dir = Path(cloud_assembly.directory)
    manifest: dict[str, Any] = json.loads((assembly_dir / "InventoryStack.assets.json").read_text())
    s3_key = template.find_resources("AWS::Lambda::Function")[FUNCTION]["Properties"]["Code"]["S3Key"]
    (asset,) = (
        entry
        for entry in manifest["files"].values()
        if any(d["objectKey"] == s3_key for d in entry["destinations"].values())
    )
    assert asset["source"]["packaging"] == "zip"

    asset_dir = assembly_dir / asset["source"]["path"]
    files = sorted(str(path.relative_to(asset_dir)) for path in asset_dir.rglob("*"))
    assert "stream_logger.py" in files
    assert not [name for name in files if re.search(r"__pycache__|\.pyc$|_cache", name)]
