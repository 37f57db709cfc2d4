"""A local stand-in for SNS: the alerts function's notifications, printed instead of sent.

The local run loads the alerts handler (lambda/change_alerts.py) like the logger's and gives
it this stand-in as its SNS client: each ``Publish`` it makes is printed on stdout, clearly
labelled, and nothing leaves the machine.

``pretty`` prints one line a person reads at a glance::

    SNS (local stand-in) | Back in stock: FURNITURE / CHAIR#ERGONOMIC | Stocks 0 → 5

``json`` prints one JSON line per notification, ``{"local_sns_stand_in": {...}}``, with the
``Publish`` arguments as SNS would get them (the message body parsed, numbers exact).
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any, TextIO

LABEL = "SNS (local stand-in)"


class LocalTopic:
    """What the alerts handler calls as its SNS client; keeps and prints each notification."""

    def __init__(self, format: str, out: TextIO) -> None:
        self.format = format
        self.out = out
        self.published: list[dict[str, Any]] = []

    def publish(self, **arguments: Any) -> dict[str, str]:
        self.published.append(arguments)
        if self.format == "json":
            # The body as the handler wrote it, so that every number stays exactly as it is.
            others = json.dumps(
                {name: value for name, value in arguments.items() if name != "Message"}, separators=(",", ":")
            )
            self.out.write(f'{{"local_sns_stand_in":{others[:-1]},"Message":{arguments["Message"]}}}}}\n')
        else:
            summary = json.loads(arguments["Message"], parse_float=Decimal).get("summary", "")
            self.out.write(f"{LABEL} | {arguments['Subject']} | {summary}\n")
        self.out.flush()
        return {"MessageId": str(uuid.uuid4())}
