"""The archive's catalog: the Glue database and tables over the change lines, the Athena workgroup and
the saved queries (ChangeArchive)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Names, Size
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .layout import (
    COLUMNS,
    DATA_PREFIX,
    LINE_COLUMN,
    LINES_TABLE_NAME,
    PARTITION_KEYS,
    PROJECTION,
    RESULTS_PREFIX,
    TABLE_NAME,
    athena_queries,
)


def athena_name(scope: Construct, suffix: str) -> str:
    """A Glue database or Athena workgroup name, which CloudFormation cannot generate: unique per
    stack and construct path, lower case with underscores as Athena prefers."""
    name = Names.unique_resource_name(scope, max_length=100, separator="_")
    return f"{name}_{suffix}".lower()


def build_tables(scope: Construct, bucket: s3.IBucket, database_name: str) -> glue.CfnTable:
    """The Glue database and its two tables, ``change_lines`` and ``change_lines_text``; returns the first."""
    database = glue.CfnDatabase(
        scope,
        "Database",
        catalog_id=Aws.ACCOUNT_ID,
        database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=database_name, description="The change archive of a TableStreamLogger"
        ),
    )
    table = _glue_table(
        scope,
        bucket,
        database_name,
        "Table",
        TABLE_NAME,
        "One row per change line (README: Keeping changes for years)",
        classification="json",
        # The OpenX SerDe gives an object's JSON text to a string column.
        serde="org.openx.data.jsonserde.JsonSerDe",
        columns=COLUMNS,
    )
    table.node.add_dependency(database)
    _build_lines_table(scope, bucket, database_name, table)
    return table


def _build_lines_table(scope: Construct, bucket: s3.IBucket, database_name: str, table: glue.CfnTable) -> glue.CfnTable:
    """``change_lines_text``: the same objects, a row per line, the line's exact text (layout.py)."""
    lines = _glue_table(
        scope,
        bucket,
        database_name,
        "LinesTable",
        LINES_TABLE_NAME,
        "One row per change line, its exact text (python -m table_stream_logger history)",
        classification="text",
        serde="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        columns=((LINE_COLUMN, "string"),),
    )
    lines.node.add_dependency(table)  # and so on the database, which both name by a string
    return lines


def _glue_table(
    scope: Construct,
    bucket: s3.IBucket,
    database_name: str,
    construct_id: str,
    name: str,
    description: str,
    *,
    classification: str,
    serde: str,
    columns: Sequence[tuple[str, str]],
) -> glue.CfnTable:
    """A table over the archive's GZIP text objects under ``changes/``, with Firehose's date partitions."""
    return glue.CfnTable(
        scope,
        construct_id,
        catalog_id=Aws.ACCOUNT_ID,
        database_name=database_name,
        table_input=glue.CfnTable.TableInputProperty(
            name=name,
            description=description,
            table_type="EXTERNAL_TABLE",
            parameters={"classification": classification, "compressionType": "gzip", **PROJECTION},
            partition_keys=[glue.CfnTable.ColumnProperty(name=key, type="int") for key in PARTITION_KEYS],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                location=bucket.s3_url_for_object(DATA_PREFIX),
                input_format="org.apache.hadoop.mapred.TextInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=serde),
                columns=[glue.CfnTable.ColumnProperty(name=column, type=kind) for column, kind in columns],
            ),
        ),
    )


def build_workgroup(
    scope: Construct, bucket: s3.IBucket, key: kms.IKey | None, bytes_scanned_limit: Size
) -> athena.CfnWorkGroup:
    """The Athena workgroup of the saved queries, its results in the bucket (with the archive's key)."""
    return athena.CfnWorkGroup(
        scope,
        "WorkGroup",
        name=athena_name(scope, "WorkGroup"),
        description="Queries of the change archive",
        # Deleting the stack deletes the workgroup and its saved queries, not the archive.
        recursive_delete_option=True,
        work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
            enforce_work_group_configuration=True,
            publish_cloud_watch_metrics_enabled=True,
            bytes_scanned_cutoff_per_query=int(bytes_scanned_limit.to_bytes()),
            result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                output_location=bucket.s3_url_for_object(RESULTS_PREFIX),
                # The results hold item data too: with the archive's key when it has one.
                encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                    encryption_option="SSE_KMS", kms_key=key.key_arn
                )
                if key is not None
                else athena.CfnWorkGroup.EncryptionConfigurationProperty(encryption_option="SSE_S3"),
            ),
        ),
    )


def build_queries(
    scope: Construct,
    database_name: str,
    workgroup: athena.CfnWorkGroup,
    table: glue.CfnTable,
    key_names: Sequence[str] | None,
) -> dict[str, athena.CfnNamedQuery]:
    """The saved queries (layout.py), as children ``<Name>Query`` of ``scope``, by name."""
    queries = {
        name: athena.CfnNamedQuery(
            scope,
            f"{name}Query",
            name=title,
            description=description,
            database=database_name,
            work_group=workgroup.ref,
            query_string=sql,
        )
        for name, (title, description, sql) in athena_queries(key_names).items()
    }
    for query in queries.values():
        query.node.add_dependency(table)  # named by a string, not a reference
    return queries
