"""A 400 KB item in ``make local``: the shortened line, and the whole record copied as the deployed function does."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local import cli
from local.function import LoggedFunction
from tests.e2e.conftest import Result, assembly_with

LIMIT = 256_000
JACKFRUIT = {"PK": "FRUIT", "SK": "JACKFRUIT#KERALA"}
# 399,000 bytes of UTF-8: with its key and Stocks, near DynamoDB's 400 KB item limit.
NOTES = "€" * 133_000
BUCKET = "inventorystack-inventoryloggerfailurebucket5426844c-local"


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every record the run's handlers were invoked with, as they got it."""
    records: list[dict[str, Any]] = []

    class Recording(LoggedFunction):
        def __call__(self, event: dict[str, Any], context: Any) -> Any:
            records.extend(copy.deepcopy(event["Records"]))
            return super().__call__(event, context)

    monkeypatch.setattr(cli, "LoggedFunction", Recording)
    return records


@pytest.fixture
def big_item(tmp_path: Path) -> str:
    """An items file: the 400 KB item put, then its stock changed."""
    path = tmp_path / "items.jsonl"
    operations = [
        {"op": "put", "item": {**JACKFRUIT, "Stocks": 3, "Notes": NOTES}},
        {"op": "update", "key": JACKFRUIT, "set": {"Stocks": 2}},
    ]
    path.write_text("\n".join(json.dumps(operation, ensure_ascii=False) for operation in operations))
    return str(path)


def test_an_oversized_record_is_copied_whole_into_the_failure_folder(
    run_on_each: Any, big_item: str, delivered: list[dict[str, Any]], tmp_path: Path
) -> None:
    # WHEN the 400 KB item is put and modified, on moto and on DynamoDB Local (moto's S3 beside it)
    result: Result = run_on_each("--items", big_item)

    # THEN no line exceeds the limit, and each record's line is shortened and names its copy
    assert result.code == 0, result.stderr
    assert max(len(line.encode()) for line in result.stdout.splitlines()) <= LIMIT
    inserted, modified = result.records
    assert (inserted["event_name"], modified["event_name"]) == ("INSERT", "MODIFY")
    assert modified["changes"] == {"Stocks": {"old": 3, "new": 2}}
    failures = tmp_path / "failures"
    table = re.search(r"# created (\S+) in", result.stderr).group(1)  # type: ignore[union-attr]
    by_sequence_number = {record["dynamodb"]["SequenceNumber"]: record for record in delivered}
    progress = result.stderr.splitlines()
    for line in (inserted, modified):
        shortened = line["shortened"]
        assert line["message"].endswith("(shortened)")
        assert shortened["bytes"] > LIMIT and "new_image.Notes" in shortened["omitted"]
        key = shortened["full_record"].removeprefix(f"s3://{BUCKET}/")
        day = key.split("/")[2]
        assert key == f"oversized/{table}/{day}/{line['sequence_number']}.json"
        # the file under the same key is the record as the stream delivered it to the handler
        path = failures / key
        assert json.loads(path.read_text(encoding="utf-8")) == by_sequence_number[line["sequence_number"]]
        assert f"# oversized: {path}" in progress
    assert json.loads((failures / key).read_text(encoding="utf-8"))["dynamodb"]["NewImage"]["Notes"] == {"S": NOTES}
    assert len([line for line in progress if line.startswith("# oversized: ")]) == 2
    assert (
        '# environment variable FAILURE_BUCKET is {"Ref": "InventoryLoggerFailureBucket5426844C"} at deploy time: '
        f"locally {BUCKET}, a bucket in moto (in this process), copied into {failures}/ as each invocation ends"
    ) in progress
    assert "2 record(s) read: 2 delivered, 0 filtered, 0 parked, 0 pending" in result.stderr
    assert progress[-1].startswith("# nothing lost")


def test_a_function_failing_to_another_bucket_is_told_it_has_no_stand_in(
    run_local: Any, template_path: Path, tmp_path: Path
) -> None:
    # GIVEN the alerts' mapping fails to a bucket of its own, which their function names
    template = json.loads(template_path.read_text())
    resources = template["Resources"]
    resources["OtherBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    mapping = next(name for name in resources if name.startswith("InventoryAlertsFunctionDynamo"))
    resources[mapping]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] = {
        "Fn::GetAtt": ["OtherBucket", "Arn"]
    }
    function = next(
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and name.startswith("InventoryAlertsFunction")
    )
    resources[function]["Properties"]["Environment"]["Variables"]["FAILURE_BUCKET"] = {"Ref": "OtherBucket"}
    path = assembly_with(template_path, tmp_path / "cdk.out", {})  # a copy, its assets beside it
    path.write_text(json.dumps(template))

    result: Result = run_local("--template", str(path))

    assert result.code == 0, result.stderr
    progress = result.stderr.splitlines()
    assert (
        '# InventoryAlertsFunction9EEF9359: environment variable FAILURE_BUCKET is {"Ref": "OtherBucket"} at deploy '
        "time: left unset locally, as only the logger's failure bucket has a local stand-in"
    ) in progress
    assert (
        sum("environment variable FAILURE_BUCKET" in line and "locally inventorystack-" in line for line in progress)
        == 1
    )
