"""One failure bucket, two readers of the stream (the app's logger and alerts): each parked batch is
replayed to the function that parked it, and only to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.table_stream_logger.logger import HANDLER
from stacks.table_stream_logger.operations.functions import LOGGER_HANDLER
from tests.unit.operations.conftest import (
    ALERTS,
    ALERTS_ARN,
    ALERTS_LOG_GROUP,
    APP_STACK,
    FUNCTION,
    Function,
    Inventory,
    Result,
    error_line,
)
from tests.unit.operations.test_local_and_errors import park, record, run_local

APP = ("--stack-name", APP_STACK)
OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:someone-else"


def parked_payload(inventory: Inventory, key: str) -> str:
    return str(json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"])


@pytest.fixture
def app(function: Function) -> Function:
    """The app's stack: the command reads its mappings, then both functions' configurations, the logger's first."""
    function.mappings(APP_STACK)
    function.configuration()
    function.alerts_configuration()
    return function


def test_list_tells_which_function_parked_each_batch(inventory: Inventory, app: Function, run: Any) -> None:
    logged = inventory.park(inventory.write("A"), "a")
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN)

    result: Result = run("list", *APP)

    assert result.code == 0, result.stderr
    rows = {row.split()[-1]: row.split()[3] for row in result.stdout.splitlines()[1:]}
    assert rows == {logged: FUNCTION, alerted: ALERTS}


def test_replay_all_sends_each_batch_to_its_own_function(inventory: Inventory, app: Function, run: Any) -> None:
    # GIVEN a batch parked by the logger and one parked by the alerts, in one bucket
    logged = inventory.park(inventory.write("A"), "a")
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN)
    # the Stubber checks each invocation's function name and payload, in order
    app.answers(parked_payload(inventory, logged), {"batchItemFailures": []}, function_name=FUNCTION)
    app.answers(parked_payload(inventory, alerted), {"batchItemFailures": []}, function_name=ALERTS)

    # WHEN every batch is replayed from the stack
    result: Result = run("replay", "--all", "--yes", *APP)

    # THEN each went to the function that parked it, and both moved
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{logged}: replayed 1 record(s) through {FUNCTION}; moved to s3://{inventory.bucket}/replayed/{logged}",
        f"{alerted}: replayed 1 record(s) through {ALERTS}; moved to s3://{inventory.bucket}/replayed/{alerted}",
        "2 batch(es) replayed, 0 still parked",
    ]
    assert inventory.keys("aws/") == []


def test_the_dry_run_names_each_batchs_function(inventory: Inventory, app: Function, run: Any) -> None:
    logged = inventory.park(inventory.write("A"), "a")
    alerted = inventory.park(inventory.write("B", "C"), "b", function_arn=ALERTS_ARN)

    result: Result = run("replay", "--all", *APP)

    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == f"dry run: would invoke {FUNCTION} with 1 batch(es) and {ALERTS} with 1 batch(es), one at a time:"
    )
    assert lines[1].startswith(f"  {logged}: 1 record(s), ") and lines[1].endswith(f", to {FUNCTION}")
    assert lines[2].startswith(f"  {alerted}: 2 record(s), ") and lines[2].endswith(f", to {ALERTS}")
    assert sorted(inventory.keys()) == sorted([logged, alerted])  # and the Stubber saw no invocation


def test_one_function_named_replays_its_batches_and_says_what_it_left(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN the shared bucket, and only the logger's function given
    logged = inventory.park(inventory.write("A"), "a")
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN)
    function.configuration()
    function.answers(parked_payload(inventory, logged), {"batchItemFailures": []})

    # WHEN every batch is replayed
    result: Result = run("replay", "--all", "--yes", "--bucket", inventory.bucket, "--function-name", FUNCTION)

    # THEN the logger's batch is replayed, the alerts' is left parked with how to replay it, exit 1
    assert result.code == 1, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"left 1 batch(es) parked by the function {ALERTS}, not {FUNCTION}: is the destination shared with another "
        f"function? replay its batches with --function-name {ALERTS}",
        "1 batch(es) replayed, 0 still parked, 1 left for other functions",
    ]
    assert inventory.keys("aws/") == [alerted]


def test_a_batch_of_a_function_not_of_the_stack_is_left_by_all(inventory: Inventory, app: Function, run: Any) -> None:
    logged = inventory.park(inventory.write("A"), "a")
    theirs = inventory.park(inventory.write("B"), "b", function_arn=OTHER_ARN)
    app.answers(parked_payload(inventory, logged), {"batchItemFailures": []})

    result: Result = run("replay", "--all", "--yes", *APP)

    assert result.code == 1
    assert (
        f"left 1 batch(es) parked by the function someone-else, not {ALERTS} or {FUNCTION}: is the destination "
        "shared with another function? replay its batches with --function-name someone-else"
    ) in result.stdout.splitlines()
    assert inventory.keys("aws/") == [theirs]


def test_a_batch_of_a_function_not_of_the_stack_asked_by_key_refuses_the_run(
    inventory: Inventory, app: Function, run: Any
) -> None:
    logged = inventory.park(inventory.write("A"), "a")
    theirs = inventory.park(inventory.write("B"), "b", function_arn=OTHER_ARN)

    result: Result = run("replay", logged, theirs, "--yes", *APP)

    assert result.code == 2
    assert result.stderr == (
        f"error: {theirs} was parked by the function someone-else, not {ALERTS} or {FUNCTION}: is the destination "
        "shared with another function? replay its batches with --function-name someone-else. Nothing was replayed.\n"
    )
    assert sorted(inventory.keys()) == sorted([logged, theirs])  # and the Stubber saw no invocation


def test_local_tries_the_loggers_batches_and_leaves_the_alerts(inventory: Inventory, app: Function, run: Any) -> None:
    # GIVEN a batch of each reader
    logged = inventory.park(inventory.write("A"), "a")
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN)

    # WHEN they are tried through the local handler, which is the logger's
    result: Result = run("replay", "--all", "--yes", "--local", *APP)

    # THEN only the logger's batch goes through it; the alerts' is left, saying why, and nothing moves
    assert result.code == 1, result.stderr
    assert result.stdout.splitlines() == [
        f"{logged}: the local handler processes its 1 record(s); left parked: replay it without --local once the fix "
        "is deployed",
        f"left 1 batch(es) parked by the function {ALERTS}, which runs change_alerts.handler: --local runs only the "
        "logger's handler (stream_logger.handler); replay its batches without --local",
        "1 batch(es) pass through the local handler, 0 still fail, 1 left for other functions; all left parked",
    ]
    logged_lines = [json.loads(line) for line in result.stderr.splitlines() if '"event_name"' in line]
    assert [line["keys"]["SK"] for line in logged_lines] == ["[REDACTED]"]  # one record: the logger's batch
    assert sorted(inventory.keys()) == sorted([logged, alerted])


def test_local_of_an_alerts_batch_by_key_is_one_line(inventory: Inventory, app: Function, run: Any) -> None:
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN)

    result: Result = run("replay", alerted, "--yes", "--local", *APP)

    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {alerted} was parked by the function {ALERTS}, which runs change_alerts.handler: --local runs only "
        "the logger's handler (stream_logger.handler); replay its batches without --local. Nothing was replayed.\n"
    )


def test_show_reads_an_alerts_batch_with_the_alerts_configuration_and_log(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN the logger redacts SK, the alerts redact nothing; an alerts' record failed, said in the alerts' log
    function.mappings(APP_STACK)
    function.configuration()
    function.alerts_configuration({"REDACT_ATTRIBUTES": "[]", "KEY_ATTRIBUTES": '["PK","SK"]'})
    records = inventory.write("CHAIR#ERGONOMIC")
    alerted = inventory.park(records, "b", function_arn=ALERTS_ARN)
    inventory.log(error_line(records[0], "Publish failed: throttled"), group=ALERTS_LOG_GROUP)

    # WHEN it is shown
    result: Result = run("show", alerted, *APP, "--format", "json")

    # THEN its keys follow the alerts' redaction and the reason comes from the alerts' log group
    assert result.code == 0, result.stderr
    (shown,) = json.loads(result.stdout)["records"]
    assert shown["keys"] == {"PK": "FRUIT", "SK": "CHAIR#ERGONOMIC"}
    assert shown["reason"] == "Publish failed: throttled"


def test_a_local_folder_of_two_functions_needs_the_loggers_name(tmp_path: Path, environment: None) -> None:
    # GIVEN make local's folder, where both readers park
    logged = park(tmp_path, "a", [record("KIWI#NZ", "100")])
    alerted = park(tmp_path, "b", [record("LIME#MX", "101")], function_arn=ALERTS_ARN)
    logger = "InventoryStack-Function"

    # WHEN all are replayed through the local handler, without and then with the logger's name
    refused = run_local("replay", "--all", "--yes", "--local", "--folder", str(tmp_path))
    named = run_local("replay", "--all", "--yes", "--local", "--folder", str(tmp_path), "--function-name", logger)

    # THEN the first does nothing and says what to give; the second replays the logger's batch only
    assert (refused.code, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"error: {tmp_path} holds batches of 2 functions ({logger}, {ALERTS}) and --local runs only the logger's "
        "handler: give --function-name with the logger's function (the others' batches stay parked). "
        "Nothing was replayed.\n"
    )
    assert named.code == 1, named.stderr
    assert named.stdout.splitlines()[0].startswith(f"{logged}: replayed 1 record(s) through the local handler")
    assert named.stdout.splitlines()[-2:] == [
        f"left 1 batch(es) parked by the function {ALERTS}, not {logger}: --local runs only the logger's handler, "
        "and this batch is another function's",
        "1 batch(es) replayed, 0 still parked, 1 left for other functions",
    ]
    assert (tmp_path / alerted).is_file() and not (tmp_path / logged).exists()


def test_the_handler_local_runs_is_the_loggers() -> None:
    # the command names it without importing the construct (which loads aws-cdk-lib): the two must agree
    assert LOGGER_HANDLER == HANDLER


def test_an_operator_who_may_not_read_the_alerts_function_replays_the_loggers_batches(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN the operator may read both mappings, but not the alerts' function
    logged = inventory.park(inventory.write("A"), "a")
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN)
    function.mappings(APP_STACK)
    function.configuration()
    function.stubber.add_client_error(
        "get_function_configuration", "AccessDeniedException", "User alice is not authorized", http_status_code=403
    )
    function.answers(parked_payload(inventory, logged), {"batchItemFailures": []})

    # WHEN every batch of the stack is replayed
    result: Result = run("replay", "--all", "--yes", *APP)

    # THEN the logger's is, and the alerts' is left, saying why
    assert result.code == 1, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"left 1 batch(es) parked by the function {ALERTS}, whose configuration you may not read (access denied "
        "(GetFunctionConfiguration): User alice is not authorized): ask for its grant_redrive",
        "1 batch(es) replayed, 0 still parked, 1 left for other functions",
    ]
    assert inventory.keys("aws/") == [alerted]


def test_an_operator_granted_the_loggers_redrive_only_may_not_read_the_alerts_mapping(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN grant_redrive on the logger only: GetEventSourceMapping is granted on the logger's mapping alone
    logger_mapping, alerts_mapping = function.mappings_of[APP_STACK]
    logged = inventory.park(inventory.write("A"), "a", mapping=logger_mapping["UUID"])
    alerted = inventory.park(inventory.write("B"), "b", function_arn=ALERTS_ARN, mapping=alerts_mapping["UUID"])
    function.stubber.add_response("get_event_source_mapping", logger_mapping, {"UUID": logger_mapping["UUID"]})
    function.stubber.add_client_error(
        "get_event_source_mapping", "AccessDeniedException", "User alice is not authorized", http_status_code=403
    )
    function.configuration()
    function.answers(parked_payload(inventory, logged), {"batchItemFailures": []})

    # WHEN every batch of the stack is replayed
    result: Result = run("replay", "--all", "--yes", *APP)

    # THEN the logger's is, and the alerts' (its key names the alerts' mapping) is left, saying why
    assert result.code == 1, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"left 1 batch(es) parked by the function {ALERTS}, whose event source mapping you may not read (access "
        "denied (GetEventSourceMapping): User alice is not authorized): ask for its grant_redrive",
        "1 batch(es) replayed, 0 still parked, 1 left for other functions",
    ]
    assert inventory.keys("aws/") == [alerted]


def test_an_operator_who_may_read_no_mapping_of_the_stack_gets_one_line(
    inventory: Inventory, function: Function, run: Any
) -> None:
    for _ in range(2):
        function.stubber.add_client_error(
            "get_event_source_mapping", "AccessDeniedException", "User bob is not authorized", http_status_code=403
        )

    result: Result = run("list", *APP)

    assert (result.code, result.stderr) == (
        2,
        "error: access denied (GetEventSourceMapping): User bob is not authorized\n",
    )


def test_an_operator_who_may_read_neither_function_gets_one_line(
    inventory: Inventory, function: Function, run: Any
) -> None:
    function.mappings(APP_STACK)
    for _ in range(2):
        function.stubber.add_client_error(
            "get_function_configuration", "AccessDeniedException", "User bob is not authorized", http_status_code=403
        )

    result: Result = run("list", *APP)

    assert (result.code, result.stderr) == (
        2,
        "error: access denied (GetFunctionConfiguration): User bob is not authorized\n",
    )
