"""Where `make bench` writes its results: only a full run rewrites the tracked bench/RESULTS.md."""

from __future__ import annotations

import subprocess

from bench import run
from tests.conftest import ROOT


def test_a_quick_run_writes_beside_its_data_and_not_over_the_results() -> None:
    quick = run.results_path(quick=True)

    assert run.results_path(quick=False) == ROOT / "bench" / "RESULTS.md"
    assert quick != run.RESULTS
    # Untracked: git ignores it, so a quick run leaves the working tree clean.
    ignored = subprocess.run(["git", "check-ignore", "-q", str(quick)], cwd=ROOT, check=False)
    assert ignored.returncode == 0


def test_the_bytes_besides_the_item_leave_out_keys_images_changes_and_nothing_else() -> None:
    item = (
        '"keys":{"PK":"FRUIT","SK":"€1"},"new_image":{"PK":"FRUIT","SK":"€1","Stocks":32},'
        '"changes":{"Stocks":{"old":33,"new":32}},"changed":["Stocks"]'
    )
    head = (
        '{"level":"INFO","timestamp":"2026-12-01T16:36:57.775Z","message":"MODIFY FRUIT / €1",'
        '"request_id":"r","event_name":"MODIFY","sequence_number":"1",'
    )
    line = head + item + "}"
    other = '{"level":"INFO","message":"Batch of 1 record(s)"}'  # not a change line: not counted

    placing = len(line.encode()) - len(item.encode()) - 1  # the comma before "}" counts as the item's
    in_message = len(b"FRUIT") + len("€1".encode())
    changed = len(b',"changed":["Stocks"]')
    assert run._overhead([other, line]) == placing - in_message
    assert run._overhead([line, other], strict=True) == placing + changed
