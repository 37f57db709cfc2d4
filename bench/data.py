"""Seeded, realistic DynamoDB stream batches, shaped exactly as Lambda delivers them.

An inventory table (keys ``PK``/``SK``) whose items have 12 to 14 attributes: strings,
numbers, maps nested up to three levels deep, a list of maps, string and number sets, booleans,
a null, sometimes a binary thumbnail. About 5% of the items are large (a description and a
lot history of a few KB). About 40% have a supplier city that is not ASCII (São Paulo,
Zürich, 東京, Kraków). ``Valuation`` is sometimes a number JavaScript cannot hold: a
decimal beyond double precision (``12345678901234567890.123456789``), a big integer, or
a decimal with more digits than a double keeps.

A batch is about 40% INSERT, 45% MODIFY and 15% REMOVE (exact counts, shuffled). A MODIFY
changes 1 to 3 attributes of an item the table holds: ``Version`` always, plus up to two of
stock, price, tags, lots, the organic flag, or a newly added ``Discontinued`` null.

``shape="tutorial"`` gives the same mix of records on items shaped like the tutorial's
``FRUIT / APPLE#WASHINGTON``: the keys, ``Stocks`` and a ``Price`` map, where a MODIFY
changes the stock. There the fixed work per record weighs most.
"""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

SEED = 2026
MIX = {"INSERT": 0.40, "MODIFY": 0.45, "REMOVE": 0.15}
LARGE_SHARE = 0.05
REGION = "us-east-1"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Inventory/stream/2026-01-01T00:00:00.000"
FIRST_SEQUENCE_NUMBER = 400_000_000_000_000_000_000
FIRST_CREATION_TIME = 1_780_000_000  # May 2026, epoch seconds

Attribute = dict[str, Any]
Item = dict[str, Attribute]

_CATEGORIES = ["FRUIT", "VEGETABLE", "DAIRY", "BAKERY", "PANTRY", "FROZEN", "BEVERAGE", "SNACKS"]
_WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a list of 42 strings
    "fresh organic ripe sweet crisp local imported seasonal premium classic golden red green "
    "wild smoked aged creamy crunchy spicy mild juicy tender whole sliced mango apple pear "
    "cherry cheddar bread rye oat honey olive tomato basil pepper lemon orchard valley farm "
    "harvest"
).split()
_CITIES = ["Seattle", "Wenatchee", "São Paulo", "Zürich", "Lyon", "Pune", "東京", "Kraków", "Austin", "Cork"]
_COUNTRIES = ["US", "US", "BR", "CH", "FR", "IN", "JP", "PL", "US", "IE"]
_TAGS = ["organic", "fair-trade", "vegan", "gluten-free", "local", "seasonal", "bestseller", "new", "promo"]
_THUMBNAIL = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAKklEQVR4nGNgGAWjYBSMglEwCkbBKBgF"


def S(text: str) -> Attribute:  # named after DynamoDB's type tags
    return {"S": text}


def N(number: object) -> Attribute:
    return {"N": str(number)}


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count))


def _price(rng: random.Random) -> Attribute:
    usd = Decimal(rng.randint(49, 4999)) / 100
    return {"M": {"USD": N(usd), "EUR": N((usd * Decimal("0.92")).quantize(Decimal("0.01"))), "INR": N(int(usd * 83))}}


def _valuation(rng: random.Random) -> Attribute:
    """Usually an ordinary decimal; sometimes one JavaScript's Number cannot hold exactly."""
    draw = rng.random()
    if draw < 0.04:  # beyond double precision, with a fraction: unmarshall throws
        return N(f"{rng.randint(10**19, 10**20 - 1)}.{rng.randint(10**8, 10**9 - 1)}")
    if draw < 0.07:  # a big integer: unmarshall returns a BigInt
        return N(rng.randint(10**19, 10**25))
    if draw < 0.10:  # more digits than a double keeps: unmarshall rounds it silently
        return N(f"{rng.randint(1, 999)}.{rng.randint(10**17, 10**18 - 1)}")
    return N(Decimal(rng.randint(100, 10**9)) / 100)


def _lot(rng: random.Random, received: int) -> Attribute:
    return {
        "M": {
            "Lot": S(f"L{rng.randint(10**7, 10**8 - 1)}"),
            "Received": N(received),
            "Quantity": N(rng.randint(1, 400)),
            "Inspected": {"BOOL": rng.random() < 0.8},
        }
    }


def _supplier(rng: random.Random) -> Attribute:
    city = rng.randrange(len(_CITIES))
    address: Item = {
        "Street": S(f"{rng.randint(1, 9999)} {_words(rng, 2).title()} Road"),
        "City": S(_CITIES[city]),
        "Country": S(_COUNTRIES[city]),
    }
    if rng.random() < 0.5:
        address["Geo"] = {"M": {"Lat": N(f"{rng.uniform(-60, 60):.6f}"), "Lon": N(f"{rng.uniform(-180, 180):.6f}")}}
    return {
        "M": {
            "Name": S(_words(rng, 2).title() + " Ltd"),
            "Address": {"M": address},
            "Contact": {
                "M": {
                    "Email": S(f"orders{rng.randint(1, 999)}@example.com"),
                    "Phone": S(f"+1-555-{rng.randint(0, 9999):04d}"),
                }
            },
        }
    }


def new_item(rng: random.Random, number: int, now: int) -> Item:
    """A new inventory item: 12 attributes, plus 0 to 2 optional ones."""
    large = rng.random() < LARGE_SHARE
    lots = rng.randint(20, 30) if large else rng.randint(1, 4)
    item: Item = {
        "PK": S("CATEGORY#" + rng.choice(_CATEGORIES)),
        "SK": S(f"SKU#{number:08d}"),
        "Name": S(_words(rng, rng.randint(2, 4)).capitalize()),
        "Stocks": N(rng.randint(0, 500)),
        "Price": _price(rng),
        "Supplier": _supplier(rng),
        "Tags": {"SS": rng.sample(_TAGS, rng.randint(1, 4))},
        "Sizes": {"NS": [str(size) for size in rng.sample([0.25, 0.5, 1, 1.5, 2, 5, 10, 25], rng.randint(1, 4))]},
        "Lots": {"L": [_lot(rng, now - rng.randint(0, 90 * 86400)) for _ in range(lots)]},
        "Organic": {"BOOL": rng.random() < 0.3},
        "Valuation": _valuation(rng),
        "Version": N(1),
    }
    if rng.random() < 0.4:
        item["Discontinued"] = {"NULL": True}
    if large:
        item["Description"] = S(_words(rng, rng.randint(300, 700)).capitalize() + ".")
    elif rng.random() < 0.3:
        item["Thumbnail"] = {"B": _THUMBNAIL}
    return item


def modified(rng: random.Random, item: Item, now: int) -> Item:
    """The item after an update of 1 to 3 attributes (``Version`` always)."""
    after = copy.deepcopy(item)
    after["Version"] = N(int(item["Version"]["N"]) + 1)
    changes = ["Stocks", "Stocks", "Price", "Tags", "Lots", "Organic", "Discontinued"]
    for name in dict.fromkeys(rng.sample(changes, rng.randint(0, 2))):  # not set(): its order varies per process
        if name == "Stocks":
            after["Stocks"] = N(max(0, int(item["Stocks"]["N"]) + rng.randint(-20, 40)))
        elif name == "Price":
            after["Price"] = _price(rng)
        elif name == "Tags":
            after["Tags"] = {"SS": rng.sample(_TAGS, rng.randint(1, 4))}
        elif name == "Lots":
            after["Lots"] = {"L": [*item["Lots"]["L"], _lot(rng, now)]}
        elif name == "Organic":
            after["Organic"] = {"BOOL": not item["Organic"]["BOOL"]}
        elif "Discontinued" not in item:
            after["Discontinued"] = {"NULL": True}
    return after


_REGIONS = ["WASHINGTON", "FLORIDA", "ECUADOR", "OHIO", "IDAHO", "CALIFORNIA", "PUNE", "MICHOACAN"]


def tutorial_item(rng: random.Random, number: int, now: int) -> Item:
    """An item shaped like the tutorial's ``FRUIT / APPLE#WASHINGTON``."""
    return {
        "PK": S(rng.choice(_CATEGORIES)),
        "SK": S(f"{rng.choice(_WORDS).upper()}#{rng.choice(_REGIONS)}-{number}"),
        "Stocks": N(rng.randint(0, 500)),
        "Price": {"M": {"USD": N(rng.randint(10, 999) / 100), "INR": N(rng.randint(10, 9000))}},
    }


def tutorial_modified(rng: random.Random, item: Item, now: int) -> Item:
    """The item after a sale or a delivery: its stock changes (33 -> 32)."""
    after = copy.deepcopy(item)
    after["Stocks"] = N(int(item["Stocks"]["N"]) + rng.choice([-3, -2, -1, -1, -1, 5, 20]))
    return after


SHAPES = {"inventory": (new_item, modified), "tutorial": (tutorial_item, tutorial_modified)}


def _size(*images: Item | None) -> int:
    """Roughly DynamoDB's SizeBytes: names plus values, without the JSON punctuation."""
    return sum(len(json.dumps(image, separators=(",", ":"))) // 2 for image in images if image)


def batch(size: int, seed: int = SEED, shape: str = "inventory") -> dict[str, Any]:
    """A stream event of ``size`` records, the same for the same seed and shape."""
    make_item, modify = SHAPES[shape]
    rng = random.Random(seed)
    counts = {name: round(share * size) for name, share in MIX.items()}
    counts["REMOVE"] = size - counts["INSERT"] - counts["MODIFY"]
    event_names = [name for name, count in counts.items() for _ in range(count)]
    rng.shuffle(event_names)

    # The table already holds items: MODIFY and REMOVE act on them, INSERT adds more.
    table = {}
    for number in range(size):
        item = make_item(rng, number, FIRST_CREATION_TIME)
        table[item["SK"]["S"]] = item
    live = list(table)  # the keys in the table, to pick from in O(1)
    next_number = size

    records = []
    for index, event_name in enumerate(event_names):
        now = FIRST_CREATION_TIME + index // 10
        new: Item | None
        old: Item | None
        if event_name == "INSERT":
            new, old = make_item(rng, next_number, now), None
            next_number += 1
            table[new["SK"]["S"]] = new
            live.append(new["SK"]["S"])
        else:
            position = rng.randrange(len(live))
            sk = live[position]
            old = table[sk]
            if event_name == "MODIFY":
                new = modify(rng, old, now)
                table[sk] = new
            else:
                new = None
                del table[sk]
                live[position] = live[-1]
                live.pop()
        source = new if new is not None else old
        assert source is not None
        keys = {"PK": source["PK"], "SK": source["SK"]}
        stream: dict[str, Any] = {"ApproximateCreationDateTime": now, "Keys": keys}
        if new is not None:
            stream["NewImage"] = new
        if old is not None:
            stream["OldImage"] = old
        stream["SequenceNumber"] = str(FIRST_SEQUENCE_NUMBER + 100 * index)
        stream["SizeBytes"] = _size(keys, new, old)
        stream["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        records.append(
            {
                "eventID": f"{rng.getrandbits(128):032x}",
                "eventName": event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": stream,
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": records}


def write_batch(directory: Path, size: int, shape: str = "inventory") -> Path:
    """Write the batch as ``batch-<size>.json`` (``batch-<shape>-<size>.json`` for another shape)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (f"batch-{size}.json" if shape == "inventory" else f"batch-{shape}-{size}.json")
    path.write_text(json.dumps(batch(size, shape=shape), ensure_ascii=False), encoding="utf-8")
    return path


# --- what JavaScript's unmarshall does with a number --------------------------------
MAX_SAFE_INTEGER = 2**53 - 1


def js_number_fate(literal: str) -> str:
    """``exact``, ``rounded`` (silently) or ``throws``: what unmarshall (default options) does."""
    value = float(literal)
    if abs(value) > MAX_SAFE_INTEGER:
        # unmarshall falls back to BigInt(literal), which accepts integer literals only.
        return "exact" if literal.lstrip("-").isdigit() else "throws"
    return "exact" if Decimal(repr(value)) == Decimal(literal) else "rounded"


def _numbers(value: Any) -> list[str]:
    if isinstance(value, dict):
        if "N" in value and len(value) == 1:
            return [value["N"]]
        if "NS" in value and len(value) == 1:
            return list(value["NS"])
        return [number for child in value.values() for number in _numbers(child)]
    if isinstance(value, list):
        return [number for child in value for number in _numbers(child)]
    return []


def js_record_fate(record: dict[str, Any], images: tuple[str, ...] = ("NewImage", "OldImage")) -> str:
    """The worst fate of the record's numbers in the given images: ``throws`` > ``rounded`` > ``exact``."""
    fates = {js_number_fate(n) for name in images for n in _numbers(record["dynamodb"].get(name))}
    return "throws" if "throws" in fates else "rounded" if "rounded" in fates else "exact"
