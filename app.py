#!/usr/bin/env python3
"""The CDK app: one InventoryStack. Configuration is read here and nowhere else."""

import sys

import aws_cdk as cdk

from stacks.settings import AppSettings

app = cdk.App()

# Settings come from the "context" of cdk.json and can be overridden per run,
# e.g. `make synth CDK_ARGS="-c log_level=DEBUG"` or `make deploy CDK_ARGS="-c stage=prod"`.
try:
    settings = AppSettings.from_context(app.node)
except ValueError as error:
    sys.exit(f"Invalid setting: {error}")

# Imported once the settings hold: a mistyped `-c` fails in about a second, before the constructs load.
from stacks.inventory_stack import InventoryStack  # noqa: E402

InventoryStack(
    app,
    "InventoryStack",
    service_name=settings.service_name,
    log_level=settings.log_level,
    stage=settings.stage,
    destroy_on_delete=settings.destroy_on_delete,
    alarm_topic_arn=settings.alarm_topic_arn,
    alert_email=settings.alert_email,
    # No `env`: the stack is environment-agnostic, so one synthesized template deploys to
    # any account and region, and synth needs neither credentials nor lookups. Nothing in
    # it depends on the account or region at synth time; the Powertools layer ARN is
    # resolved by CloudFormation at deploy time.
)

app.synth()
