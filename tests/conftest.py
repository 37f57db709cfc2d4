"""Synthesize the app's stack once per session, with the context of cdk.json.

Tests never import app.py: it synthesizes on import. They build the same stack the same
way instead (AppSettings.from_context, then InventoryStack), so they see the feature flags
and settings that `cdk synth` sees.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import botocore.loaders
import botocore.session
import pytest
from aws_cdk import assertions, cx_api

from stacks.inventory_stack import InventoryStack
from stacks.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

# moto's mock_aws() gives each test a new boto3 default session, and each new session reads and
# parses botocore's service models again (40% of tests/unit/operations/test_s3.py's time). One
# loader per process, as one long-lived session would have; the models are read-only.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core and one more. A quarter of the suite's time is spent waiting
    (on DynamoDB Local, the moto server, the CDK CLI, functions' timeouts), which a third worker
    on two cores fills: 106-110 s against 146 s with two (one run each, quiet machine)."""
    return (os.cpu_count() or 1) + 1


def build_inventory_app(outdir: Path, **context: Any) -> tuple[cdk.App, InventoryStack]:
    """The app as app.py builds it, with the cdk.json context and `-c key=value` overrides."""
    app = cdk.App(context={**CDK_CONTEXT, **context}, outdir=str(outdir))
    settings = AppSettings.from_context(app.node)
    stack = InventoryStack(app, "InventoryStack", **dataclasses.asdict(settings))
    return app, stack


@pytest.fixture(scope="session")
def inventory_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.App, InventoryStack]:
    return build_inventory_app(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template(inventory_app: tuple[cdk.App, InventoryStack]) -> assertions.Template:
    """The InventoryStack's template, as `make synth` writes it (without CLI metadata)."""
    _, stack = inventory_app
    return assertions.Template.from_stack(stack)


@pytest.fixture(scope="session")
def cloud_assembly(
    inventory_app: tuple[cdk.App, InventoryStack], template: assertions.Template
) -> cx_api.CloudAssembly:
    """The cloud assembly the template came from (synthesized once, then cached)."""
    app, _ = inventory_app
    return app.synth()


@pytest.fixture(scope="session")
def stage_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The InventoryStack's template per stage setting, each app synthesized once."""
    contexts: dict[str, dict[str, Any]] = {
        "dev": {},
        "dev-destroy": {"destroy_on_delete": "true"},
        "prod": {"stage": "prod"},
    }
    templates = {}
    for name, context in contexts.items():
        _, stack = build_inventory_app(tmp_path_factory.mktemp(f"cdk.out-{name}"), **context)
        templates[name] = dict(assertions.Template.from_stack(stack).to_json())
    return templates


@pytest.fixture
def new_stack() -> Callable[[], cdk.Stack]:
    """Make a fresh, empty stack per call, for trying other configurations of a construct."""

    def make() -> cdk.Stack:
        return cdk.Stack(cdk.App(context=CDK_CONTEXT), "TestStack")

    return make
