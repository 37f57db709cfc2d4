"""What the local run reads from the synthesized template."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from local.stack_model import StackModel, TemplateError
from local.template import load, read


@pytest.fixture(scope="module")
def synthesized(template: assertions.Template) -> dict[str, Any]:
    """The InventoryStack's template, from the session's synthesis (tests/conftest.py)."""
    return dict(template.to_json())


@pytest.fixture
def model(synthesized: dict[str, Any]) -> StackModel:
    return read(synthesized, "InventoryStack")


def logical_id(template: dict[str, Any], resource_type: str) -> str:
    """The one resource of a type; of the logger's, where the alerts have one of their own."""
    found = [name for name, resource in template["Resources"].items() if resource["Type"] == resource_type]
    if len(found) > 1:
        found = [name for name in found if name.startswith("InventoryLogger")]
    (name,) = found
    return str(name)


def test_the_alerts_are_the_streams_other_reader(model: StackModel, synthesized: dict[str, Any]) -> None:
    (alerts,) = model.others
    topic = logical_id(synthesized, "AWS::SNS::Topic")

    assert alerts.function.handler == "change_alerts.handler"
    assert alerts.mapping.logical_id.startswith("InventoryAlertsFunction")
    assert alerts.mapping.filter_patterns == (
        '{"eventName":["MODIFY"],"dynamodb":{"NewImage":{"Stocks":{"N":[{"exists":true}]}}}}',
        '{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}',
    )
    # The topic's Ref gets a local stand-in ARN, as the table's name does.
    assert alerts.function.environment["TOPIC_ARN"] == f"arn:aws:sns:us-east-1:000000000000:InventoryStack-{topic}"
    assert alerts.function_name("InventoryStack") == f"InventoryStack-{alerts.function.logical_id}"
    # Both mappings park in the one bucket: the note says so once.
    assert len([note for note in model.notes if note.startswith("on-failure destination")]) == 1


def test_the_logger_is_the_main_reader_whatever_the_order(synthesized: dict[str, Any]) -> None:
    template = copy.deepcopy(synthesized)
    template["Resources"] = dict(reversed(list(template["Resources"].items())))

    model = read(template, "InventoryStack")

    assert model.function.handler == "stream_logger.handler"
    assert [other.function.handler for other in model.others] == ["change_alerts.handler"]


def test_mappings_on_two_tables_are_a_clear_error(synthesized: dict[str, Any]) -> None:
    template = copy.deepcopy(synthesized)
    table = logical_id(template, "AWS::DynamoDB::Table")
    template["Resources"]["Other"] = copy.deepcopy(template["Resources"][table])
    alerts_mapping = next(name for name in template["Resources"] if name.startswith("InventoryAlertsFunctionDynamo"))
    template["Resources"][alerts_mapping]["Properties"]["EventSourceArn"] = {"Fn::GetAtt": ["Other", "StreamArn"]}

    with pytest.raises(TemplateError, match="stream mappings on more than one table"):
        read(template, "InventoryStack")


def test_the_table_is_the_deployed_one(model: StackModel) -> None:
    assert model.table.key_names == ["PK", "SK"]
    assert model.table.stream_view_type == "NEW_AND_OLD_IMAGES"
    arguments = model.table.create_table_arguments("local")
    assert arguments == {
        "TableName": "local",
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "BillingMode": "PAY_PER_REQUEST",
    }


def test_the_tables_ttl_is_the_deployed_one(model: StackModel, synthesized: dict[str, Any]) -> None:
    assert model.table.ttl_attribute == "ExpiresAt"
    without = copy.deepcopy(synthesized)
    del without["Resources"][model.table.logical_id]["Properties"]["TimeToLiveSpecification"]
    assert read(without, "InventoryStack").table.ttl_attribute is None


def test_the_mapping_settings_are_the_deployed_ones(model: StackModel, synthesized: dict[str, Any]) -> None:
    properties = synthesized["Resources"][model.mapping.logical_id]["Properties"]
    mapping = model.mapping
    assert mapping.batch_size == properties["BatchSize"]
    assert mapping.maximum_batching_window == properties["MaximumBatchingWindowInSeconds"]
    assert mapping.starting_position == properties["StartingPosition"]
    assert mapping.report_batch_item_failures is ("ReportBatchItemFailures" in properties["FunctionResponseTypes"])
    assert mapping.bisect_batch_on_function_error is properties["BisectBatchOnFunctionError"]
    assert mapping.maximum_retry_attempts == properties["MaximumRetryAttempts"]
    assert mapping.maximum_record_age == properties["MaximumRecordAgeInSeconds"]
    assert mapping.filter_patterns == ()
    (target, _arn) = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
    assert mapping.on_failure == f"{synthesized['Resources'][target]['Type']} {target}"
    assert mapping.failure_bucket == target == logical_id(synthesized, "AWS::S3::Bucket")


def test_the_failure_bucket_gets_a_local_name_s3_accepts(model: StackModel) -> None:
    assert model.failure_bucket_name == f"inventorystack-{str(model.mapping.failure_bucket).lower()}-local"
    long = dataclasses.replace(model, stack_name="My_Stack." + "x" * 80)
    name = str(long.failure_bucket_name)
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name), name
    assert name.startswith("my-stack-xxx") and name.endswith("xx-local")


def test_an_sqs_failure_destination_gives_the_function_no_failure_bucket(synthesized: dict[str, Any]) -> None:
    # GIVEN the logger's mapping fails to a queue, and its function has no FAILURE_BUCKET (the construct's SQS mode)
    template = copy.deepcopy(synthesized)
    template["Resources"]["FailureQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    mapping = template["Resources"][logical_id(template, "AWS::Lambda::EventSourceMapping")]["Properties"]
    mapping["DestinationConfig"]["OnFailure"]["Destination"] = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    function = template["Resources"][logical_id(template, "AWS::Lambda::Function")]["Properties"]
    del function["Environment"]["Variables"]["FAILURE_BUCKET"]

    model = read(template, "InventoryStack")

    assert (model.mapping.on_failure, model.mapping.failure_bucket) == ("AWS::SQS::Queue FailureQueue", None)
    assert model.failure_bucket_name is None
    assert model.function.failure_bucket_variables == ()
    assert "FAILURE_BUCKET" not in model.function.environment


def test_a_ref_to_another_bucket_is_noted_not_taken_for_the_failure_bucket(synthesized: dict[str, Any]) -> None:
    template = copy.deepcopy(synthesized)
    template["Resources"]["OtherBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    function = template["Resources"][logical_id(template, "AWS::Lambda::Function")]["Properties"]
    function["Environment"]["Variables"]["OTHER_BUCKET"] = {"Ref": "OtherBucket"}

    model = read(template, "InventoryStack")

    assert model.function.failure_bucket_variables == ("FAILURE_BUCKET",)
    assert "OTHER_BUCKET" not in model.function.environment
    assert 'environment variable OTHER_BUCKET is {"Ref": "OtherBucket"} at deploy time: left unset locally' in (
        model.notes
    )


def test_the_function_environment_is_the_deployed_one(model: StackModel, synthesized: dict[str, Any]) -> None:
    properties = synthesized["Resources"][model.function.logical_id]["Properties"]
    assert model.function.handler == properties["Handler"] == "stream_logger.handler"
    variables = properties["Environment"]["Variables"]
    # The failure bucket's name exists only at deploy time: the run sets it if it has a bucket for it.
    assert model.function.environment == {name: value for name, value in variables.items() if name != "FAILURE_BUCKET"}
    assert variables["FAILURE_BUCKET"] == {"Ref": model.mapping.failure_bucket}
    assert model.function.failure_bucket_variables == ("FAILURE_BUCKET",)
    assert not any("FAILURE_BUCKET" in note for note in model.notes)  # the run's note, which knows the backend
    assert model.function.application_log_level == properties["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    assert model.function.memory_size == properties["MemorySize"]
    assert model.function.timeout == properties["Timeout"]


def test_intrinsics_are_resolved_or_noted(synthesized: dict[str, Any]) -> None:
    template = copy.deepcopy(synthesized)
    table_id = logical_id(template, "AWS::DynamoDB::Table")
    function = template["Resources"][logical_id(template, "AWS::Lambda::Function")]["Properties"]
    function["Environment"]["Variables"]["TABLE_NAME"] = {"Ref": table_id}
    function["Environment"]["Variables"]["QUEUE_URL"] = {"Ref": "SomeQueue"}

    model = read(template, "InventoryStack")

    assert model.function.environment["TABLE_NAME"] == f"InventoryStack-{table_id}" == model.table_name
    assert "QUEUE_URL" not in model.function.environment
    assert any("QUEUE_URL" in note for note in model.notes)
    assert any("on-failure destination" in note for note in model.notes)


def test_filter_criteria_are_read(synthesized: dict[str, Any]) -> None:
    template = copy.deepcopy(synthesized)
    mapping = template["Resources"][logical_id(template, "AWS::Lambda::EventSourceMapping")]["Properties"]
    mapping["FilterCriteria"] = {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}

    assert read(template, "InventoryStack").mapping.filter_patterns == ('{"eventName": ["INSERT"]}',)


def test_lambdas_defaults_fill_what_the_template_leaves_out(synthesized: dict[str, Any]) -> None:
    template = copy.deepcopy(synthesized)
    mapping = template["Resources"][logical_id(template, "AWS::Lambda::EventSourceMapping")]["Properties"]
    for name in ("BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds"):
        del mapping[name]

    settings = read(template, "InventoryStack").mapping

    assert (settings.batch_size, settings.maximum_batching_window) == (100, 0)
    assert (settings.maximum_retry_attempts, settings.maximum_record_age) == (-1, -1)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda t: [
                t["Resources"].pop(name)
                for name, r in list(t["Resources"].items())
                if r["Type"] == "AWS::Lambda::EventSourceMapping"
            ],
            "no AWS::Lambda::Event",
        ),
        (
            lambda t: t["Resources"][logical_id(t, "AWS::DynamoDB::Table")]["Properties"].pop("StreamSpecification"),
            "StreamViewType",
        ),
        (
            lambda t: t["Resources"][logical_id(t, "AWS::DynamoDB::Table")]["Properties"].pop("KeySchema"),
            "no KeySchema",
        ),
        (
            lambda t: t["Resources"][logical_id(t, "AWS::Lambda::EventSourceMapping")]["Properties"].pop(
                "StartingPosition"
            ),
            "StartingPosition",
        ),
        (
            lambda t: t["Resources"][logical_id(t, "AWS::Lambda::Function")]["Properties"].pop("Handler"),
            "no Handler",
        ),
        (
            lambda t: t["Resources"].pop(logical_id(t, "AWS::Lambda::Function")),
            "does not name an AWS::Lambda::Function",
        ),
    ],
)
def test_a_template_without_what_is_needed_is_a_clear_error(
    synthesized: dict[str, Any], breakage: Any, message: str
) -> None:
    template = copy.deepcopy(synthesized)
    breakage(template)

    with pytest.raises(TemplateError, match=message):
        read(template, "InventoryStack")


def test_load_reads_a_template_file(tmp_path: Path, synthesized: dict[str, Any]) -> None:
    path = tmp_path / "InventoryStack.template.json"
    path.write_text(json.dumps(synthesized))
    assert load(path) == synthesized
    with pytest.raises(TemplateError, match="no such template"):
        load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(TemplateError, match="not a CloudFormation template"):
        load(tmp_path / "bad.json")
