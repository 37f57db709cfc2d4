"""``history --log-group`` / ``--stack-name``: the item's lines from CloudWatch Logs Insights (moto has
no Insights: a botocore Stubber checks the exact requests, the query string included). The stack is
found from its resources, as CloudFormation and Lambda answer for them (Stubbers too: moto's
CloudFormation does not create an archive's Athena workgroup or Glue database)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from stacks.table_stream_logger import operations
from tests.unit.operations.conftest import BUCKET_ARN, Result, mapping_answer, stack_resources_answer
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


LOGGER = GROUP.rsplit("/", 1)[1]
ALERTS = "InventoryStack-InventoryAlertsFunction9C1E04B2"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/InventoryStack-Table/stream/2026-11-01T00:00:00.000"
MAPPING = "AWS::Lambda::EventSourceMapping"


def stubbed(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


class DeployedStack:
    """The app's InventoryStack as CloudFormation and Lambda describe it: its resources (the two
    readers' mappings, and whatever a test adds), the mappings, the functions' configurations."""

    def __init__(self) -> None:
        self.cloudformation, self.functions = stubbed("cloudformation"), stubbed("lambda")
        self.resources, self.lambda_stubber = Stubber(self.cloudformation), Stubber(self.functions)
        self.clients = {"cloudformation": self.cloudformation, "lambda": self.functions}

    def found(self, *resources: tuple[str, str, str], alerts_denied: bool = False) -> None:
        """Expect the command to find the stack's logger: its resources, its mappings, its functions.
        ``alerts_denied``: Lambda refuses the alerts' mapping (``grant_history`` is the logger's alone)."""
        readers = [
            ("InventoryLoggerFunctionDynamoDBEventSource", "7f3c1a52-9d0e-4b8a-a1c6-2e5b7d9f4c31", LOGGER),
            ("InventoryAlertsFunctionDynamoDBEventSource", "0b6f2e1d-3c4a-4e5f-8a9b-1c2d3e4f5a6b", ALERTS),
        ]
        summaries = [(logical_id, uuid, MAPPING) for logical_id, uuid, _ in readers]
        self.resources.add_response(
            "list_stack_resources", stack_resources_answer(*summaries, *resources), {"StackName": "InventoryStack"}
        )
        for _, uuid, name in readers:
            if alerts_denied and name == ALERTS:
                self.lambda_stubber.add_client_error(
                    "get_event_source_mapping", "AccessDeniedException", "not authorized", http_status_code=403
                )
                continue
            answer = mapping_answer(
                uuid, f"arn:aws:lambda:us-east-1:123456789012:function:{name}", STREAM_ARN, BUCKET_ARN
            )
            self.lambda_stubber.add_response("get_event_source_mapping", answer, {"UUID": uuid})
        handlers = [(LOGGER, "stream_logger.handler")] + ([] if alerts_denied else [(ALERTS, "change_alerts.handler")])
        for name, handler in handlers:
            self.lambda_stubber.add_response(
                "get_function_configuration",
                {
                    "FunctionName": name,
                    "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                    "Handler": handler,
                    "LoggingConfig": {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{name}"},
                },
                {"FunctionName": name},
            )


@pytest.fixture
def stack() -> Iterator[DeployedStack]:
    deployed = DeployedStack()
    with deployed.resources, deployed.lambda_stubber:
        yield deployed
        deployed.resources.assert_no_pending_responses()
        deployed.lambda_stubber.assert_no_pending_responses()


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


@pytest.mark.parametrize("alerts_denied", [False, True], ids=["both-readers", "grant-history-only"])
def test_the_stack_names_the_log_group(logs: Logs, stack: DeployedStack, alerts_denied: bool) -> None:
    # GIVEN the stack's two readers: the logger's function is the one that runs the logger's handler
    # (with grant_history alone, the alerts' mapping may not be read: the logger is found all the same)
    stack.found(alerts_denied=alerts_denied)
    logs.group(fields=["keys.PK", "keys.SK", "event_name"])
    logs.query(INDEXED_QUERY, CREATED // 1000, NOW)

    result = history({"logs": logs.client, **stack.clients}, *APPLE, "--stack-name", "InventoryStack")

    assert result.code == 0, result.stderr
    assert [text.split("  ")[1] for text in result.stdout.splitlines()] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]


def test_a_missing_stack_is_one_line(stack: DeployedStack) -> None:
    stack.resources.add_client_error(
        "list_stack_resources", "ValidationError", "Stack with id Nope does not exist", http_status_code=400
    )

    result = history(stack.clients, *APPLE, "--stack-name", "Nope")

    assert (result.code, result.stdout, result.stderr) == (2, "", "error: no stack named Nope in us-east-1\n")


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
