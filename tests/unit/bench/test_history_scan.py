"""bench/history_scan.py: the estimate of what a history query scans, with and without the index."""

from __future__ import annotations

import json

from bench.history_scan import GB, INSIGHTS_USD_PER_GB_SCANNED, change_line, scans


def test_the_index_scans_the_partition_only_and_the_whole_group_without_it() -> None:
    everything, partition, item = scans(changes=20_000)

    assert everything.lines == 20_000
    assert 0 < item.lines <= partition.lines < everything.lines / 100
    assert partition.bytes < everything.bytes / 100
    assert everything.usd == everything.bytes / GB * INSIGHTS_USD_PER_GB_SCANNED


def test_the_synthetic_line_has_the_handler_format() -> None:
    line = json.loads(change_line(1, 2, 3, 4))

    assert line["keys"] == {"PK": "CATEGORY#0002", "SK": "ITEM#00003"}
    assert line["changes"] == {"Stocks": {"old": 5, "new": 4}}
    assert line["event_name"] == "MODIFY"
