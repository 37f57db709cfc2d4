"""The app's settings, read from the CDK context and checked before anything is built.

Each check raises a ValueError whose message says what is allowed; app.py prints it as one
line (``Invalid setting: ...``) and stops before anything is synthesized.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields
from typing import Any, cast

from constructs import Node

from stacks.table_stream_logger import LOG_LEVEL_NAMES, LogLevel

STAGES = ("dev", "prod")
# CloudWatch takes a metric dimension value of 1 to 1024 characters, ASCII only, not all
# blank; `service` is one (the handler's metrics and the dashboard).
SERVICE_NAME = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,1022}[\x21-\x7e])?")
# arn:<partition>:sns:<region>:<account>:<topic>; a topic name is 1 to 256 letters, digits,
# hyphens and underscores, with ".fifo" for a FIFO topic.
SNS_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?")
# Enough to catch a typo or a missing value; SNS and the confirmation mail do the rest.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# The CDK's own context keys, which are not the app's settings: the feature flags
# (`@aws-cdk/core:...`), what the CLI injects (`aws:cdk:enable-path-metadata`, ...), the cached
# lookups of cdk.context.json (`availability-zones:account=...:region=...`), all with a ":" or
# a "/"; and the CLI's settings of cdk.json (`cli-telemetry`, `acknowledged-issue-numbers`).
CDK_KEY_PREFIXES = ("cdk-", "cli-", "aws-cdk")
CDK_KEYS = frozenset({"acknowledged-issue-numbers"})


@dataclass(frozen=True)
class AppSettings:
    """What app.py passes to the InventoryStack.

    :param service_name: The ``service`` of every log line.
    :param log_level: The functions' log level: the logger's and the alerts'.
    :param stage: ``dev`` or ``prod``. ``prod`` turns on the table's and the log group's deletion protection.
    :param destroy_on_delete: Delete the table and the failure bucket with the stack
        (``RemovalPolicy.DESTROY``) instead of keeping them. Only with ``stage=dev``.
    :param alarm_topic_arn: An SNS topic that every alarm notifies, or none.
    :param alert_email: An e-mail address to subscribe to the alerts (back in stock, listing expired), or none.
    """

    service_name: str
    log_level: LogLevel
    stage: str = "dev"
    destroy_on_delete: bool = False
    alarm_topic_arn: str | None = None
    alert_email: str | None = None

    def __post_init__(self) -> None:
        if not SERVICE_NAME.fullmatch(self.service_name):
            raise ValueError(
                "service_name must be 1 to 1024 printable ASCII characters, not starting or ending with a space "
                f"(it is a CloudWatch metric dimension), got {self.service_name!r}"
            )
        if self.log_level not in LOG_LEVEL_NAMES:
            raise ValueError(
                f"log_level must be one of {', '.join(LOG_LEVEL_NAMES)} (any case), got {self.log_level!r}"
            )
        check_stage(self.stage, self.destroy_on_delete)
        if self.alarm_topic_arn is not None and not SNS_TOPIC_ARN.fullmatch(self.alarm_topic_arn):
            raise ValueError(
                "alarm_topic_arn must be the ARN of an SNS topic, arn:aws:sns:<region>:<account>:<topic>, "
                f"got {self.alarm_topic_arn!r}"
            )
        if self.alert_email is not None and not EMAIL.fullmatch(self.alert_email):
            raise ValueError(
                f"alert_email must be an e-mail address, got {self.alert_email!r} "
                '(e.g. `make deploy CDK_ARGS="-c alert_email=you@example.com"`)'
            )

    @classmethod
    def from_context(cls, node: Node) -> AppSettings:
        """Read the settings from the context (cdk.json and ``-c key=value``).

        Values given with ``-c`` arrive as strings, hence ``"true"``/``"false"`` for a flag.
        A log level is read in any case (``debug`` is ``DEBUG``). A key that is neither a
        setting nor the CDK's own is refused, so that ``-c stagee=prod`` cannot deploy dev.
        """
        check_keys(node.get_all_context())
        return cls(
            service_name=_text(node, "service_name", strip=False),
            # Checked in __post_init__.
            log_level=cast(LogLevel, _text(node, "log_level").upper()),
            stage=_text(node, "stage") or "dev",
            destroy_on_delete=_flag(node, "destroy_on_delete"),
            alarm_topic_arn=_text(node, "alarm_topic_arn") or None,
            alert_email=_text(node, "alert_email") or None,
        )


def check_keys(context: dict[str, Any]) -> None:
    """Raise a ValueError for the first key that is no setting, naming the nearest setting."""
    settings = [field.name for field in fields(AppSettings)]
    for key, value in context.items():
        if key in settings or key in CDK_KEYS or ":" in key or "/" in key or key.startswith(CDK_KEY_PREFIXES):
            continue
        nearest = difflib.get_close_matches(key.replace("-", "_").lower(), settings, n=1, cutoff=0.6)
        hint = f"did you mean {nearest[0]}?" if nearest else f"the settings are {', '.join(settings)}"
        raise ValueError(f"-c {key}={value}: no such setting; {hint}")


def check_stage(stage: str, destroy_on_delete: bool) -> None:
    """Raise a ValueError for an unknown stage, or for DESTROY asked for in prod."""
    if stage not in STAGES:
        raise ValueError(
            f'stage must be one of {", ".join(STAGES)}, got {stage!r} (e.g. `make deploy CDK_ARGS="-c stage=prod"`)'
        )
    if destroy_on_delete and stage == "prod":
        raise ValueError(
            "destroy_on_delete=true is refused with stage=prod: production data is never deleted with its stack."
        )


def _text(node: Node, key: str, *, strip: bool = True) -> str:
    value: Any = node.try_get_context(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"context {key} must be a string, got {value!r}")
    return value.strip() if strip else value


def _flag(node: Node, key: str) -> bool:
    value: Any = node.try_get_context(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"context {key} must be true or false, got {value!r}")
