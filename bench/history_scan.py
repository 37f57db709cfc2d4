"""What one ``history`` query scans, with and without the log group's field index: an estimate.

Logs Insights cannot run here, so nothing is queried. A synthetic log group of a million
change lines is built in memory, in the handler's default format (``NEW_AND_CHANGES``), over
``ITEMS`` items in ``PARTITIONS`` partitions, and the bytes a query scans are counted as Logs
Insights documents them (CloudWatch pricing, "Logs Insights": billed per GB of log data
scanned; the filterIndex page: a query with ``filterIndex`` on an indexed field "attempts to
scan only log events ... that match the value"):

- without an index (or with the Infrequent Access class): every line of the time range;
- with the index on ``keys.PK``: the lines of the item's partition only.

Run: ``python -m bench.history_scan [CHANGES]`` (about 20 s for a million). The synthetic lines are
about 445 bytes (small items); the bench's own batches log 1,332 bytes a change, which scales
both figures alike. The figures are an estimate: the
scanned size of a real query also counts what Logs Insights adds per event.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass

CHANGES = 1_000_000
PARTITIONS = 1_000
ITEMS = 10_000
# CloudWatch Logs Insights, us-east-1, read from aws.amazon.com/cloudwatch/pricing on 2026-12-01.
INSIGHTS_USD_PER_GB_SCANNED = 0.005
GB = 1024**3


@dataclass(frozen=True)
class Scan:
    lines: int
    bytes: int

    @property
    def usd(self) -> float:
        return self.bytes / GB * INSIGHTS_USD_PER_GB_SCANNED


def change_line(sequence: int, partition: int, item: int, stocks: int) -> str:
    """A MODIFY line as the handler writes it by default (new image and changes)."""
    keys = {"PK": f"CATEGORY#{partition:04d}", "SK": f"ITEM#{item:05d}"}
    image = {**keys, "Stocks": stocks, "Price": {"USD": 12.5, "INR": 1040}, "Name": f"Item {item}"}
    line = {
        "level": "INFO",
        "timestamp": "2026-12-01T10:00:00.000Z",
        "message": f"MODIFY {keys['PK']} / {keys['SK']}",
        "request_id": "d2433eb9-ecaf-4dbf-88bf-1cb860a1d9fd",
        "event_name": "MODIFY",
        "sequence_number": str(1100000000017454423000 + sequence),
        "keys": keys,
        "new_image": image,
        "changes": {"Stocks": {"old": stocks + 1, "new": stocks}},
        "changed": ["Stocks"],
    }
    return json.dumps(line, separators=(",", ":"))


def scans(changes: int = CHANGES, partitions: int = PARTITIONS, items: int = ITEMS) -> tuple[Scan, Scan, Scan]:
    """(everything, the item's partition, the item itself) for one item's history query."""
    chooser = random.Random(28)
    wanted = (0, 0)
    total, partition_scan, item_scan = [0, 0], [0, 0], [0, 0]
    for sequence in range(changes):
        item = chooser.randrange(items)
        partition = item % partitions
        size = len(change_line(sequence, partition, item, chooser.randrange(100)).encode()) + 1
        total[0] += 1
        total[1] += size
        if partition == wanted[0]:
            partition_scan[0] += 1
            partition_scan[1] += size
            if item == wanted[1]:
                item_scan[0] += 1
                item_scan[1] += size
    return Scan(*total), Scan(*partition_scan), Scan(*item_scan)


def main(argv: list[str] | None = None) -> int:
    given = argv if argv is not None else sys.argv[1:]
    changes = int(given[0]) if given else CHANGES
    everything, partition, item = scans(changes)
    print(f"A history query over {changes:,} change lines ({ITEMS:,} items in {PARTITIONS:,} partitions), estimated")
    print("from Logs Insights' documented billing (nothing is queried here):")
    rows = [
        ("without a field index (or Infrequent Access)", everything),
        ("with the field index, filterIndex keys.PK", partition),
        ("the item's own lines (what the command keeps)", item),
    ]
    for label, scan in rows:
        print(f"  {label:<48} {scan.lines:>9,} lines {scan.bytes:>15,} bytes  ${scan.usd:.6f}")
    print(f"  the index scans {everything.bytes / max(partition.bytes, 1):,.0f}x fewer bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
