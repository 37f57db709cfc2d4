"""``history`` on a deployed stack with an archive: the changes older than the log group keeps come
from Athena. The archive's SQL runs on DuckDB over a local archive folder (what the bucket holds);
the Athena requests are checked exactly with a botocore Stubber (moto runs no SQL)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
from botocore.stub import Stubber

from stacks.table_stream_logger.operations.history_athena import archive_query, sql_literal
from stacks.table_stream_logger.operations.history_changes import loads
from tests.archive_sql import connect, run
from tests.unit.operations.test_history import APPLE_2, KEYS, LINES, text_of
from tests.unit.operations.test_history_insights import (
    APPLE,
    CREATED,
    GROUP,
    INDEXED_QUERY,
    DeployedStack,
    Logs,
    history,
)

# 2026-12-02T11:30:00Z: with a retention of one day, the log group keeps the lines from
# 2026-12-01T11:30:00Z; the INSERT (10:00) and the first MODIFY (11:00) are in the archive only.
NOW = 1_796_211_000
KEPT_FROM = NOW - 86_400
WORKGROUP, DATABASE = "archived_workgroup", "archived_database"
# The archive's resources as the stack lists them: ChangeArchive's workgroup and database, named by athena_name.
ARCHIVE = (
    ("InventoryLoggerArchiveWorkGroupB0A7E1C3", WORKGROUP, "AWS::Athena::WorkGroup"),
    ("InventoryLoggerArchiveDatabase5F2D8A41", DATABASE, "AWS::Glue::Database"),
)


def archive_folder(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "archive" / "changes" / "year=2026" / "month=12" / "day=01"
    folder.mkdir(parents=True)
    (folder / "stream-1-2026-12-01-10-00-00-a.gz").write_bytes(gzip.compress(text_of(lines).encode()))
    return tmp_path / "archive"


def archived_lines(folder: Path, since: datetime | None = None, until: datetime | None = None) -> list[str]:
    sql, parameters = archive_query(KEYS, since, until)
    return [row["line"] for row in run(connect(folder), sql, *parameters)]


def test_the_archive_query_returns_the_items_lines_as_they_were_written(tmp_path: Path) -> None:
    # GIVEN an archive of the story, numbers that a JSON reader would round (0.8, 20 digits) included
    folder = archive_folder(tmp_path, LINES)

    # WHEN history's SQL runs on it
    found = archived_lines(folder)

    # THEN the apple's lines, each exactly its text, and no other item's
    apple = [text for text in text_of(LINES).splitlines() if '"SK":"APPLE#WASHINGTON"' in text]
    assert sorted(found) == sorted(apple)
    assert len(found) == 4
    assert '"USD":12345678901234567890.123456789' in "".join(found)


def test_the_archive_query_reads_only_the_days_of_the_range(tmp_path: Path) -> None:
    folder = archive_folder(tmp_path, LINES)

    after = archived_lines(folder, since=datetime(2026, 12, 2, tzinfo=UTC))
    before = archived_lines(folder, until=datetime(2026, 11, 29, tzinfo=UTC))
    around = archived_lines(folder, datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 11, 30, 12, tzinfo=UTC))

    # THEN nothing from a later or earlier day; the day after --until is read (lines arrive late)
    assert (after, before, len(around)) == ([], [], 4)


def test_an_execution_parameter_is_sql() -> None:
    assert [sql_literal("O'Brien"), sql_literal(20261201)] == ["'O''Brien'", "20261201"]


def athena_client() -> Any:
    return botocore.session.get_session().create_client(
        "athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_older_changes_come_from_the_archive_and_are_merged_once(tmp_path: Path) -> None:
    # GIVEN a stack with an archive, whose log group keeps one day: the two oldest changes of the
    # apple are in the archive only, the MODIFY of 12:00 in both, the REMOVE in the log group only
    archived = archived_lines(archive_folder(tmp_path, LINES[:5]))
    logs, athena, stack = Logs(), athena_client(), DeployedStack()
    with stack.resources, stack.lambda_stubber, Stubber(athena) as queries, logs.stubber:
        stack.found(*ARCHIVE)  # the archive, from the stack's resources
        logs.group(fields=["keys.PK", "keys.SK", "event_name"], retention=1)
        sql, _ = archive_query(KEYS, None, datetime.fromtimestamp(KEPT_FROM, UTC))
        queries.add_response(
            "start_query_execution",
            {"QueryExecutionId": "a-1"},
            {
                "QueryString": sql,
                "QueryExecutionContext": {"Database": DATABASE},
                "WorkGroup": WORKGROUP,
                # the keys, and the last day to read: the day after the log group's oldest line
                "ExecutionParameters": ["'FRUIT'", "'APPLE#WASHINGTON'", "20261202"],
            },
        )
        queries.add_response(
            "get_query_execution",
            {"QueryExecution": {"Status": {"State": "RUNNING"}, "Statistics": {"DataScannedInBytes": 0}}},
            {"QueryExecutionId": "a-1"},
        )
        queries.add_response(
            "get_query_execution",
            {"QueryExecution": {"Status": {"State": "SUCCEEDED"}, "Statistics": {"DataScannedInBytes": 1234}}},
            {"QueryExecutionId": "a-1"},
        )
        rows = [{"Data": [{"VarCharValue": "line"}]}] + [{"Data": [{"VarCharValue": text}]} for text in archived]
        queries.add_response(
            "get_query_results", {"ResultSet": {"Rows": rows}}, {"QueryExecutionId": "a-1", "MaxResults": 1000}
        )
        logs.query(INDEXED_QUERY, 1_795_000_000, NOW, lines=LINES[4:])

        clients = {"logs": logs.client, "athena": athena, **stack.clients}
        timeline = history(clients, *APPLE, "--stack-name", "InventoryStack", "--format", "json", now=NOW)
        queries.assert_no_pending_responses()
        stack.lambda_stubber.assert_no_pending_responses()

    # THEN every change once, in order, exact; stderr says where each part came from
    assert timeline.code == 0, timeline.stderr
    changes = [loads(text) for text in timeline.stdout.splitlines()]
    assert [change["event_name"] for change in changes] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]
    assert changes[2]["changes"]["Price"]["new"] == APPLE_2["Price"]
    assert timeline.stderr.splitlines()[:3] == [
        f"# Athena on {DATABASE}.change_lines_text (workgroup {WORKGROUP}), its first day to 2026-12-01",
        "# query RUNNING: 0 s, 0 bytes scanned",
        "# query SUCCEEDED: 0 s, 1,234 bytes scanned",
    ]


def test_a_failed_athena_query_is_one_line() -> None:
    logs, athena = Logs(), athena_client()
    with Stubber(athena) as queries, logs.stubber:
        logs.group(fields=[], retention=1)
        queries.add_response("start_query_execution", {"QueryExecutionId": "a-1"})
        queries.add_response(
            "get_query_execution",
            {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND"}}},
        )
        result = history(
            {"logs": logs.client, "athena": athena},
            *APPLE,
            "--log-group",
            GROUP,
            "--workgroup",
            WORKGROUP,
            "--database",
            DATABASE,
            "--since",
            "2026-11-01",
            now=NOW,
        )

    assert (result.code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == "error: the Athena query a-1 ended FAILED: TABLE_NOT_FOUND"


def test_a_stack_without_an_archive_reads_the_log_group_only() -> None:
    # GIVEN a stack with no Athena workgroup or Glue database (dev), and a question older than its retention
    logs, stack = Logs(), DeployedStack()
    with stack.resources, stack.lambda_stubber, logs.stubber:
        stack.found()
        logs.group(fields=["keys.PK", "keys.SK", "event_name"], retention=1)
        logs.query(INDEXED_QUERY, CREATED // 1000, NOW)

        # WHEN its history is asked for: there is no Athena client, a query of it would fail the test
        result = history(
            {"logs": logs.client, **stack.clients},
            *APPLE,
            "--stack-name",
            "InventoryStack",
            "--since",
            "2026-11-01",
            now=NOW,
        )
        logs.stubber.assert_no_pending_responses()

    # THEN the changes the log group keeps
    assert result.code == 0, result.stderr
    assert not any(line.startswith("# Athena") for line in result.stderr.splitlines())


def test_a_stack_with_two_archives_asks_for_one_in_one_line() -> None:
    # GIVEN a user's stack with an archive per logger
    stack = DeployedStack()
    with stack.resources, stack.lambda_stubber:
        stack.found(
            *ARCHIVE,
            ("OrdersLoggerArchiveWorkGroup6E1F2A9B", "orders_workgroup", "AWS::Athena::WorkGroup"),
            ("OrdersLoggerArchiveDatabase3C8D0B17", "orders_database", "AWS::Glue::Database"),
        )

        result = history(stack.clients, *APPLE, "--stack-name", "InventoryStack", now=NOW)

    # THEN nothing is queried, and the line says what to give
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: the stack InventoryStack has 2 Athena workgroups ({WORKGROUP}, orders_workgroup) and 2 Glue "
        f"databases ({DATABASE}, orders_database): give the archive as --workgroup NAME --database NAME\n"
    )


def test_the_archive_needs_both_names() -> None:
    result = history({}, *APPLE, "--log-group", GROUP, "--workgroup", WORKGROUP, now=NOW)

    assert (result.code, result.stderr) == (2, "error: give the archive as --workgroup NAME --database NAME, both\n")
