#!/usr/bin/env python3
"""The CDK app: one InventoryStack. Configuration is read here and nowhere else."""

import aws_cdk as cdk

from stacks.inventory_stack import InventoryStack

app = cdk.App()

# Settings come from the "context" of cdk.json and can be overridden per run,
# e.g. `cdk synth -c log_level=DEBUG`.
InventoryStack(
    app,
    "InventoryStack",
    service_name=app.node.get_context("service_name"),
    log_level=app.node.get_context("log_level"),
    # No `env`: the stack is environment-agnostic, so one synthesized template deploys to
    # any account and region, and synth needs neither credentials nor lookups. Nothing in
    # it depends on the account or region at synth time; the Powertools layer ARN is
    # resolved by CloudFormation at deploy time.
)

app.synth()
