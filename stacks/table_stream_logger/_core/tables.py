"""The table whose stream a construct of this package reads: checks made before anything is built.

Shared by ``TableStreamLogger`` and ``ChangeAlerts``: whether a table was given or the options of
one to build (and the logger's built table), whether it has a stream, which view type the stream
has (and so which images it delivers), and the table's key names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

if TYPE_CHECKING:
    from ..options import NewTable

# A view type that cannot be read (an imported table): not checked.
_UNKNOWN = object()
NEW_AND_OLD_IMAGES = dynamodb.StreamViewType.NEW_AND_OLD_IMAGES.value
#: The images of each change that a stream of each view type delivers.
IMAGES_DELIVERED = {
    dynamodb.StreamViewType.NEW_AND_OLD_IMAGES.value: {"new", "old"},
    dynamodb.StreamViewType.NEW_IMAGE.value: {"new"},
    dynamodb.StreamViewType.OLD_IMAGE.value: {"old"},
    dynamodb.StreamViewType.KEYS_ONLY.value: set(),
}


def check_table(table: dynamodb.ITable | None, new_table: NewTable | None) -> None:
    """An existing table with a stream, or the options of the one to build: one of the two."""
    if table is None:
        if new_table is None:
            raise ValueError(
                "Give either an existing table (table=...) or the table to build "
                "(new_table=NewTable(partition_key=..., optionally sort_key=...))."
            )
        return
    if new_table is not None:
        raise ValueError(
            "Give either an existing table or options for a new one, not both: table was given together with new_table."
        )
    require_stream(table)


def build_table(scope: Construct, new_table: NewTable | None) -> dynamodb.Table:
    """The table to log, as child ``Table`` of ``scope``: on-demand, with a NEW_AND_OLD_IMAGES stream
    and point-in-time recovery."""
    assert new_table is not None  # check_table
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=new_table.partition_key,
        sort_key=new_table.sort_key,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        # Without a key, the CloudFormation default: an AWS owned key.
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED if new_table.encryption_key else None,
        encryption_key=new_table.encryption_key,
        deletion_protection=new_table.deletion_protection,
        time_to_live_attribute=new_table.time_to_live_attribute,
        removal_policy=new_table.removal_policy,
    )


def require_stream(table: dynamodb.ITable) -> str:
    """The ARN of the table's stream, or a clear error if it has none."""
    if table.table_stream_arn is None:
        raise ValueError(no_stream_message(table))
    return table.table_stream_arn


def no_stream_message(table: dynamodb.ITable) -> str:
    if not isinstance(table, dynamodb.Table | dynamodb.TableV2):
        return (
            f"The imported table {table.node.path} has no stream ARN. Import it with the ARN of its stream "
            "(which must be enabled on the table): dynamodb.Table.from_table_attributes(..., table_stream_arn=...)."
        )
    prop = "dynamo_stream" if isinstance(table, dynamodb.TableV2) else "stream"
    return (
        f"The table {table.node.path} has no stream. Enable a NEW_AND_OLD_IMAGES stream "
        f"on it ({prop}=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)."
    )


def check_stream_view_type(table: dynamodb.ITable | None, given: dynamodb.StreamViewType | None) -> str | None:
    """The view type of the stream to read, or None when it cannot be known (an imported table).

    A built table has a NEW_AND_OLD_IMAGES stream. For a ``Table`` or ``TableV2`` of the app it
    is read from the L1 resource; for an imported table it is ``stream_view_type`` if given.
    """
    if table is None:
        if given is not None:
            raise ValueError(
                "stream_view_type describes the stream of an existing table (table=...); the table the "
                "construct builds always has a NEW_AND_OLD_IMAGES stream. Remove stream_view_type."
            )
        return NEW_AND_OLD_IMAGES
    known = _read_stream_view_type(table)
    if known is None:
        raise ValueError(no_stream_message(table))
    if known is _UNKNOWN:
        return given.value if given is not None else None
    assert isinstance(known, str)
    if given is not None and given.value != known:
        raise ValueError(
            f"stream_view_type={given.value} was given, but the stream of {table.node.path} is {known}. "
            "Remove stream_view_type: the construct reads it from a table of the app."
        )
    return known


def _read_stream_view_type(table: dynamodb.ITable) -> object:
    """The view type of the stream of a table of the app, None without a stream, or ``_UNKNOWN``."""
    resource = table.node.default_child
    if isinstance(table, dynamodb.Table) and isinstance(resource, dynamodb.CfnTable):
        specification = resource.stream_specification
        if specification is None:
            return None
        if isinstance(specification, dynamodb.CfnTable.StreamSpecificationProperty):
            return specification.stream_view_type
    elif isinstance(table, dynamodb.TableV2) and isinstance(resource, dynamodb.CfnGlobalTable):
        # TableV2 sets its stream specification lazily, and reading it through the L1's
        # attribute fails in jsii; resolving the L1's properties gives it (or None without one).
        try:
            specification = Stack.of(table).resolve(resource._cfn_properties.get("streamSpecification"))
        except RuntimeError:
            return _UNKNOWN
        if specification is None:
            return None
        if isinstance(specification, dict) and isinstance(specification.get("streamViewType"), str):
            return specification["streamViewType"]
    return _UNKNOWN


def existing_key_names(table: dynamodb.ITable) -> list[str] | None:
    """Key names of a table defined in this app; None for an imported one (unknown)."""
    if isinstance(table, dynamodb.Table):
        # schema_v2(), not the deprecated schema(), which prints a warning in the user's synth.
        schema = table.schema_v2()
        return [key.name for key in (*schema.partition_keys, *schema.sort_keys)]
    return None
