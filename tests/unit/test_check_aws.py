"""tools/check_aws.py: what `make bootstrap/diff/deploy/destroy` check before the CDK CLI runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import check_aws


@pytest.fixture(autouse=True)
def no_aws_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credentials or region from this machine: empty config files, no instance role."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[profile prod]\nregion = eu-west-1\naws_access_key_id = AKIA0\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def test_nothing_set_names_both_ways_to_give_credentials_and_the_region() -> None:
    message = check_aws.problem([])

    assert message is not None
    assert message.startswith("No AWS credentials found. To give them, set AWS_PROFILE")
    assert 'CDK_ARGS="--profile NAME"' in message and "set AWS_REGION" in message


def test_the_profile_of_the_cdk_arguments_is_the_one_checked() -> None:
    assert check_aws.problem(["-c", "stage=prod", "--profile", "prod"]) is None
    assert "The config profile (nope) could not be found" in str(check_aws.problem(["--profile", "nope"]))


def test_credentials_without_a_region_ask_for_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")

    assert check_aws.problem([]) == (
        "No AWS region set: set AWS_REGION (e.g. AWS_REGION=eu-west-1) or a region in your AWS profile."
    )
