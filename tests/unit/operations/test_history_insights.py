"""``history --log-group`` / ``--stack-name``: the item's lines from CloudWatch Logs Insights (moto has
no Insights: a botocore Stubber checks the exact requests, the query string included)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from stacks.table_stream_logger import operations
from tests.unit.operations.conftest import Result
from tests.unit.operations.test_history import LINES, text_of

GROUP = "/aws/lambda/InventoryStack-InventoryLoggerFunction6352DB15"
GROUP_ARN = f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}"
NOW = 1_796_200_000  # 2026-12-02T08:26:40Z: after the lines, of 2026-12-01
CREATED = 1_795_000_000_000
APPLE = ["--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON"]
INDEXED_QUERY = (
    "fields @timestamp, @message\n"
    '| filterIndex keys.PK = "FRUIT"\n'
    '| filter ispresent(event_name) and keys.PK = "FRUIT" and keys.SK = "APPLE#WASHINGTON"\n'
    "| sort @timestamp asc\n"
    "| limit 10000"
)


class Logs:
    def __init__(self) -> None:
        self.client = botocore.session.get_session().create_client(
            "logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stubber = Stubber(self.client)

    def group(
        self, group_class: str = "STANDARD", fields: list[str] | None = None, retention: int | None = None
    ) -> None:
        self.stubber.add_response(
            "describe_log_groups",
            {
                "logGroups": [
                    {"logGroupName": f"{GROUP}-other"},
                    {
                        "logGroupName": GROUP,
                        "logGroupArn": GROUP_ARN,
                        "creationTime": CREATED,
                        "logGroupClass": group_class,
                        **({"retentionInDays": retention} if retention else {}),
                    },
                ]
            },
            {"logGroupNamePrefix": GROUP},
        )
        if group_class == "STANDARD":
            policies = [] if fields is None else [{"policyDocument": json.dumps({"Fields": fields})}]
            self.stubber.add_response(
                "describe_index_policies", {"indexPolicies": policies}, {"logGroupIdentifiers": [GROUP_ARN]}
            )

    def query(
        self, query: str, start: int, end: int, polls: int = 1, lines: list[dict[str, Any]] | None = None
    ) -> None:
        self.stubber.add_response(
            "start_query",
            {"queryId": "q-1"},
            {"logGroupName": GROUP, "startTime": start, "endTime": end, "queryString": query, "limit": 10000},
        )
        for _ in range(polls - 1):
            self.stubber.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
        rows = [
            [{"field": "@timestamp", "value": "2026-12-01 10:00:00.000"}, {"field": "@message", "value": text}]
            for text in text_of(LINES if lines is None else lines).splitlines()
        ]
        self.stubber.add_response(
            "get_query_results",
            {
                "status": "Complete",
                "results": rows,
                "statistics": {"recordsMatched": 5.0, "recordsScanned": 5.0, "bytesScanned": 2500.0},
            },
            {"queryId": "q-1"},
        )


@pytest.fixture
def logs() -> Iterator[Logs]:
    stubbed = Logs()
    with stubbed.stubber:
        yield stubbed
        stubbed.stubber.assert_no_pending_responses()


def history(clients: dict[str, Any], *arguments: str, now: float = NOW) -> Result:
    """``history`` with these stubbed clients, at ``now``, never waiting between two polls of a query."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = operations.main(
        ["history", *arguments],
        stdout=stdout,
        stderr=stderr,
        clients=clients.__getitem__,
        clock=lambda: float(now),
        sleep=lambda seconds: None,
    )
    return Result(code, stdout.getvalue(), stderr.getvalue())


def test_an_indexed_log_group_is_queried_with_filter_index(logs: Logs) -> None:
    # GIVEN the log group with the construct's field index policy
    logs.group(fields=["keys.PK", "keys.SK", "event_name"])
    logs.query(INDEXED_QUERY, CREATED // 1000, 1_796_124_600, polls=2)  # to --as-of

    # WHEN the apple's state is asked for
    result = history({"logs": logs.client}, *APPLE, "--log-group", GROUP, "--as-of", "2026-12-01T11:30:00Z")

    # THEN from the indexed query: the state, and on stderr what it scanned
    assert result.code == 0, result.stderr
    assert result.stdout == '{"PK":"FRUIT","SK":"APPLE#WASHINGTON","Stocks":32,"Price":{"USD":0.8,"INR":50}}\n'
    assert result.stderr.splitlines() == [
        f"# Logs Insights on {GROUP}, 2026-11-18T11:06:40Z to 2026-12-01T11:30:00Z: the key is indexed: the query "
        "scans the item's lines only",
        "# query Running: 0 s, 0 lines and 0 bytes scanned, 0 matched",
        "# query Complete: 0 s, 5 lines and 2,500 bytes scanned, 5 matched",
    ]


def test_an_infrequent_access_log_group_is_scanned_whole_and_says_so(logs: Logs) -> None:
    logs.group("INFREQUENT_ACCESS")
    query = INDEXED_QUERY.replace('| filterIndex keys.PK = "FRUIT"\n', "")
    logs.query(query, NOW - 30 * 3600, NOW)

    result = history({"logs": logs.client}, *APPLE, "--log-group", GROUP, "--since", "30h", "--format", "json")

    assert result.code == 0, result.stderr
    assert "Infrequent Access log group has no field indexes: the query scans every line" in result.stderr
    assert len(result.stdout.splitlines()) == 4


def test_a_number_key_is_queried_as_number_or_string(logs: Logs) -> None:
    logs.group(fields=["keys.id"])
    query = (
        "fields @timestamp, @message\n"
        '| filterIndex keys.id in [7, "7"]\n'
        '| filter ispresent(event_name) and keys.id in [7, "7"]\n'
        "| sort @timestamp asc\n"
        "| limit 10000"
    )
    logs.query(query, CREATED // 1000, NOW)

    result = history({"logs": logs.client}, "--key", "id=7", "--log-group", GROUP)

    # THEN nothing of the apple: the lines are matched exactly afterwards
    assert (result.code, result.stdout) == (0, "")


def test_the_stack_names_the_log_group(logs: Logs) -> None:
    cloudformation = botocore.session.get_session().create_client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(cloudformation) as stack:
        stack.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "InventoryStack",
                        "CreationTime": "2026-11-01T00:00:00Z",
                        "StackStatus": "CREATE_COMPLETE",
                        "Outputs": [{"OutputKey": "LogGroupName", "OutputValue": GROUP}],
                    }
                ]
            },
            {"StackName": "InventoryStack"},
        )
        logs.group(fields=["keys.PK", "keys.SK", "event_name"])
        logs.query(INDEXED_QUERY, CREATED // 1000, NOW)

        result = history(
            {"logs": logs.client, "cloudformation": cloudformation}, *APPLE, "--stack-name", "InventoryStack"
        )

    assert result.code == 0, result.stderr
    assert [text.split("  ")[1] for text in result.stdout.splitlines()] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]


def test_a_query_that_runs_too_long_is_stopped(logs: Logs) -> None:
    logs.group(fields=[])
    logs.stubber.add_response("start_query", {"queryId": "q-1"})
    logs.stubber.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    logs.stubber.add_response("stop_query", {"success": True}, {"queryId": "q-1"})

    result = history({"logs": logs.client}, *APPLE, "--log-group", GROUP, "--timeout", "0")

    assert result.code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: the Logs Insights query took more than 0 s and was stopped: narrow --since/--until"
    )
