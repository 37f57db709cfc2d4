"""``history --local``: an item's timeline and its state at any moment, rebuilt from change lines as
the handler writes them (README, Log line format), from a file or a local archive folder."""

from __future__ import annotations

import gzip
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from stacks.table_stream_logger import operations
from stacks.table_stream_logger.operations.history_changes import dumps, loads
from tests.unit.operations.conftest import Result

KEYS = {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
INVOCATION = {"level": "INFO", "timestamp": "2026-12-01T10:00:00.000Z", "message": "Batch of 4 record(s)"}


def line(event: str, sequence: int, time: str, **rest: Any) -> dict[str, Any]:
    message = f"{event} FRUIT / APPLE#WASHINGTON"
    return {
        "level": "INFO",
        "timestamp": time,
        "message": message,
        "request_id": "r-1",
        "event_name": event,
        "sequence_number": str(1100000000017454423000 + sequence),
        "keys": rest.pop("keys", KEYS),
        **rest,
    }


APPLE_0 = {**KEYS, "Stocks": 33, "Price": {"USD": Decimal("0.8"), "INR": 50}}
APPLE_1 = {**APPLE_0, "Stocks": 32}
APPLE_2 = {**APPLE_1, "Price": {"USD": Decimal("12345678901234567890.123456789"), "INR": 50}, "Note": "sale"}
# The story of one item, with a line of another item and an invocation line between.
LINES = [
    INVOCATION,
    line("INSERT", 1, "2026-12-01T10:00:00.100Z", new_image=APPLE_0),
    line("INSERT", 2, "2026-12-01T10:00:00.200Z", keys={"PK": "FRUIT", "SK": "KIWI"}, new_image={"PK": "FRUIT"}),
    line("MODIFY", 3, "2026-12-01T11:00:00.000Z", new_image=APPLE_1, changes={"Stocks": {"old": 33, "new": 32}}),
    line(
        "MODIFY",
        5,
        "2026-12-01T12:00:00.000Z",
        new_image=APPLE_2,
        changes={
            "Price": {"old": APPLE_0["Price"], "new": APPLE_2["Price"]},
            "Note": {"new": "sale"},
        },
    ),
    # written an hour late (a retry): the change's own time is on the line
    line(
        "REMOVE",
        7,
        "2026-12-01T14:00:00.000Z",
        approximate_creation_time="2026-12-01T13:00:00Z",
        old_image=APPLE_2,
        ttl_expired=True,
    ),
]


def text_of(lines: list[dict[str, Any]]) -> str:
    return "".join(dumps(entry) + "\n" for entry in lines)


def history(*arguments: str) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = operations.main(["history", *arguments], stdout=stdout, stderr=stderr, clock=lambda: 1_796_000_000.0)
    return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "run.jsonl"
    path.write_text(text_of(LINES))
    return path


def test_the_timeline_in_order_with_exact_numbers_and_the_ttl_expiry(story: Path) -> None:
    # GIVEN the lines of a run, out of order and one of them twice (a replay logs it again)
    lines = [LINES[0], LINES[4], LINES[1], LINES[3], LINES[3], LINES[5]]
    story.write_text(text_of(lines))

    # WHEN the history of the apple is asked for
    result = history("--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(story))

    # THEN each change once, by sequence number, the big number to its last digit
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        '2026-12-01T10:00:00.100Z  INSERT  Stocks=33 Price={"USD":0.8,"INR":50}',
        "2026-12-01T11:00:00.000Z  MODIFY  Stocks 33 → 32",
        '2026-12-01T12:00:00.000Z  MODIFY  Price {"USD":0.8,"INR":50} → '
        '{"USD":12345678901234567890.123456789,"INR":50}, Note (none) → "sale"',
        "2026-12-01T13:00:00Z  REMOVE  (expired by TTL)",
    ]


def test_the_timeline_as_json_one_object_per_change(story: Path) -> None:
    result = history("--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(story), "--format", "json")

    assert result.code == 0, result.stderr
    changes = [loads(text) for text in result.stdout.splitlines()]
    assert [c["event_name"] for c in changes] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]
    assert changes[1] == {
        "timestamp": "2026-12-01T11:00:00.000Z",
        "event_name": "MODIFY",
        "sequence_number": "1100000000017454423003",
        "keys": KEYS,
        "changes": {"Stocks": {"old": 33, "new": 32}},
    }
    assert changes[0]["new_image"] == APPLE_0
    assert changes[3]["ttl_expired"] is True
    assert '"USD":12345678901234567890.123456789' in result.stdout


@pytest.mark.parametrize(
    ("as_of", "state"),
    [
        ("2026-12-01T09:59:59Z", None),
        ("2026-12-01T10:30:00Z", APPLE_0),
        ("2026-12-01T11:00:00Z", APPLE_1),
        ("2026-12-01T12:59:59Z", APPLE_2),
        ("2026-12-01T13:00:00Z", None),
    ],
)
def test_as_of_rebuilds_the_item_between_each_pair_of_changes(story: Path, as_of: str, state: Any) -> None:
    result = history("--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(story), "--as-of", as_of)

    assert result.code == 0, result.stderr
    assert result.stdout == dumps(state) + "\n"
    assert loads(result.stdout) == state


def test_as_of_rebuilds_from_changes_alone(story: Path) -> None:
    # GIVEN lines of log_images="CHANGES": a MODIFY without its new image
    lines = [dict(entry) for entry in LINES]
    for entry in lines[3:5]:
        del entry["new_image"]
    story.write_text(text_of(lines))

    result = history(
        "--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(story), "--as-of", "2026-12-01T12:30:00Z"
    )
    assert result.code == 0, result.stderr
    assert loads(result.stdout) == APPLE_2


def test_a_gap_is_an_error_that_says_where(story: Path) -> None:
    # GIVEN lines from which the first MODIFY is missing
    story.write_text(text_of([LINES[1], LINES[4]]))

    result = history(
        "--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(story), "--as-of", "2026-12-01T12:00:00Z"
    )

    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: after the MODIFY at 2026-12-01T12:00:00.000Z (sequence number 1100000000017454423005) Stocks is 32, "
        "but it was 33: a change before it is missing\n"
    )
    assert len(result.stderr.splitlines()) == 1


def test_a_first_line_that_is_a_modify_is_a_gap(story: Path) -> None:
    # WHEN the state is asked for within --since, whose first change is a MODIFY
    result = history(
        "--key",
        "PK=FRUIT",
        "--key",
        "SK=APPLE#WASHINGTON",
        "--local",
        str(story),
        "--since",
        "2026-12-01T10:30:00Z",
        "--as-of",
        "2026-12-01T11:30:00Z",
    )

    assert result.code == 2
    assert result.stderr == (
        "error: the MODIFY at 2026-12-01T11:00:00.000Z (sequence number 1100000000017454423003) is the first change "
        "of the item in the lines: the item's state before it is not in the lines (older than the log's retention "
        "or --since, or a change is missing)\n"
    )


def test_a_number_key_is_a_number(tmp_path: Path) -> None:
    # GIVEN a table whose key is a number, and an item whose key is the string "7"
    path = tmp_path / "run.jsonl"
    path.write_text(
        text_of(
            [
                line("INSERT", 1, "2026-12-01T10:00:00Z", keys={"id": 7}, new_image={"id": 7, "n": Decimal("1.50")}),
                line("INSERT", 2, "2026-12-01T10:00:01Z", keys={"id": "7"}, new_image={"id": "7"}),
                line("INSERT", 3, "2026-12-01T10:00:02Z", keys={"id": 70}, new_image={"id": 70}),
            ]
        )
    )

    # WHEN --key id=7.0 is asked for
    result = history("--key", "id=7.0", "--local", str(path), "--format", "json")

    # THEN the number 7 only, its 1.50 as written
    assert result.code == 0, result.stderr
    (change,) = result.stdout.splitlines()
    assert '"keys":{"id":7}' in change
    assert '"n":1.50' in change


def test_a_redacted_attribute_stays_redacted_and_a_redacted_key_is_said(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(
        text_of(
            [
                line("INSERT", 1, "2026-12-01T10:00:00Z", new_image={**KEYS, "Owner": "[REDACTED]"}),
                line("INSERT", 2, "2026-12-01T10:00:01Z", keys={"PK": "[REDACTED]"}, new_image={"PK": "[REDACTED]"}),
            ]
        )
    )

    shown = history("--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(path), "--as-of", "2026-12-02")
    hidden = history("--key", "PK=SECRET", "--local", str(path))

    assert loads(shown.stdout)["Owner"] == "[REDACTED]"
    assert hidden.code == 2
    assert hidden.stderr == (
        "error: the log redacts the key attribute PK (REDACT_ATTRIBUTES): no item can be found by it\n"
    )


def test_a_local_archive_folder(tmp_path: Path) -> None:
    # GIVEN the change lines in a local archive (python -m local --archive DIR), over two objects
    folder = tmp_path / "archive" / "changes" / "year=2026" / "month=12" / "day=01"
    folder.mkdir(parents=True)
    (folder / "local-1-2026-12-01-10-00-00-a.gz").write_bytes(gzip.compress(text_of(LINES[:3]).encode()))
    (folder / "local-1-2026-12-01-12-00-00-b.gz").write_bytes(gzip.compress(text_of(LINES[3:]).encode()))

    result = history(
        "--key",
        "PK=FRUIT",
        "--key",
        "SK=APPLE#WASHINGTON",
        "--local",
        str(tmp_path / "archive"),
        "--as-of",
        "2026-12-01T11:30:00Z",
    )

    assert result.code == 0, result.stderr
    assert loads(result.stdout) == APPLE_1


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--key", "PK"], "error: --key 'PK' is not NAME=VALUE: give e.g. --key PK=FRUIT\n"),
        (["--key", "=x"], "error: --key '=x' is not NAME=VALUE: give e.g. --key PK=FRUIT\n"),
        (["--key", "PK=A", "--key", "PK=B"], "error: --key PK is given twice\n"),
        ([], "error: say which item: --key NAME=VALUE for each attribute of the table's key\n"),
        (
            ["--key", "PK=FRUIT", "--since", "yesterday"],
            "error: 'yesterday' is not a time: give e.g. 2026-12-01T14:00:00Z, 2026-12-01 or 6h\n",
        ),
        (
            ["--key", "PK=FRUIT", "--log-group", "g"],
            "error: say where the change lines are, once: --local PATH, --log-group NAME or --stack-name NAME\n",
        ),
        (["--key", "PK=FRUIT"], "error: the table's key is PK, SK: give --key PK=... --key SK=...\n"),
        (
            ["--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--as-of", "2026-12-02", "--until", "2026-12-01"],
            "error: --as-of is after --until: the item's state then is not in the lines asked for\n",
        ),
    ],
)
def test_every_mistake_is_one_line_and_status_2(story: Path, arguments: list[str], error: str) -> None:
    result = history(*arguments, "--local", str(story))

    assert (result.code, result.stdout, result.stderr) == (2, "", error)


def test_exact_json_round_trips() -> None:
    text = '{"a":0.8,"b":50,"c":12345678901234567890.123456789,"d":[1E+5,"x",null,true],"e":"é"}'
    assert dumps(loads(text)) == text
    assert json.loads(dumps(loads(text)))["b"] == 50


STORY = Path(__file__).resolve().parents[2] / "fixtures" / "history" / "story.jsonl"


def test_the_story_of_make_local(tmp_path: Path) -> None:
    # GIVEN the output of `python -m local --format json` (the README's story, recorded in a fixture)
    apple = ["--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(STORY)]

    # WHEN the apple's history and its state after the story are asked for
    timeline = history(*apple)
    state = history(*apple, "--as-of", "2026-12-03")
    mango = history("--key", "PK=FRUIT", "--key", "SK=MANGO#ALPHONSO", "--local", str(STORY), "--as-of", "2026-12-03")

    # THEN the three changes of the walkthrough, the last price exact, and the mango expired by TTL
    assert [text.split("  ", 2)[1:] for text in timeline.stdout.splitlines()] == [
        ["INSERT", 'Stocks=39 Price={"USD":0.8,"INR":50}'],
        ["MODIFY", "Stocks 39 → 33"],
        ["MODIFY", "Stocks 33 → 32"],
        ["MODIFY", 'Price {"USD":0.8,"INR":50} → {"USD":0.85,"INR":50}'],
    ]
    assert state.stdout == '{"PK":"FRUIT","SK":"APPLE#WASHINGTON","Stocks":32,"Price":{"USD":0.85,"INR":50}}\n'
    assert (mango.code, mango.stdout) == (0, "null\n")


def test_a_modify_whose_old_value_is_not_the_rebuilt_one_is_a_gap(story: Path) -> None:
    # GIVEN a MODIFY of Stocks from 30, where the lines say the apple had 33
    wrong = line("MODIFY", 3, "2026-12-01T11:00:00.000Z", new_image=APPLE_1, changes={"Stocks": {"old": 30, "new": 32}})
    story.write_text(text_of([LINES[1], wrong]))

    result = history(
        "--key", "PK=FRUIT", "--key", "SK=APPLE#WASHINGTON", "--local", str(story), "--as-of", "2026-12-02"
    )

    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: the MODIFY at 2026-12-01T11:00:00.000Z (sequence number 1100000000017454423003) changes Stocks "
        "from 30, but it was 33: a change before it is missing\n"
    )
