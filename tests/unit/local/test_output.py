"""The readable form of the function's log lines."""

from __future__ import annotations

import io
import json

from local.lambda_logs import kept
from local.output import Printer, Progress, pretty

KEYS = '"keys":{"PK":"FRUIT","SK":"APPLE#WASHINGTON"}'
APPLE = '"PK":"FRUIT","SK":"APPLE#WASHINGTON"'


def test_an_insert_shows_the_key_and_the_attributes() -> None:
    line = (
        '{"level":"INFO","event_name":"INSERT",'
        + KEYS
        + ',"new_image":{'
        + APPLE
        + ',"Stocks":39,"Price":{"USD":0.8,"INR":50}}}'
    )

    assert pretty(line) == 'INSERT FRUIT/APPLE#WASHINGTON Stocks=39 Price={"USD":0.8,"INR":50}'


def test_a_modify_shows_old_and_new_of_what_changed() -> None:
    line = (
        '{"level":"INFO","event_name":"MODIFY",'
        + KEYS
        + ',"new_image":{'
        + APPLE
        + ',"Stocks":32,"Price":{"USD":0.8}},'
        '"old_image":{' + APPLE + ',"Stocks":33,"Price":{"USD":0.8}},"changed":["Stocks"]}'
    )

    assert pretty(line) == "MODIFY FRUIT/APPLE#WASHINGTON Stocks 33 → 32"


def test_a_modify_in_changes_mode_and_an_added_attribute() -> None:
    line = (
        '{"level":"INFO","event_name":"MODIFY",' + KEYS + ","
        '"changes":{"Color":{"new":"red"},"Stocks":{"old":33,"new":32.50}},"changed":["Color","Stocks"]}'
    )

    assert pretty(line) == 'MODIFY FRUIT/APPLE#WASHINGTON Color (none) → "red", Stocks 33 → 32.50'


def test_a_modify_with_the_new_image_only() -> None:
    line = (
        '{"level":"INFO","event_name":"MODIFY",'
        + KEYS
        + ',"new_image":{'
        + APPLE
        + ',"Stocks":32},"changed":["Stocks"]}'
    )

    assert pretty(line) == "MODIFY FRUIT/APPLE#WASHINGTON Stocks → 32"


def test_a_remove_shows_the_key() -> None:
    line = '{"level":"INFO","event_name":"REMOVE","keys":{"PK":"FRUIT","SK":"ORANGE#FLORIDA"},"old_image":{}}'

    assert pretty(line) == "REMOVE FRUIT/ORANGE#FLORIDA"


def test_a_remove_by_ttl_says_so() -> None:
    line = (
        '{"level":"INFO","event_name":"REMOVE","keys":{"PK":"FRUIT","SK":"MANGO#ALPHONSO"},"old_image":{},'
        '"ttl_expired":true}'
    )

    assert pretty(line) == "REMOVE FRUIT/MANGO#ALPHONSO (expired by TTL)"


def test_a_shortened_line_says_where_the_whole_record_is() -> None:
    head = '{"level":"INFO","event_name":"MODIFY","keys":{"PK":"FRUIT","SK":"JACKFRUIT#KERALA"},'
    changes = '"changes":{"Stocks":{"old":3,"new":2}},'
    copied = '"shortened":{"bytes":399396,"limit":256000,"omitted":["new_image.Notes"],"full_record":"s3://b/k.json"}}'
    not_copied = '"shortened":{"bytes":399396,"limit":256000,"omitted":[],"full_record":null,"note":"..."}}'

    assert pretty(head + changes + copied) == (
        "MODIFY FRUIT/JACKFRUIT#KERALA Stocks 3 → 2 (shortened: the whole record is s3://b/k.json)"
    )
    assert pretty(head + changes + not_copied) == (
        "MODIFY FRUIT/JACKFRUIT#KERALA Stocks 3 → 2 (shortened: the whole record is not copied)"
    )


def test_errors_metrics_and_other_lines() -> None:
    error = '{"level":"ERROR","message":"Record cannot be processed: Keys is not an object","sequence_number":"101"}'
    assert pretty(error) == "ERROR Record cannot be processed: Keys is not an object (sequence number 101)"
    assert pretty('{"errorType":"RuntimeError","errorMessage":"boom"}') == "ERROR RuntimeError: boom"
    assert pretty('{"_aws":{"CloudWatchMetrics":[]},"InsertRecords":[1]}') is None
    assert pretty("plain text from print()") == "plain text from print()"


def test_the_printer_writes_each_format() -> None:
    lines = ['{"level":"INFO","event_name":"REMOVE","keys":{"PK":"A"}}', '{"_aws":{}}']
    raw, readable = io.StringIO(), io.StringIO()

    Printer("json", raw)(lines)
    Printer("pretty", readable)(lines)

    assert [json.loads(line) for line in raw.getvalue().splitlines()] == [json.loads(line) for line in lines]
    assert readable.getvalue() == "REMOVE A\n"


def test_progress_goes_out_unless_quiet() -> None:
    out = io.StringIO()
    Progress(out)("invocation 1")
    Progress(out, quiet=True)("hidden")
    assert out.getvalue() == "# invocation 1\n"


def test_the_default_line_shows_old_and_new_from_its_changes() -> None:
    line = (
        '{"level":"INFO","event_name":"MODIFY",' + KEYS + ',"new_image":{' + APPLE + ',"Stocks":32},'
        '"changes":{"Stocks":{"old":33,"new":32}},"changed":["Stocks"]}'
    )

    assert pretty(line) == "MODIFY FRUIT/APPLE#WASHINGTON Stocks 33 → 32"


def test_the_invocation_line_is_not_a_change_to_show() -> None:
    line = '{"level":"INFO","message":"Batch of 2 record(s)","record_count":2,"service":"inventory"}'

    assert pretty(line) is None


def test_the_printer_shows_only_what_lambdas_log_level_filter_keeps() -> None:
    stamp = '"timestamp":"2026-11-23T15:50:08.583Z"'
    lines = [
        '{"level":"INFO",' + stamp + ',"event_name":"REMOVE","keys":{"PK":"A"}}',
        '{"level":"ERROR",' + stamp + ',"message":"Record cannot be processed: x","sequence_number":"1"}',
        '{"level":"ERROR","timestamp":"2026-11-23 15:50:08,583+0000","message":"not RFC 3339: taken for INFO"}',
    ]
    shown = io.StringIO()

    Printer("json", shown, keep=lambda line: kept(line, "WARN"))(lines)

    assert shown.getvalue().splitlines() == [lines[1]]
