"""The renderer's own details, below the log line."""

from __future__ import annotations

import json

import dynamo_json


def test_member_names_are_json_encoded_and_the_cache_stays_bounded() -> None:
    names = [f'attr-{index}-"quoted"' for index in range(12_000)]

    texts = [dynamo_json.member(name) for name in names]

    assert [json.loads("{" + text + "0}") for text in texts[:3]] == [{name: 0} for name in names[:3]]
    assert dynamo_json.member(names[-1]) == json.dumps(names[-1]) + ":"
    assert len(dynamo_json._MEMBERS) <= 10_000
