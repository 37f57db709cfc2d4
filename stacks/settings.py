"""The app's settings, read from the CDK context and checked before anything is built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from constructs import Node

STAGES = ("dev", "prod")
# Enough to catch a typo or a missing value; SNS and the confirmation mail do the rest.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class AppSettings:
    """What app.py passes to the InventoryStack.

    :param service_name: The ``service`` of every log line.
    :param log_level: The function's log level.
    :param stage: ``dev`` or ``prod``. ``prod`` turns on the table's deletion protection.
    :param destroy_on_delete: Delete the table and the failure bucket with the stack
        (``RemovalPolicy.DESTROY``) instead of keeping them. Only with ``stage=dev``.
    :param alarm_topic_arn: An SNS topic that every alarm notifies, or none.
    :param alert_email: An e-mail address to subscribe to the back-in-stock alerts, or none.
    """

    service_name: str
    log_level: str
    stage: str = "dev"
    destroy_on_delete: bool = False
    alarm_topic_arn: str | None = None
    alert_email: str | None = None

    def __post_init__(self) -> None:
        check_stage(self.stage, self.destroy_on_delete)
        if self.alert_email is not None and not EMAIL.fullmatch(self.alert_email):
            raise ValueError(
                f"alert_email must be an e-mail address, got {self.alert_email!r} "
                "(e.g. `cdk deploy -c alert_email=you@example.com`)"
            )

    @classmethod
    def from_context(cls, node: Node) -> AppSettings:
        """Read the settings from the context (cdk.json and ``-c key=value``).

        Values given with ``-c`` arrive as strings, hence ``"true"``/``"false"`` for a flag.
        """
        return cls(
            service_name=node.get_context("service_name"),
            log_level=node.get_context("log_level"),
            stage=_text(node, "stage") or "dev",
            destroy_on_delete=_flag(node, "destroy_on_delete"),
            alarm_topic_arn=_text(node, "alarm_topic_arn") or None,
            alert_email=_text(node, "alert_email") or None,
        )


def check_stage(stage: str, destroy_on_delete: bool) -> None:
    """Raise a ValueError for an unknown stage, or for DESTROY asked for in prod."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r} (e.g. `cdk deploy -c stage=prod`)")
    if destroy_on_delete and stage == "prod":
        raise ValueError(
            "destroy_on_delete=true is refused with stage=prod: production data is never deleted with its stack."
        )


def _text(node: Node, key: str) -> str:
    value: Any = node.try_get_context(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"context {key} must be a string, got {value!r}")
    return value.strip()


def _flag(node: Node, key: str) -> bool:
    value: Any = node.try_get_context(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"context {key} must be true or false, got {value!r}")
