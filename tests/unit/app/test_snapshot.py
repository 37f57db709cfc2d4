"""A snapshot of the whole InventoryStack template, next to the precise assertions.

Asset hashes are blanked, so an edit of the handler in lambda/ leaves the snapshot alone,
while any change of the infrastructure shows up as a diff. After an intended change, review
the diff and run `.venv/bin/pytest --snapshot-update`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import assertions
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def normalised(template: assertions.Template) -> Any:
    text = ASSET_HASH.sub("<asset-hash>", json.dumps(template.to_json()))
    return json.loads(text)


def test_template_matches_snapshot(template: assertions.Template, snapshot_json: SnapshotAssertion) -> None:
    assert normalised(template) == snapshot_json
