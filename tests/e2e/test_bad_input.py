"""What the local run does with a mistake of its user: one clear line, nothing half done."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from local import cli, template
from tests.e2e.conftest import Result


def test_a_bad_items_file_is_refused_before_anything_is_written(run_local: Any, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 3}}\n'
        '{"op": "put", "item": {"PK": "FRUIT", "SK": "LIME#MX", "Stocks": 1e200}}\n'
        '{"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "remvoe": ["Stocks"]}\n'
        '{"op": "delete", "key": {"PK": "FRUIT"}}\n'
    )

    result: Result = run_local("--items", str(items))

    assert result.code == 2
    assert result.stdout == ""
    assert "# write:" not in result.stderr
    assert [line for line in result.stderr.splitlines() if not line.startswith("#")] == [
        f"error: {items}:2: item.Stocks: 1E+200 cannot be stored: N value is out of DynamoDB's range "
        "(1E-130 to 9.9E+125)",
        f'error: {items}:3: "remvoe": not a field of update (its fields: key, set, remove)',
        f"error: {items}:4: key.SK: missing, the table's sort key (PK (S), SK (S))",
    ]


def test_a_missing_items_file_is_reported_before_synthesizing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def synthesize(*arguments: Any) -> Path:
        raise AssertionError("synthesized first")

    monkeypatch.setattr(template, "synthesize", synthesize)
    monkeypatch.setattr(cli, "synthesize", synthesize)
    stderr = io.StringIO()

    code = cli.main(["--items", str(tmp_path / "nope.jsonl")], stderr=stderr)

    assert code == 2
    assert stderr.getvalue().startswith("error: [Errno 2] No such file or directory:")
    assert len(stderr.getvalue().splitlines()) == 1


def test_the_prompt_checks_like_a_file_and_says_when_a_delete_deletes_nothing(run_local: Any) -> None:
    typed = 'put FRUIT KIWI#NZ Stocks=3\nupdate FRUIT KIWI#NZ N=1e200\ndelete FRUIT NOPE\nput FRUIT ""\n'

    result: Result = run_local("--interactive", stdin=typed)

    assert result.code == 0, result.stderr
    assert [line["event_name"] for line in result.records] == ["INSERT"]
    assert "? set.N: 1E+200 cannot be stored: N value is out of DynamoDB's range (1E-130 to 9.9E+125)\n" in (
        result.stderr
    )
    assert "? no such item: nothing deleted, no stream record\n" in result.stderr
    assert "? item.SK: the sort key cannot be an empty string\n" in result.stderr
    assert "Traceback" not in result.stderr


class ClosedPipe(io.StringIO):
    """A stdout whose reader has gone, as after `| head -1`."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_output_stops_the_run_with_one_line_and_parks_nothing(template_path: Path, tmp_path: Path) -> None:
    stderr = io.StringIO()

    code = cli.main(
        ["--template", str(template_path), "--format", "json", "--failures", str(tmp_path / "failures")],
        stdout=ClosedPipe(),
        stderr=stderr,
    )

    assert code == cli.OUTPUT_CLOSED
    shown = [line for line in stderr.getvalue().splitlines() if not line.startswith("#")]
    assert shown == [
        "stopped: the output was closed (broken pipe); the records not shown yet were neither retried nor parked"
    ]
    assert "function error" not in stderr.getvalue()
    assert "nothing lost" not in stderr.getvalue()
    assert not (tmp_path / "failures").exists()


class ClosesAtNotification(io.StringIO):
    """A stdout whose reader goes away just as the alerts' first notification is printed."""

    def write(self, text: str) -> int:
        if "local_sns_stand_in" in text:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_closed_output_while_a_notification_prints_stops_the_run_and_parks_nothing(
    template_path: Path, tmp_path: Path
) -> None:
    stdout, stderr = ClosesAtNotification(), io.StringIO()

    code = cli.main(
        ["--template", str(template_path), "--format", "json", "--failures", str(tmp_path / "failures")],
        stdout=stdout,
        stderr=stderr,
    )

    assert code == cli.OUTPUT_CLOSED, stderr.getvalue()
    assert stdout.getvalue()  # the logger's lines were shown up to there
    assert "function error" not in stderr.getvalue()
    assert not (tmp_path / "failures").exists()
