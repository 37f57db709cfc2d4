"""Precise assertions on the synthesized InventoryStack."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions, cx_api
from aws_lambda_powertools.shared.version import VERSION as INSTALLED_POWERTOOLS

from stacks.inventory_stack import InventoryStack
from stacks.table_stream_logger import POWERTOOLS_VERSION
from stacks.table_stream_logger._core.compliance import ACCESS_LOGS_REASON, LOG_KEY_REASON, TABLE_KEY_REASON
from tests.conftest import CDK_CONTEXT, build_inventory_app

# Pinned on purpose: a new logical ID makes CloudFormation replace the table, and with it
# (under RETAIN) orphan the old one and its data. Change it only with a migration plan.
TABLE = "InventoryLoggerTableB5D61A0C"
# Pinned too: a new bucket would orphan the parked batches of the old one.
BUCKET = "InventoryLoggerFailureBucket5426844C"
# Pinned too: a new mapping would start again at TRIM_HORIZON and log a day of changes twice.
MAPPING = "InventoryLoggerFunctionDynamoDBEventSourceInventoryStackInventoryLoggerStream60906DDB38CCB648"
LOG_GROUP = "InventoryLoggerLogGroup24D28F13"
LOG_KEY = "LogKeyE83D0C1B"
DATA_KEY = "DataKey17AFBB84"
LOGGER_POLICY = "InventoryLoggerRoleDefaultPolicy4E29B359"
ALERTS_POLICY = "InventoryAlertsRoleDefaultPolicyAC663909"
ARCHIVE_DELIVERY_POLICY = "InventoryLoggerArchiveDeliveryRoleDefaultPolicy77EB3596"
BUCKET_POLICY = "InventoryLoggerFailureBucketPolicy679C1638"
# Everything of the change archive, which only the prod stage has, is under this logical ID prefix.
ARCHIVE = "InventoryLoggerArchive"
# Pinned too: a new archive bucket would leave years of changes behind in the old one.
ARCHIVE_BUCKET = "InventoryLoggerArchiveBucket580F6899"
FUNCTION = "InventoryLoggerFunction6352DB15"
ROLE = "InventoryLoggerRoleCA5AC158"
POLICY = "InventoryLoggerRoleDefaultPolicy4E29B359"
DASHBOARD = "InventoryLoggerDashboardF7BF9B4D"
ALARMS = {
    "IteratorAge": "InventoryLoggerIteratorAgeAlarm00A56AB0",
    "Errors": "InventoryLoggerErrorsAlarm3672CBA3",
    "Throttles": "InventoryLoggerThrottlesAlarm418385B2",
    "RecordsParked": "InventoryLoggerRecordsParkedAlarm01A0B626",
    "RecordsDropped": "InventoryLoggerRecordsDroppedAlarm44E4F0BF",
}
# The back-in-stock alerts (tests/unit/app/test_inventory_alerts.py), pinned too: a new mapping would
# read the stream again from TRIM_HORIZON and publish a day of alerts twice.
ALERTS_MAPPING = "InventoryAlertsFunctionDynamoDBEventSourceInventoryStackInventoryAlertsStream7327FBFA8F90B5B0"
ALERTS_TOPIC = "InventoryAlertsTopicD3F8E616"
ALERTS_LOG_GROUP = "InventoryAlertsLogGroup307822DE"
ALERTS_FUNCTION = "InventoryAlertsFunction9EEF9359"
ALERTS_ALARMS = {
    "IteratorAge": "InventoryAlertsIteratorAgeAlarm763C59FF",
    "Errors": "InventoryAlertsErrorsAlarmE0A09BF1",
    "Throttles": "InventoryAlertsThrottlesAlarmBC4D1045",
    "RecordsParked": "InventoryAlertsRecordsParkedAlarm78512541",
    "RecordsDropped": "InventoryAlertsRecordsDroppedAlarmB42A7C62",
}
LAYER_PARAMETER = (
    "SsmParameterValueawsservicepowertoolspythonarm64python3143370C96584B6F00A464EAD1953AFF4B05118Parameter"
)


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def objects_of(logical_id: str, prefix: str = "") -> dict[str, Any]:
    return {"Fn::Join": ["", [get_att(logical_id, "Arn"), f"/{prefix}*"]]}


def checkov_skip(check_id: str, reason: str) -> dict[str, Any]:
    """A resource's Metadata that skips one checkov check (test_compliance.py pins every skip)."""
    return {"checkov": {"skip": [{"id": check_id, "comment": reason}]}}


def logger_resources(template: assertions.Template, resource_type: str) -> dict[str, Any]:
    """The resources of a type that the logger built (the alerts have their own of most types)."""
    found = template.find_resources(resource_type)
    return {name: resource for name, resource in found.items() if name.startswith("InventoryLogger")}


def rendered(value: Any) -> Any:
    """A Fn::Join of JSON text, parsed back, with each Ref written as ``${LogicalId}``."""
    (separator, parts) = value["Fn::Join"]
    return json.loads(separator.join(part if isinstance(part, str) else "${" + part["Ref"] + "}" for part in parts))


def test_stack_has_exactly_these_resources(template: assertions.Template) -> None:
    resources = template.to_json()["Resources"]
    types = sorted(resource["Type"] for resource in resources.values())
    # The logger's, and the alerts' own of each consumer's kind (they share the failure bucket).
    assert types == [
        *["AWS::CloudWatch::Alarm"] * 10,
        "AWS::CloudWatch::Dashboard",
        "AWS::DynamoDB::Table",
        *["AWS::IAM::Policy"] * 2,
        *["AWS::IAM::Role"] * 2,
        *["AWS::Lambda::EventSourceMapping"] * 2,
        *["AWS::Lambda::Function"] * 2,
        *["AWS::Logs::LogGroup"] * 2,
        *["AWS::Logs::QueryDefinition"] * 5,
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
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
                # DynamoDB's TTL deletes a listing after its ExpiresAt (the listing-expired alert).
                "TimeToLiveSpecification": {"AttributeName": "ExpiresAt", "Enabled": True},
                # No SSESpecification: an AWS owned key, DynamoDB's default.
            },
            "Metadata": checkov_skip("CKV_AWS_119", TABLE_KEY_REASON),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    }


def test_event_source_mapping(template: assertions.Template) -> None:
    assert logger_resources(template, "AWS::Lambda::EventSourceMapping") == {
        MAPPING: {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "BatchSize": 100,
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": get_att(BUCKET, "Arn")}},
                "EventSourceArn": get_att(TABLE, "StreamArn"),
                "FunctionName": ref(FUNCTION),
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumBatchingWindowInSeconds": 1,
                "MaximumRecordAgeInSeconds": 6 * 3600,
                "MaximumRetryAttempts": 10,
                "MetricsConfig": {"Metrics": ["EventCount"]},
                "ParallelizationFactor": 1,
                "StartingPosition": "TRIM_HORIZON",
            },
        }
    }


def test_function(template: assertions.Template) -> None:
    functions = logger_resources(template, "AWS::Lambda::Function")
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
                "LOG_IMAGES": "NEW_AND_CHANGES",
                "LOG_CONTEXT_KEYS": "ONCE",
                "REDACT_ATTRIBUTES": "[]",
                "KEY_ATTRIBUTES": '["PK","SK"]',
                "FAILURE_BUCKET": ref(BUCKET),
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


def test_function_waits_for_its_grants_not_for_its_role_again(template: assertions.Template) -> None:
    # The role is already a dependency through Role: Fn::GetAtt (cfn-lint W3005 otherwise);
    # the policy is not, and the function (then the mapping) must not exist before it.
    assert template.find_resources("AWS::Lambda::Function")[FUNCTION]["DependsOn"] == [POLICY]


def test_powertools_layer_comes_from_the_public_parameter_of_the_tested_version(
    template: assertions.Template,
) -> None:
    assert POWERTOOLS_VERSION == INSTALLED_POWERTOOLS
    assert template.to_json()["Parameters"][LAYER_PARAMETER] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/arm64/python3.14/{INSTALLED_POWERTOOLS}",
    }


def test_log_group(template: assertions.Template) -> None:
    assert logger_resources(template, "AWS::Logs::LogGroup") == {
        LOG_GROUP: {
            "Type": "AWS::Logs::LogGroup",
            # The history query's filterIndex fields (python -m table_stream_logger history).
            "Properties": {
                "RetentionInDays": 30,
                "FieldIndexPolicies": [{"Fields": ["keys.PK", "keys.SK", "event_name"]}],
            },
            "Metadata": checkov_skip("CKV_AWS_158", LOG_KEY_REASON),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    }


def test_role_has_no_managed_policies(template: assertions.Template) -> None:
    assert logger_resources(template, "AWS::IAM::Role") == {
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
    assert logger_resources(template, "AWS::IAM::Policy") == {
        POLICY: {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Effect": "Allow",
                            "Resource": get_att(LOG_GROUP, "Arn"),
                        },
                        # What the Lambda guide lists for an S3 on-failure destination, under
                        # Lambda's prefix; and the handler's copies of oversized records.
                        {
                            "Action": "s3:PutObject",
                            "Effect": "Allow",
                            "Resource": [objects_of(BUCKET, "aws/lambda/"), objects_of(BUCKET, "oversized/")],
                        },
                        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(BUCKET, "Arn")},
                        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"},
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
                "PolicyName": POLICY,
                "Roles": [ref(ROLE)],
            },
        }
    }


def test_failure_bucket(template: assertions.Template) -> None:
    assert template.find_resources("AWS::S3::Bucket") == {
        BUCKET: {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                            "ExpirationInDays": 30,
                            "Id": "ExpireParkedBatches",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                            "Status": "Enabled",
                        },
                        {"ExpiredObjectDeleteMarker": True, "Id": "RemoveExpiredDeleteMarkers", "Status": "Enabled"},
                    ]
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                # No BucketName: generated, so two stacks never collide.
            },
            "Metadata": checkov_skip("CKV_AWS_18", ACCESS_LOGS_REASON),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    }


def test_failure_bucket_refuses_plain_http_and_grants_nothing(template: assertions.Template) -> None:
    assert template.find_resources("AWS::S3::BucketPolicy") == {
        BUCKET_POLICY: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref(BUCKET),
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": "s3:*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Resource": [get_att(BUCKET, "Arn"), objects_of(BUCKET)],
                        }
                    ],
                    "Version": "2012-10-17",
                },
            },
        }
    }


def _count_alarm(metric: str, dimension: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanThreshold",
            "Dimensions": [dimension],
            "EvaluationPeriods": 1,
            "MetricName": metric,
            "Namespace": "AWS/Lambda",
            "Period": 300,
            "Statistic": "Sum",
            "Threshold": 0,
            "TreatMissingData": "notBreaching",
        },
    }


def test_alarms(template: assertions.Template) -> None:
    by_function = {"Name": "FunctionName", "Value": ref(FUNCTION)}
    by_mapping = {"Name": "EventSourceMappingUUID", "Value": ref(MAPPING)}
    alarms = logger_resources(template, "AWS::CloudWatch::Alarm")
    descriptions = {ALARMS[name]: alarms[ALARMS[name]]["Properties"]["AlarmDescription"] for name in ALARMS}

    assert alarms == {
        ALARMS["IteratorAge"]: {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": descriptions[ALARMS["IteratorAge"]],
                "ComparisonOperator": "GreaterThanThreshold",
                "DatapointsToAlarm": 3,
                "Dimensions": [by_function],
                "EvaluationPeriods": 5,
                "MetricName": "IteratorAge",
                "Namespace": "AWS/Lambda",
                "Period": 60,
                "Statistic": "Maximum",
                "Threshold": 60_000,
                "TreatMissingData": "notBreaching",
            },
        },
        ALARMS["Errors"]: _count_alarm("Errors", by_function, descriptions[ALARMS["Errors"]]),
        ALARMS["Throttles"]: _count_alarm("Throttles", by_function, descriptions[ALARMS["Throttles"]]),
        ALARMS["RecordsParked"]: _count_alarm(
            "OnFailureDestinationDeliveredEventCount", by_mapping, descriptions[ALARMS["RecordsParked"]]
        ),
        ALARMS["RecordsDropped"]: _count_alarm("DroppedEventCount", by_mapping, descriptions[ALARMS["RecordsDropped"]]),
    }
    # Each says what happened and where to look, and none is silent about its threshold.
    assert "over 1 minute" in descriptions[ALARMS["IteratorAge"]]
    assert "python -m table_stream_logger" in descriptions[ALARMS["RecordsParked"]]
    assert "lost" in descriptions[ALARMS["RecordsDropped"]]


def test_dashboard_shows_the_alarmed_metrics_and_the_handlers_own(template: assertions.Template) -> None:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").items()
    logical_id, resource = dashboard
    assert logical_id == DASHBOARD
    assert set(resource["Properties"]) == {"DashboardBody"}  # no DashboardName: generated

    function, mapping = "${" + FUNCTION + "}", "${" + MAPPING + "}"
    widgets = rendered(resource["Properties"]["DashboardBody"])["widgets"]
    assert [(w["properties"]["title"], w["properties"]["metrics"]) for w in widgets] == [
        (
            "Stream lag: IteratorAge (ms, maximum)",
            [["AWS/Lambda", "IteratorAge", "FunctionName", function, {"period": 60, "stat": "Maximum"}]],
        ),
        (
            "Function errors and throttles",
            [
                ["AWS/Lambda", "Errors", "FunctionName", function, {"period": 60, "stat": "Sum"}],
                ["AWS/Lambda", "Throttles", "FunctionName", function, {"period": 60, "stat": "Sum"}],
            ],
        ),
        (
            "Records logged, by event name",
            [
                ["TableStreamLogger", name, "service", "inventory", {"period": 60, "stat": "Sum"}]
                for name in ("InsertRecords", "ModifyRecords", "RemoveRecords")
            ],
        ),
        (
            "Failed records: reported, parked, dropped",
            [
                ["TableStreamLogger", "FailedRecords", "service", "inventory", {"period": 60, "stat": "Sum"}],
                [
                    "AWS/Lambda",
                    "OnFailureDestinationDeliveredEventCount",
                    "EventSourceMappingUUID",
                    mapping,
                    {"period": 60, "stat": "Sum"},
                ],
                ["AWS/Lambda", "DroppedEventCount", "EventSourceMappingUUID", mapping, {"period": 60, "stat": "Sum"}],
            ],
        ),
    ]
    assert widgets[0]["properties"]["annotations"] == {
        "horizontal": [{"value": 60_000, "label": "alarm threshold", "yAxis": "left"}]
    }


def test_outputs(template: assertions.Template) -> None:
    assert template.to_json()["Outputs"] == {
        "TableName": {"Value": ref(TABLE)},
        "StreamArn": {"Value": get_att(TABLE, "StreamArn")},
        "FunctionName": {"Value": ref(FUNCTION)},
        "LogGroupName": {"Value": ref(LOG_GROUP)},
        "EventSourceMappingUuid": {"Value": ref(MAPPING)},
        "FailureBucketName": {"Value": ref(BUCKET)},
        "DashboardName": {"Value": ref(DASHBOARD)},
        "AlertTopicArn": {"Value": ref(ALERTS_TOPIC)},
        "AlertsFunctionName": {"Value": ref(ALERTS_FUNCTION)},
    }


# Each function's asset: its handler's modules, the helpers both share and the DynamoDB JSON
# rendering, and nothing of the other handler's.
LOGGER_FILES = [
    "dynamo_json.py",
    "line_render.py",
    "line_writer.py",
    "oversized.py",
    "stream_common.py",
    "stream_logger.py",
]
ALERTS_FILES = ["change_alerts.py", "dynamo_json.py", "stream_common.py"]


@pytest.mark.parametrize(("function", "expected"), [(FUNCTION, LOGGER_FILES), (ALERTS_FUNCTION, ALERTS_FILES)])
def test_function_asset_is_the_handler_without_caches(
    template: assertions.Template, cloud_assembly: cx_api.CloudAssembly, function: str, expected: list[str]
) -> None:
    assembly_dir = Path(cloud_assembly.directory)
    manifest: dict[str, Any] = json.loads((assembly_dir / "InventoryStack.assets.json").read_text())
    s3_key = template.find_resources("AWS::Lambda::Function")[function]["Properties"]["Code"]["S3Key"]
    (asset,) = (
        entry
        for entry in manifest["files"].values()
        if any(d["objectKey"] == s3_key for d in entry["destinations"].values())
    )
    assert asset["source"]["packaging"] == "zip"

    asset_dir = assembly_dir / asset["source"]["path"]
    files = sorted(str(path.relative_to(asset_dir)) for path in asset_dir.rglob("*"))
    assert files == expected
    assert not [name for name in files if re.search(r"__pycache__|\.pyc$|_cache", name)]


# --- stages ---------------------------------------------------------------------------


def without_archive(template: dict[str, Any]) -> dict[str, Any]:
    """The template less the change archive, which only prod has (README: Keeping changes for years)."""
    copy: dict[str, Any] = json.loads(json.dumps(template))
    copy["Resources"] = {name: r for name, r in copy["Resources"].items() if not name.startswith(ARCHIVE)}
    for name in ("ArchiveBucketName", "ArchiveDatabaseName", "ArchiveWorkGroup"):
        copy["Outputs"].pop(name, None)
    return copy


def test_stateful_resources_keep_their_logical_ids_in_every_stage(stage_templates: dict[str, dict[str, Any]]) -> None:
    def stateful(template: dict[str, Any]) -> dict[str, list[str]]:
        kinds = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Logs::LogGroup")
        return {kind: sorted(name for name, r in template["Resources"].items() if r["Type"] == kind) for kind in kinds}

    expected = {
        "AWS::DynamoDB::Table": [TABLE],
        "AWS::S3::Bucket": [BUCKET],
        "AWS::Logs::LogGroup": sorted([LOG_GROUP, ALERTS_LOG_GROUP]),
    }
    templates = {stage: without_archive(t) for stage, t in stage_templates.items()}
    assert {stage: stateful(t) for stage, t in templates.items()} == dict.fromkeys(stage_templates, expected)
    # Apart from prod's archive and keys, the stages differ in properties and policies only.
    resources = {stage: set(t["Resources"]) for stage, t in templates.items()}
    assert resources["dev-destroy"] == resources["dev"]
    assert resources["prod"] - resources["dev"] == {LOG_KEY, DATA_KEY}
    assert resources["dev"] <= resources["prod"]
    assert stateful(stage_templates["prod"])["AWS::S3::Bucket"] == sorted([BUCKET, ARCHIVE_BUCKET])


def test_dev_keeps_the_data_by_default(stage_templates: dict[str, dict[str, Any]]) -> None:
    resources = stage_templates["dev"]["Resources"]

    assert "DeletionProtectionEnabled" not in resources[TABLE]["Properties"]
    assert "DeletionProtectionEnabled" not in resources[LOG_GROUP]["Properties"]
    for logical_id in (TABLE, BUCKET, LOG_GROUP):
        assert (resources[logical_id]["DeletionPolicy"], resources[logical_id]["UpdateReplacePolicy"]) == (
            "Retain",
            "Retain",
        )


def test_prod_protects_the_table_and_keeps_the_data(stage_templates: dict[str, dict[str, Any]]) -> None:
    resources = stage_templates["prod"]["Resources"]

    assert resources[TABLE]["Properties"]["DeletionProtectionEnabled"] is True
    assert resources[LOG_GROUP]["Properties"]["DeletionProtectionEnabled"] is True
    for logical_id in (TABLE, BUCKET, LOG_GROUP):
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
    assert resources[ARCHIVE_BUCKET]["DeletionPolicy"] == "Retain"
    # Deletion protection, the archive and the keys are the only differences from dev: the log
    # key on both log groups, the data key on the failure bucket, which both roles write with it.
    prod = stage_templates["prod"]["Resources"]
    dev = json.loads(json.dumps(stage_templates["dev"]))
    changed = dev["Resources"]
    changed[TABLE]["Properties"]["DeletionProtectionEnabled"] = True
    changed[LOG_GROUP]["Properties"]["DeletionProtectionEnabled"] = True
    for group in (LOG_GROUP, ALERTS_LOG_GROUP):
        changed[group]["Properties"]["KmsKeyId"] = {"Fn::GetAtt": [LOG_KEY, "Arn"]}
        del changed[group]["Metadata"]  # the log group passes checkov's CKV_AWS_158 now
    changed[BUCKET]["Properties"]["BucketEncryption"] = {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "KMSMasterKeyID": {"Fn::GetAtt": [DATA_KEY, "Arn"]},
                    "SSEAlgorithm": "aws:kms",
                },
            }
        ]
    }
    generate = {"Action": "kms:GenerateDataKey", "Effect": "Allow", "Resource": {"Fn::GetAtt": [DATA_KEY, "Arn"]}}
    for policy in (LOGGER_POLICY, ALERTS_POLICY):
        statements = changed[policy]["Properties"]["PolicyDocument"]["Statement"]
        after = next(i for i, statement in enumerate(statements) if statement["Action"] == "s3:ListBucket")
        statements.insert(after + 1, generate)  # Lambda's on-failure records and the oversized copies
    changed[LOG_KEY], changed[DATA_KEY] = prod[LOG_KEY], prod[DATA_KEY]
    assert without_archive(stage_templates["prod"]) == dev
    assert not [name for name in stage_templates["dev"]["Resources"] if name.startswith(ARCHIVE)]


def test_prod_encrypts_the_log_group_with_a_rotated_retained_key(stage_templates: dict[str, dict[str, Any]]) -> None:
    key = stage_templates["prod"]["Resources"][LOG_KEY]

    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    logs_statements = [
        statement for statement in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in statement["Principal"]
    ]
    conditions = [json.dumps(statement["Condition"]) for statement in logs_statements]
    assert len(conditions) == 2  # one per log group, each for that group only
    for condition, group in zip(conditions, (LOG_GROUP, ALERTS_LOG_GROUP), strict=True):
        assert f"InventoryStack-{group}-*" in condition
    assert "KmsKeyId" not in stage_templates["dev"]["Resources"][LOG_GROUP]["Properties"]


def test_prod_encrypts_the_buckets_with_a_data_key_only_the_account_delegates(
    stage_templates: dict[str, dict[str, Any]],
) -> None:
    resources = stage_templates["prod"]["Resources"]
    key = resources[DATA_KEY]

    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # No service or role in the key policy: who may use the key is the account's IAM policies,
    # and the grants put it only in the roles that write (the functions, Firehose) or read.
    account_root = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}
    assert key["Properties"]["KeyPolicy"] == {
        "Statement": [{"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": account_root}, "Resource": "*"}],
        "Version": "2012-10-17",
    }
    for bucket in (BUCKET, ARCHIVE_BUCKET):
        (rule,) = resources[bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = {"KMSMasterKeyID": {"Fn::GetAtt": [DATA_KEY, "Arn"]}, "SSEAlgorithm": "aws:kms"}
        assert rule == {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": default}
    users = sorted(
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Policy" and DATA_KEY in json.dumps(resource["Properties"]["PolicyDocument"])
    )
    assert users == sorted([LOGGER_POLICY, ALERTS_POLICY, ARCHIVE_DELIVERY_POLICY])


def test_dev_destroys_table_and_bucket_only_when_asked(stage_templates: dict[str, dict[str, Any]]) -> None:
    resources = stage_templates["dev-destroy"]["Resources"]

    for logical_id in (TABLE, BUCKET):
        assert (resources[logical_id]["DeletionPolicy"], resources[logical_id]["UpdateReplacePolicy"]) == (
            "Delete",
            "Delete",
        )
    # The log group expires with its retention; nothing empties the bucket behind your back
    # (no auto-delete custom resource, no function besides the logger and the alerts).
    assert resources[LOG_GROUP]["DeletionPolicy"] == "Retain"
    assert [r["Type"] for r in resources.values() if r["Type"].startswith("Custom::")] == []
    assert [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"] == [
        FUNCTION,
        ALERTS_FUNCTION,
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"stage": "qa"}, r"stage must be one of dev, prod, got 'qa'"),
        ({"stage": "Prod"}, r"stage must be one of dev, prod, got 'Prod'"),
        ({"stage": "prod", "destroy_on_delete": True}, r"destroy_on_delete=true is refused with stage=prod"),
    ],
)
def test_invalid_stage_is_an_error(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InventoryStack(cdk.App(context=CDK_CONTEXT), "InventoryStack", service_name="s", log_level="INFO", **settings)


def test_alarm_topic_is_notified_on_alarm_and_on_ok() -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:on-call"
    stack = InventoryStack(
        cdk.App(context=CDK_CONTEXT), "InventoryStack", service_name="s", log_level="INFO", alarm_topic_arn=topic
    )
    alarms = assertions.Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    every_alarm = [*ALARMS.values(), *ALERTS_ALARMS.values()]

    assert sorted(alarms) == sorted(every_alarm)
    assert {name: (a["Properties"]["AlarmActions"], a["Properties"]["OKActions"]) for name, a in alarms.items()} == (
        dict.fromkeys(every_alarm, ([topic], [topic]))
    )


def test_no_alarm_action_without_a_topic(template: assertions.Template) -> None:
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in alarm["Properties"]
        assert "OKActions" not in alarm["Properties"]


def test_benchmark_runs_the_handler_with_this_functions_environment(template: assertions.Template) -> None:
    from bench.run import LAMBDA_ENV

    (function,) = logger_resources(template, "AWS::Lambda::Function").values()

    variables = dict(function["Properties"]["Environment"]["Variables"])
    # The benchmark's handler has no bucket: no record of its batches is too big for a line.
    assert variables.pop("FAILURE_BUCKET") == {"Ref": BUCKET}
    assert variables == LAMBDA_ENV


def test_log_level_is_both_functions_log_level(tmp_path: Path) -> None:
    # WHEN the app is built with -c log_level=WARN
    _, stack = build_inventory_app(tmp_path, log_level="WARN")
    functions = assertions.Template.from_stack(stack).find_resources("AWS::Lambda::Function")

    # THEN the logger and the alerts both apply it; Lambda's own filter stays at INFO for the metrics line
    levels = {
        properties["Properties"]["Handler"]: (
            properties["Properties"]["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"],
            properties["Properties"]["LoggingConfig"]["ApplicationLogLevel"],
        )
        for properties in functions.values()
        if properties["Properties"].get("Handler") in ("stream_logger.handler", "change_alerts.handler")
    }
    assert levels == {"stream_logger.handler": ("WARN", "INFO"), "change_alerts.handler": ("WARN", "INFO")}
