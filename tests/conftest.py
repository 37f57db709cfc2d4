"""Synthesize the app's stack once per session, with the context of cdk.json.

Tests never import app.py: it synthesizes on import. They build the same stack the same
way instead, so they see the feature flags and settings that `cdk synth` sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions, cx_api

from stacks.inventory_stack import InventoryStack

ROOT = Path(__file__).resolve().parent.parent
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]


@pytest.fixture(scope="session")
def inventory_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.App, InventoryStack]:
    app = cdk.App(context=CDK_CONTEXT, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = InventoryStack(
        app,
        "InventoryStack",
        service_name=CDK_CONTEXT["service_name"],
        log_level=CDK_CONTEXT["log_level"],
    )
    return app, stack


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


@pytest.fixture
def new_stack() -> Callable[[], cdk.Stack]:
    """Make a fresh, empty stack per call, for trying other configurations of a construct."""

    def make() -> cdk.Stack:
        return cdk.Stack(cdk.App(context=CDK_CONTEXT), "TestStack")

    return make
