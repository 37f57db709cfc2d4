"""What a million item changes cost to log: the prices, in one place, and the arithmetic.

Prices are AWS's public list prices for us-east-1, read from the AWS pricing pages on
2026-12-01 (CloudWatch: aws.amazon.com/cloudwatch/pricing, "Logs", "Alarms" and "Dashboards";
Lambda: aws.amazon.com/lambda/pricing, "Arm price"; KMS: aws.amazon.com/kms/pricing). They
change rarely; update them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GB = 1024**3

# CloudWatch Logs, standard log class: ingestion ("Collect") and storage ("Store (Archival)",
# billed on the compressed size).
LOGS_INGESTION_USD_PER_GB = 0.50
LOGS_INFREQUENT_ACCESS_INGESTION_USD_PER_GB = 0.25
LOGS_STORAGE_USD_PER_GB_MONTH = 0.03
# Lambda on arm64 (Graviton): compute per GB-second and requests.
LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20

# How the construct runs the function (its defaults) and what a batch costs besides records.
MEMORY_GB = 256 / 1024
BATCH_SIZE = 100
# Stated, not measured here: the Lambda runtime's own work per invocation (receiving the
# event, returning the response) on top of the handler's measured time. Lambda bills whole
# milliseconds, so a batch is billed at least 1 ms.
INVOCATION_OVERHEAD_S = 0.002


@dataclass(frozen=True)
class Cost:
    """USD per million changes."""

    ingestion: float
    storage_month: float
    requests: float
    compute: float

    @property
    def total(self) -> float:
        return self.ingestion + self.storage_month + self.requests + self.compute


def per_million_changes(
    bytes_per_record: float,
    seconds_per_record: float,
    compression_ratio: float,
    ingestion_usd_per_gb: float = LOGS_INGESTION_USD_PER_GB,
) -> Cost:
    """The cost of logging a million changes, for a handler's measured bytes and time per record.

    ``compression_ratio`` is compressed size / raw size of the log (CloudWatch bills storage
    compressed); the bench measures it with gzip on the same log.
    """
    changes = 1_000_000
    log_gb = bytes_per_record * changes / GB
    invocations = changes / BATCH_SIZE
    billed_ms = max(1.0, -(-(seconds_per_record * BATCH_SIZE + INVOCATION_OVERHEAD_S) * 1000 // 1))
    return Cost(
        ingestion=log_gb * ingestion_usd_per_gb,
        storage_month=log_gb * compression_ratio * LOGS_STORAGE_USD_PER_GB_MONTH,
        requests=invocations / 1_000_000 * LAMBDA_USD_PER_MILLION_REQUESTS,
        compute=invocations * billed_ms / 1000 * MEMORY_GB * LAMBDA_ARM_USD_PER_GB_SECOND,
    )


# The archive (archive=True): Amazon Data Firehose, Direct PUT ingestion, billed per GB with each
# record rounded up to 5 KB; S3 Standard storage. Firehose's price was not confirmed on its pricing
# page on the date above (no access); check it before relying on the archive's figures.
FIREHOSE_USD_PER_GB = 0.029
FIREHOSE_RECORD_MINIMUM_BYTES = 5 * 1024
S3_STANDARD_USD_PER_GB_MONTH = 0.023
# Stated, not measured: how many log events CloudWatch Logs puts into one Firehose record.
EVENTS_PER_FIREHOSE_RECORD = 100


def archive_per_million_changes(bytes_per_record: float, compression_ratio: float, months: int = 12) -> float:
    """USD to archive a million changes: Firehose ingestion and ``months`` of S3 storage.

    A subscription filter sends gzip-compressed batches of log events; Firehose bills each record
    at 5 KB at least, and the archive stores the lines gzip-compressed.
    """
    changes = 1_000_000
    compressed = bytes_per_record * compression_ratio
    billed = max(FIREHOSE_RECORD_MINIMUM_BYTES / EVENTS_PER_FIREHOSE_RECORD, compressed)
    firehose = billed * changes / GB * FIREHOSE_USD_PER_GB
    storage = compressed * changes / GB * S3_STANDARD_USD_PER_GB_MONTH * months
    return firehose + storage


# What a deployed stack costs per month with no traffic at all. Everything else it builds bills
# by use only (requests, bytes, stored data): the on-demand table and its point-in-time recovery
# (by size), the buckets, the functions, the log groups, the SNS topic, Firehose, Athena, and
# Glue's catalog (its first million objects are free). The free tier's 10 alarms and 3
# dashboards per account are not counted: other stacks of the account may use them.
ALARM_USD_PER_METRIC_MONTH = 0.10  # a standard-resolution alarm, per metric it reads
DASHBOARD_USD_PER_MONTH = 3.00
# A customer-managed key; with automatic rotation (the construct's), each of its first two
# rotations adds 1.00 a month, so a key costs 2.00 in its second year and 3.00 from its third.
KMS_KEY_USD_PER_MONTH = 1.00


@dataclass(frozen=True)
class Standing:
    """The resources of a template that cost a monthly charge, whatever the traffic."""

    alarm_metrics: int
    dashboards: int
    keys: int

    @property
    def total(self) -> float:
        """USD per month, the keys in their first year."""
        return (
            self.alarm_metrics * ALARM_USD_PER_METRIC_MONTH
            + self.dashboards * DASHBOARD_USD_PER_MONTH
            + self.keys * KMS_KEY_USD_PER_MONTH
        )


def standing_per_month(template: dict[str, Any]) -> Standing:
    """The standing charges of a synthesized template: alarms (by the metrics each reads),
    dashboards and KMS keys."""
    resources = list(template.get("Resources", {}).values())

    def of(kind: str) -> list[dict[str, Any]]:
        return [resource.get("Properties", {}) for resource in resources if resource.get("Type") == kind]

    metrics = sum(
        sum(1 for query in alarm["Metrics"] if "MetricStat" in query) if "Metrics" in alarm else 1
        for alarm in of("AWS::CloudWatch::Alarm")
    )
    return Standing(metrics, len(of("AWS::CloudWatch::Dashboard")), len(of("AWS::KMS::Key")))
