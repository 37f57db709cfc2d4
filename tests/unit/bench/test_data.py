"""The benchmark's data (bench/data.py): the same in every run, and the mix it promises."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench import data

ROOT = Path(__file__).resolve().parents[3]
DIGEST = (
    "import hashlib, json; from bench import data; "
    "print(hashlib.sha256(json.dumps(data.batch(300)).encode()).hexdigest())"
)


def _digest_in_fresh_process(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", DIGEST], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_batch_is_the_same_in_every_process() -> None:
    # GIVEN two fresh processes whose string hashing (and so set order) differs
    # WHEN each generates the batch of the same seed
    # THEN the batches are identical, and identical to this process's
    here = hashlib.sha256(json.dumps(data.batch(300)).encode()).hexdigest()
    assert _digest_in_fresh_process("1") == _digest_in_fresh_process("2") == here


def test_a_batch_has_the_promised_mix() -> None:
    # GIVEN a batch of 1,000 records
    records = data.batch(1000)["Records"]

    # THEN 40% INSERT, 45% MODIFY, 15% REMOVE, shaped as Lambda delivers them
    assert Counter(record["eventName"] for record in records) == {"INSERT": 400, "MODIFY": 450, "REMOVE": 150}
    images = {"INSERT": {"NewImage"}, "MODIFY": {"NewImage", "OldImage"}, "REMOVE": {"OldImage"}}
    for record in records:
        assert list(record) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        stream = record["dynamodb"]
        assert set(stream) - images[record["eventName"]] == {
            "ApproximateCreationDateTime",
            "Keys",
            "SequenceNumber",
            "SizeBytes",
            "StreamViewType",
        }
        for name in images[record["eventName"]]:
            assert 12 <= len(stream[name]) <= 14
            assert {key: stream[name][key] for key in ("PK", "SK")} == stream["Keys"]

    # AND a MODIFY changes 1 to 3 attributes, Version always
    modifies = [record["dynamodb"] for record in records if record["eventName"] == "MODIFY"]
    for stream in modifies:
        new, old = stream["NewImage"], stream["OldImage"]
        changed = {name for name in new.keys() | old.keys() if new.get(name) != old.get(name)}
        assert "Version" in changed
        assert 1 <= len(changed) <= 3
    assert any(stream["NewImage"].keys() != stream["OldImage"].keys() for stream in modifies)  # an added attribute

    # AND about 5% of the items are large (a few KB)
    items = [record["dynamodb"].get("NewImage") or record["dynamodb"]["OldImage"] for record in records]
    large = [item for item in items if "Description" in item]
    assert 0.03 <= len(large) / len(items) <= 0.07
    assert all(len(json.dumps(item)) > 2000 for item in large)

    # AND every kind of value is there, including numbers JavaScript cannot hold
    kinds = Counter(tag for item in items for tag in _tags(item))
    assert set(kinds) == {"S", "N", "M", "L", "SS", "NS", "BOOL", "NULL", "B"}
    fates = Counter(data.js_record_fate(record) for record in records)
    assert fates["throws"] > 0
    assert fates["rounded"] > 0


def _tags(value: object) -> list[str]:
    if isinstance(value, dict):
        tags = [tag for tag in value if tag in {"S", "N", "M", "L", "SS", "NS", "BS", "BOOL", "NULL", "B"}]
        return tags + [tag for child in value.values() for tag in _tags(child)]
    if isinstance(value, list):
        return [tag for child in value for tag in _tags(child)]
    return []


def test_a_tutorial_shaped_batch_has_the_same_mix_on_the_tutorials_items() -> None:
    records = data.batch(1000, shape="tutorial")["Records"]

    assert Counter(record["eventName"] for record in records) == {"INSERT": 400, "MODIFY": 450, "REMOVE": 150}
    for record in records:
        stream = record["dynamodb"]
        for image in (stream.get("NewImage"), stream.get("OldImage")):
            if image is not None:
                assert list(image) == ["PK", "SK", "Stocks", "Price"]
                assert set(image["Price"]["M"]) == {"USD", "INR"}
                assert {key: image[key] for key in ("PK", "SK")} == stream["Keys"]
        if record["eventName"] == "MODIFY":
            new, old = stream["NewImage"], stream["OldImage"]
            assert {name for name in new if new[name] != old[name]} == {"Stocks"}
    assert data.batch(300, shape="tutorial") == data.batch(300, shape="tutorial")
