"""The library user's own handler: it accepts every record it is given."""

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    print(f"{len(event['Records'])} record(s)")
    return {"batchItemFailures": []}
