"""Compliance checks on every synthesized template: cdk-nag, cfn-lint, IAM wildcards, determinism.

cdk-nag 3 runs as a CDK validation plugin (`Validations.of(app).add_plugins(...)`). The
construct acknowledges its own inherent findings with `Validations.of(...).acknowledge(...)`,
a CDK API, so that it needs no cdk-nag at runtime; the report lists them as suppressed, each
with its reason, and these tests pin that list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations, assertions, cx_api
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint

from stacks.table_stream_logger._core.compliance import skip_checkov
from tests.conftest import CDK_CONTEXT, ROOT, build_inventory_app
from tests.variants import FIXTURE_REASON, build_variants, variant_templates

POLICY_PATH = "InventoryStack/InventoryLogger/Role/DefaultPolicy/Resource"
ALERTS_POLICY_PATH = "InventoryStack/InventoryAlerts/Role/DefaultPolicy/Resource"
BUCKET_PATH = "InventoryStack/InventoryLogger/FailureBucket/Resource"
# Every finding of the AwsSolutions pack on the app, all acknowledged by the constructs.
ACKNOWLEDGED = {
    *(
        finding
        for path in (POLICY_PATH, ALERTS_POLICY_PATH)
        for finding in (
            ("AwsSolutions-IAM5[Resource::*]", path),
            ("AwsSolutions-IAM5[Resource::<InventoryLoggerFailureBucket5426844C.Arn>/aws/lambda/*]", path),
        )
    ),
    # The logger's alone: its handler's copies of oversized records.
    ("AwsSolutions-IAM5[Resource::<InventoryLoggerFailureBucket5426844C.Arn>/oversized/*]", POLICY_PATH),
    ("AwsSolutions-S1", BUCKET_PATH),
}


def nag_report(app: cdk.App) -> dict[str, Any]:
    """Synthesize with the AwsSolutions checks; the plugin's part of the validation report."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:  # unacknowledged findings fail the synthesis; the report says which
        assert "ValidationFailed" in str(error)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    (plugin,) = (plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions")
    result: dict[str, Any] = plugin
    return result


def findings(violations: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(v["ruleName"], c["constructPath"]) for v in violations for c in v["violatingConstructs"]}


# --- the construct in other configurations, one app, synthesized once -------------------


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each variant stack's template, and the cdk-nag report over all of them."""
    app = cdk.App(context=CDK_CONTEXT, outdir=str(tmp_path_factory.mktemp("variants")))
    build_variants(app)
    report = nag_report(app)
    return variant_templates(app), report


@pytest.fixture(scope="module")
def app_nag_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app, _ = build_inventory_app(tmp_path_factory.mktemp("nag"))
    return nag_report(app)


# --- cdk-nag ----------------------------------------------------------------------------


def test_cdk_nag_finds_nothing_unacknowledged_in_the_app(app_nag_report: dict[str, Any]) -> None:
    assert findings(app_nag_report["violations"]) == set()
    assert app_nag_report["conclusion"] == "success"


def test_cdk_nag_acknowledgements_are_exactly_these_with_a_reason(app_nag_report: dict[str, Any]) -> None:
    suppressed = app_nag_report["suppressedViolations"]

    assert findings(suppressed) == ACKNOWLEDGED
    for violation in suppressed:
        assert violation["acknowledgedId"] == f"AwsSolutions::{violation['ruleName']}"
        assert len(violation["reason"]) > 80, violation["ruleName"]
    reasons = {v["ruleName"]: v["reason"] for v in suppressed}
    assert "dynamodb:ListStreams" in reasons["AwsSolutions-IAM5[Resource::*]"]


def test_cdk_nag_finds_nothing_unacknowledged_in_the_construct_in_any_configuration(
    variants: tuple[dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    _, report = variants
    suppressed = findings(report["suppressedViolations"])

    ours = ("/Logger/", "/Alerts/")
    assert findings(report["violations"]) == set()
    assert {(rule, path) for rule, path in suppressed if not any(name in path for name in ours)} == {
        ("AwsSolutions-S1", "OwnBucket/Parked/Resource"),
        ("AwsSolutions-SQS3", "OwnKmsQueue/Parked/Resource"),
    }
    assert {(rule, path.split("/")[0]) for rule, path in suppressed if "/Logger/" in path} == {
        *(
            ("AwsSolutions-IAM5[Resource::*]", stack)
            for stack in (
                "Sqs",
                "OwnBucket",
                "OwnKmsQueue",
                "CustomerManagedKey",
                "ExistingTable",
                "Imported",
                "Archive",
            )
        ),
        ("AwsSolutions-IAM5[Resource::<LoggerFailureBucket99B3328C.Arn>/aws/lambda/*]", "Archive"),
        ("AwsSolutions-IAM5[Resource::<LoggerFailureBucket99B3328C.Arn>/oversized/*]", "Archive"),
        ("AwsSolutions-IAM5[Resource::<LoggerArchiveBucket68CF16A3.Arn>/changes/*]", "Archive"),
        ("AwsSolutions-IAM5[Resource::<LoggerArchiveBucket68CF16A3.Arn>/errors/*]", "Archive"),
        ("AwsSolutions-S1", "Archive"),
        ("AwsSolutions-SQS3", "Sqs"),
        ("AwsSolutions-IAM5[Resource::<Parked6D7C062F.Arn>/aws/lambda/*]", "OwnBucket"),
        ("AwsSolutions-IAM5[Resource::<Parked6D7C062F.Arn>/oversized/*]", "OwnBucket"),
        ("AwsSolutions-IAM5[Resource::<LoggerFailureBucket99B3328C.Arn>/aws/lambda/*]", "CustomerManagedKey"),
        ("AwsSolutions-IAM5[Resource::<LoggerFailureBucket99B3328C.Arn>/oversized/*]", "CustomerManagedKey"),
        ("AwsSolutions-S1", "CustomerManagedKey"),
        ("AwsSolutions-IAM5[Resource::<LoggerFailureBucket99B3328C.Arn>/aws/lambda/*]", "ExistingTable"),
        ("AwsSolutions-IAM5[Resource::<LoggerFailureBucket99B3328C.Arn>/oversized/*]", "ExistingTable"),
        ("AwsSolutions-S1", "ExistingTable"),
        ("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::parked-batches/aws/lambda/*]", "Imported"),
        ("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::parked-batches/oversized/*]", "Imported"),
    }
    assert {("/".join(path.split("/")[:2]), rule) for rule, path in suppressed if "/Alerts/" in path} == {
        ("ExistingTable/Alerts", "AwsSolutions-IAM5[Resource::*]"),
        ("ExistingTable/Alerts", "AwsSolutions-IAM5[Resource::<AlertsFailureBucket0E5FD4F2.Arn>/aws/lambda/*]"),
        ("ExistingTable/Alerts", "AwsSolutions-S1"),
        ("Imported/Alerts", "AwsSolutions-IAM5[Resource::*]"),
        ("Imported/Alerts", "AwsSolutions-SQS3"),
    }


def test_the_archive_acknowledges_only_its_prefixes_and_its_buckets_access_logs(
    variants: tuple[dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    _, report = variants
    archive = {
        (v["ruleName"], c["constructPath"]): v["reason"]
        for v in report["suppressedViolations"]
        for c in v["violatingConstructs"]
        if c["constructPath"].startswith("Archive/Logger/Archive/")
    }

    assert set(archive) == {
        ("AwsSolutions-S1", "Archive/Logger/Archive/Bucket/Resource"),
        (
            "AwsSolutions-IAM5[Resource::<LoggerArchiveBucket68CF16A3.Arn>/changes/*]",
            "Archive/Logger/Archive/DeliveryRole/DefaultPolicy/Resource",
        ),
        (
            "AwsSolutions-IAM5[Resource::<LoggerArchiveBucket68CF16A3.Arn>/errors/*]",
            "Archive/Logger/Archive/DeliveryRole/DefaultPolicy/Resource",
        ),
    }
    assert all(len(reason) > 80 for reason in archive.values())


# --- checkov skips (checkov itself runs in `make scan`, tests/scan/) ----------------------

FUNCTION_SKIPS = ["CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"]


def checkov_skips(template: dict[str, Any]) -> dict[str, list[str]]:
    """The checkov checks skipped on each resource, by logical ID, in their order."""
    return {
        logical_id: [skip["id"] for skip in resource["Metadata"]["checkov"]["skip"]]
        for logical_id, resource in template["Resources"].items()
        if "checkov" in resource.get("Metadata", {})
    }


def test_checkov_skips_in_the_app_are_exactly_these(template: assertions.Template) -> None:
    assert checkov_skips(dict(template.to_json())) == {
        "InventoryLoggerTableB5D61A0C": ["CKV_AWS_119"],
        "InventoryLoggerLogGroup24D28F13": ["CKV_AWS_158"],
        "InventoryLoggerFunction6352DB15": [*FUNCTION_SKIPS, "CKV_AWS_115"],
        "InventoryLoggerFailureBucket5426844C": ["CKV_AWS_18"],
        # The ChangeAlerts are a stream consumer too: the same skips on their function and log group.
        "InventoryAlertsLogGroup307822DE": ["CKV_AWS_158"],
        "InventoryAlertsFunction9EEF9359": [*FUNCTION_SKIPS, "CKV_AWS_115"],
    }


def test_prod_passes_the_log_group_check_instead_of_skipping_it(stage_templates: dict[str, dict[str, Any]]) -> None:
    assert "InventoryLoggerLogGroup24D28F13" not in checkov_skips(stage_templates["prod"])
    assert checkov_skips(stage_templates["dev-destroy"]) == checkov_skips(stage_templates["dev"])


def test_every_checkov_skip_carries_its_reason(
    template: assertions.Template, variants: tuple[dict[str, dict[str, Any]], dict[str, Any]]
) -> None:
    templates, _ = variants
    for each in (dict(template.to_json()), *templates.values()):
        for resource in each["Resources"].values():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert set(skip) == {"id", "comment"}
                assert len(skip["comment"]) > 80 or skip["comment"] == FIXTURE_REASON, skip


def test_checkov_skips_apply_only_while_the_option_that_passes_the_check_is_not_given(
    variants: tuple[dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    templates, _ = variants
    skips = {name: checkov_skips(template) for name, template in templates.items()}

    # encryption_key, log_encryption_key and reserved_concurrent_executions given: only the
    # function's inherent three and the built bucket's access logs stay.
    assert skips["CustomerManagedKey"] == {
        "OnCall0B2745F4": ["CKV_AWS_26"],
        "LoggerFunction9834D2A3": FUNCTION_SKIPS,
        "LoggerFailureBucket99B3328C": ["CKV_AWS_18"],
    }
    # A built queue instead of a bucket.
    assert skips["Sqs"]["LoggerFailureQueue74D236F6"] == ["CKV_AWS_27"]
    # The archive's bucket and Firehose's error log.
    assert skips["Archive"]["LoggerArchiveBucket68CF16A3"] == ["CKV_AWS_18"]
    assert skips["Archive"]["LoggerArchiveDeliveryLogGroupD13EEDD0"] == ["CKV_AWS_158"]
    # The user's own table, bucket and queue get no skip from the construct (fixtures' are the tests').
    assert skips["ExistingTable"]["OrdersA9B65338"] == ["CKV_AWS_119"]
    assert skips["OwnBucket"]["Parked6D7C062F"] == ["CKV_AWS_18"]
    assert "LoggerFailureBucket99B3328C" not in skips["OwnBucket"]
    assert {logical_id for logical_id in skips["OwnKmsQueue"] if "Parked" in logical_id} == set()
    assert skips["Imported"] == {
        "LoggerLogGroup2B2DC26B": ["CKV_AWS_158"],
        "LoggerFunction9834D2A3": [*FUNCTION_SKIPS, "CKV_AWS_115"],
        "OnCall0B2745F4": ["CKV_AWS_26"],
        "AlertsLogGroup32FB9138": ["CKV_AWS_158"],
        "AlertsFunction746EE296": [*FUNCTION_SKIPS, "CKV_AWS_115"],
        "AlertsFailureQueue32C0FB99": ["CKV_AWS_27"],
    }
    assert skips["ExistingTable"]["AlertsFailureBucket0E5FD4F2"] == ["CKV_AWS_18"]


def test_skip_checkov_adds_to_the_skips_a_resource_has() -> None:
    stack = cdk.Stack()
    bucket = s3.CfnBucket(stack, "Bucket")
    bucket.add_metadata("checkov", {"enabled_for": "this test"})

    skip_checkov(bucket, "CKV_AWS_18", "first")
    skip_checkov(bucket, "CKV_AWS_21", "second")

    assert bucket.get_metadata("checkov") == {
        "enabled_for": "this test",
        "skip": [{"id": "CKV_AWS_18", "comment": "first"}, {"id": "CKV_AWS_21", "comment": "second"}],
    }


# --- cfn-lint ---------------------------------------------------------------------------


def lint_matches(template: dict[str, Any]) -> list[str]:
    # No check is ignored: errors, warnings and the rest all count.
    return [str(match) for match in lint(json.dumps(template), regions=["us-east-1"])]


def test_app_template_passes_cfn_lint(template: assertions.Template) -> None:
    assert lint_matches(dict(template.to_json())) == []


@pytest.mark.parametrize("stage", ["dev-destroy", "prod"])
def test_stage_templates_pass_cfn_lint(stage_templates: dict[str, dict[str, Any]], stage: str) -> None:
    assert lint_matches(stage_templates[stage]) == []


def test_variant_templates_pass_cfn_lint(variants: tuple[dict[str, dict[str, Any]], dict[str, Any]]) -> None:
    templates, _ = variants

    assert {name: lint_matches(template) for name, template in templates.items()} == {key: [] for key in templates}


# --- IAM: no wildcard but ListStreams, no managed policy --------------------------------


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity and resource policy, with its resource's logical ID."""

    def documents(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            if "Statement" in value:
                yield value
            for child in value.values():
                yield from documents(child)
        elif isinstance(value, list):
            for child in value:
                yield from documents(child)

    for logical_id, resource in template["Resources"].items():
        # A key policy's Resource is "*" by definition (it means the key itself). The construct
        # builds no key; the statement it adds to a log key's policy is pinned in test_log_encryption.py.
        if resource["Type"] == "AWS::KMS::Key":
            continue
        for document in documents(resource.get("Properties", {})):
            for statement in document["Statement"]:
                yield logical_id, statement


def iam_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    for logical_id, statement in statements(template):
        actions, resources = _list(statement, "Action"), _list(statement, "Resource")
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{logical_id}: NotAction/NotResource in {statement}")
        if "*" in resources and actions != ["dynamodb:ListStreams"]:
            problems.append(f"{logical_id}: Resource '*' for {actions}")
        # A Deny may name every action (the bucket policy's SSL rule: s3:*); an Allow may not.
        if statement["Effect"] == "Allow" and any("*" in action for action in actions):
            problems.append(f"{logical_id}: wildcard action in {actions}")
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role" and resource["Properties"].get("ManagedPolicyArns"):
            problems.append(f"{logical_id}: managed policies {resource['Properties']['ManagedPolicyArns']}")
    return problems


def _list(statement: dict[str, Any], key: str) -> list[Any]:
    value = statement.get(key, [])
    return value if isinstance(value, list) else [value]


def test_iam_walk_finds_every_statement(template: assertions.Template) -> None:
    # Guards the walk itself: each consumer's policy and role trust policy, the bucket and topic policies.
    found = sorted({logical_id for logical_id, _ in statements(dict(template.to_json()))})

    assert found == [
        "InventoryAlertsRoleDefaultPolicyAC663909",
        "InventoryAlertsRoleEBA478F1",
        "InventoryAlertsTopicPolicy631AFE94",
        "InventoryLoggerFailureBucketPolicy679C1638",
        "InventoryLoggerRoleCA5AC158",
        "InventoryLoggerRoleDefaultPolicy4E29B359",
    ]


def test_iam_walk_would_catch_a_wildcard_and_a_managed_policy() -> None:
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
                },
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {"Action": ["dynamodb:ListStreams", "logs:*"], "Effect": "Allow", "Resource": "*"}
                        ]
                    }
                },
            },
        }
    }

    assert iam_problems(template) == [
        "Policy: Resource '*' for ['dynamodb:ListStreams', 'logs:*']",
        "Policy: wildcard action in ['dynamodb:ListStreams', 'logs:*']",
        "Role: managed policies ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']",
    ]


def test_no_wildcard_resource_but_list_streams_and_no_managed_policy_in_the_app(
    template: assertions.Template, stage_templates: dict[str, dict[str, Any]]
) -> None:
    assert iam_problems(dict(template.to_json())) == []
    assert {stage: iam_problems(t) for stage, t in stage_templates.items()} == {key: [] for key in stage_templates}


def test_no_wildcard_resource_but_list_streams_in_any_configuration(
    variants: tuple[dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    templates, _ = variants

    assert {name: iam_problems(t) for name, t in templates.items()} == {key: [] for key in templates}


# --- determinism ------------------------------------------------------------------------


def test_synthesis_is_deterministic(cloud_assembly: cx_api.CloudAssembly, tmp_path: Path) -> None:
    """The session's synthesis, a second one in this process and app.py itself in another
    process (another hash seed, as `cdk synth` runs it) write byte-identical files."""
    again, _ = build_inventory_app(tmp_path / "again")
    again.synth()
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path / "app"),
        "CDK_CONTEXT_JSON": json.dumps(CDK_CONTEXT),
        "PYTHONHASHSEED": "4242",
    }
    subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=environment, check=True, capture_output=True, timeout=300)

    for name in ("InventoryStack.template.json", "InventoryStack.assets.json"):
        first = (Path(cloud_assembly.directory) / name).read_bytes()
        assert (tmp_path / "again" / name).read_bytes() == first, name
        assert (tmp_path / "app" / name).read_bytes() == first, name
