"""The archive's Glue table and saved queries, on DuckDB, over a local archive folder.

The table is built from the same column list as the Glue table (archive_layout.COLUMNS), over
the folder in the layout Firehose writes, and the saved queries run exactly as Athena gets
them. The one function of Athena's that DuckDB names differently, json_extract_scalar, is
defined here as DuckDB's json_extract_string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from stacks.table_stream_logger.archive.layout import (
    COLUMNS,
    DATA_PREFIX,
    LINE_COLUMN,
    LINES_TABLE_NAME,
    PARTITION_KEYS,
    TABLE_NAME,
    athena_queries,
)

# Glue (Hive) column types as DuckDB spells them.
DUCKDB_TYPES = {"string": "VARCHAR", "boolean": "BOOLEAN", "array<string>": "VARCHAR[]", "int": "INTEGER"}


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the archive table over ``folder`` (what the bucket holds)."""
    connection = duckdb.connect()
    connection.execute("CREATE MACRO json_extract_scalar(document, path) AS json_extract_string(document, path)")
    columns = {name: DUCKDB_TYPES[kind] for name, kind in COLUMNS}
    partitions = {name: DUCKDB_TYPES["int"] for name in PARTITION_KEYS}
    files = (folder / DATA_PREFIX).as_posix() + "/*" * len(PARTITION_KEYS) + "/*.gz"
    connection.execute(
        f"CREATE VIEW {TABLE_NAME} AS SELECT * FROM read_json('{files}', format = 'newline_delimited', "
        f"columns = {columns!r}, hive_partitioning = true, hive_types = {partitions!r})"
    )
    # The text table: each line whole, as LazySimpleSerDe reads it (no quoting, fields split on \x01).
    connection.execute(
        f"CREATE VIEW {LINES_TABLE_NAME} AS SELECT * FROM read_csv('{files}', "
        f"columns = {{'{LINE_COLUMN}': 'VARCHAR'}}, delim = '\x01', quote = '', escape = '', header = false, "
        "hive_partitioning = true, "
        f"hive_types = {partitions!r})"
    )
    return connection


def run(connection: duckdb.DuckDBPyConnection, sql: str, *parameters: Any) -> list[dict[str, Any]]:
    """The rows of a query, each as a dict of its columns."""
    cursor = connection.execute(sql, list(parameters))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_saved(
    connection: duckdb.DuckDBPyConnection, name: str, *parameters: Any, key_names: tuple[str, ...] = ("PK", "SK")
) -> list[dict[str, Any]]:
    """Run one of the archive's saved queries, by its construct id (e.g. ``ItemHistory``)."""
    _, _, sql = athena_queries(key_names)[name]
    return run(connection, sql, *parameters)
