"""tools/check_aws.py: what `make bootstrap/diff/deploy/destroy` check before the CDK CLI runs."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from tools import check_aws


@pytest.fixture(autouse=True)
def no_aws_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credentials or region from this machine: empty config files, no instance role."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):  # fmt: skip
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


@pytest.fixture
def env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")


@pytest.mark.usefixtures("env_credentials")
@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_a_region_from_the_environment_alone_passes(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # AWS_REGION is the one boto3.Session().region_name ignores and the CDK CLI reads first.
    monkeypatch.setenv(variable, "eu-west-1")

    assert check_aws.problem([]) is None


def test_aws_region_alone_passes_with_a_profile_without_a_region(
    no_aws_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's setup: AWS_PROFILE=dev AWS_REGION=eu-west-1 make deploy.
    no_aws_settings.write_text("[profile dev]\naws_access_key_id = AKIA0\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert "No AWS region set" in str(check_aws.problem([]))

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert check_aws.problem([]) is None


def test_aws_region_wins_over_an_empty_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "")
    session = boto3.Session()

    assert check_aws.cli_region(session) == "eu-west-1"


def test_the_profiles_region_from_aws_profile_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "prod")

    assert check_aws.problem([]) is None


def test_an_sso_profile_passes_without_a_call_to_aws(no_aws_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # After `aws sso login`: the token is the CLI's to use (or to report as expired).
    no_aws_settings.write_text(
        "[profile team]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        "region = eu-west-1\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
    )

    assert check_aws.problem(["--profile", "team"]) is None


def test_a_container_role_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    # ECS / CodeBuild: the role's credentials come from the container endpoint, served here.
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Credentials(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {"AccessKeyId": "AKIA0", "SecretAccessKey": "s", "Token": "t", "Expiration": "2999-01-01T00:00:00Z"}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Credentials)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{server.server_port}/role")
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        assert check_aws.problem([]) is None
        monkeypatch.delenv("AWS_REGION")
        assert check_aws.problem([]) == (
            "No AWS region set: set AWS_REGION (e.g. AWS_REGION=eu-west-1) or a region in your AWS profile."
        )
    finally:
        server.shutdown()
        server.server_close()
