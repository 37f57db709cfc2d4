"""grant_status and grant_history: exactly what ``status`` and ``history`` call, on exactly this
construct's resources; the actions IAM cannot scope on ``*``, acknowledged for cdk-nag."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam

from stacks.table_stream_logger import (
    ArchiveOptions,
    ChangeAlerts,
    FailureOptions,
    NewTable,
    RisesAbove,
    TableStreamLogger,
)
from stacks.table_stream_logger._core.iam_actions import UNSCOPED_ACTIONS
from stacks.table_stream_logger._core.stream_consumer import StreamConsumer
from tests.unit.core.test_compliance import findings, nag_report
from tests.unit.core.test_grant_redrive import NewStack, get_att, logical_id, mapping_statement, objects, role_policy

ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)


def policy_of(stack: cdk.Stack, operator: iam.Role) -> tuple[assertions.Template, list[dict[str, Any]]]:
    template, policy = role_policy(stack, operator)
    assert policy["Version"] == "2012-10-17"
    return template, policy["Statement"]


def operator(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())


def arn(service: str, resource: str) -> dict[str, Any]:
    parts = [
        "arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        f":{resource}",
    ]  # fmt: skip
    return {"Fn::Join": ["", parts]}


def function_of(template: assertions.Template, reader: StreamConsumer, stack: cdk.Stack) -> str:
    return str(stack.resolve(stack.get_logical_id(reader.function.node.default_child)))  # type: ignore[arg-type]


def status_statements(stack: cdk.Stack, template: assertions.Template, reader: StreamConsumer) -> list[dict[str, Any]]:
    mapping = stack.get_logical_id(reader.event_source_mapping.node.default_child)  # type: ignore[arg-type]
    log_group = stack.get_logical_id(reader.log_group.node.default_child)  # type: ignore[arg-type]
    return [
        {"Action": "cloudformation:ListStackResources", "Effect": "Allow", "Resource": {"Ref": "AWS::StackId"}},
        mapping_statement(stack.resolve(mapping)),
        {
            "Action": "lambda:GetFunctionConfiguration",
            "Effect": "Allow",
            "Resource": get_att(function_of(template, reader, stack)),
        },
        {"Action": "logs:FilterLogEvents", "Effect": "Allow", "Resource": get_att(stack.resolve(log_group))},
        {"Action": "cloudwatch:DescribeAlarms", "Effect": "Allow", "Resource": arn("cloudwatch", "alarm:TestStack-*")},
        {"Action": "cloudwatch:GetMetricStatistics", "Effect": "Allow", "Resource": "*"},
    ]


def test_status_on_the_logger_reads_its_mapping_function_log_alarms_metric_and_lists_its_bucket(
    new_stack: NewStack,
) -> None:
    stack = new_stack()
    logger, role = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID)), operator(stack)

    logger.grant_status(role)

    template, statements = policy_of(stack, role)
    bucket = logical_id(template, "AWS::S3::Bucket")
    assert statements == [
        *status_statements(stack, template, logger),
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(bucket)},
    ]


def test_status_on_alerts_parking_in_a_queue_reads_the_queue_depth(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Table", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
    alerts = ChangeAlerts(
        stack, "Alerts", table=table, rules=[RisesAbove("Stocks", 0)], failure=FailureOptions(destination_type="SQS")
    )
    role = operator(stack)

    alerts.grant_status(role)

    template, statements = policy_of(stack, role)
    assert statements == [
        *status_statements(stack, template, alerts),
        {
            "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            "Effect": "Allow",
            "Resource": get_att(logical_id(template, "AWS::SQS::Queue")),
        },
    ]


def history_statements(stack: cdk.Stack, template: assertions.Template, logger: TableStreamLogger) -> list[Any]:
    mapping = stack.get_logical_id(logger.event_source_mapping.node.default_child)  # type: ignore[arg-type]
    log_group = stack.get_logical_id(logger.log_group.node.default_child)  # type: ignore[arg-type]
    return [
        {
            "Action": "cloudformation:ListStackResources",
            "Effect": "Allow",
            "Resource": {"Ref": "AWS::StackId"},
        },
        mapping_statement(stack.resolve(mapping)),
        {
            "Action": "lambda:GetFunctionConfiguration",
            "Effect": "Allow",
            "Resource": get_att(function_of(template, logger, stack)),
        },
        {
            "Action": ["logs:GetQueryResults", "logs:StartQuery"],
            "Effect": "Allow",
            "Resource": get_att(stack.resolve(log_group)),
        },
        {
            "Action": ["logs:DescribeIndexPolicies", "logs:DescribeLogGroups", "logs:StopQuery"],
            "Effect": "Allow",
            "Resource": "*",
        },
    ]


def test_history_without_an_archive_queries_the_log_group_and_nothing_else(new_stack: NewStack) -> None:
    stack = new_stack()
    logger, role = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID)), operator(stack)

    logger.grant_history(role)

    template, statements = policy_of(stack, role)
    assert statements == history_statements(stack, template, logger)


def test_history_with_the_archive_adds_its_workgroup_tables_lines_and_results(new_stack: NewStack) -> None:
    stack = new_stack()
    logger, role = (
        TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), archive=ArchiveOptions()),
        operator(stack),
    )
    assert logger.archive is not None

    logger.grant_history(role)

    template, statements = policy_of(stack, role)
    bucket = stack.resolve(stack.get_logical_id(logger.archive.bucket.node.default_child))  # type: ignore[arg-type]
    workgroup = stack.resolve(stack.get_logical_id(logger.archive.workgroup))
    database = logger.archive.database_name
    catalog, glue_database = arn("glue", "catalog"), arn("glue", f"database/{database}")
    tables = [arn("glue", f"table/{database}/{name}") for name in ("change_lines", "change_lines_text")]
    workgroup_arn = {
        "Fn::Join": [
            "",
            [
                "arn:", {"Ref": "AWS::Partition"}, ":athena:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
                ":workgroup/", {"Ref": workgroup},
            ],
        ]
    }  # fmt: skip
    assert statements == [
        *history_statements(stack, template, logger),
        {
            "Action": [
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            "Effect": "Allow",
            "Resource": workgroup_arn,
        },
        {"Action": "glue:GetDatabase", "Effect": "Allow", "Resource": [catalog, glue_database]},
        {
            "Action": ["glue:GetPartitions", "glue:GetTable"],
            "Effect": "Allow",
            "Resource": [catalog, glue_database, *tables],
        },
        {
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Effect": "Allow",
            "Resource": get_att(bucket),
        },
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": [objects(bucket, "athena-results/*"), objects(bucket, "changes/*")],
        },
        {
            "Action": ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": objects(bucket, "athena-results/*"),
        },
    ]


def test_cdk_nag_sees_each_grants_wildcards_acknowledged_for_a_role_and_an_imported_role() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Granted")
    logger = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), archive=ArchiveOptions())
    on_call = iam.Role.from_role_name(stack, "OnCall", "on-call")
    for grantee in (operator(stack), on_call):
        logger.grant_status(grantee)
        logger.grant_history(grantee)

    report = nag_report(app)

    assert findings(report["violations"]) == set()
    archive = logger.archive
    assert archive is not None
    bucket = stack.resolve(stack.get_logical_id(archive.bucket.node.default_child))  # type: ignore[arg-type]
    wildcards = {
        "*",  # cloudwatch:GetMetricStatistics, logs:DescribeLogGroups, DescribeIndexPolicies, StopQuery
        "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:Granted-*",
        f"<{bucket}.Arn>/changes/*",
        f"<{bucket}.Arn>/athena-results/*",
    }
    assert findings(report["suppressedViolations"]) >= {
        (f"AwsSolutions-IAM5[Resource::{wildcard}]", policy)
        for wildcard in wildcards
        for policy in ("Granted/Operator/DefaultPolicy/Resource", "Granted/OnCall/Policy/Resource")
    }
    granted = [
        path
        for _, path in findings(report["suppressedViolations"])
        if path.startswith(("Granted/Operator", "Granted/OnCall"))
    ]
    assert len(granted) == 2 * len(wildcards)


def test_only_the_actions_iam_cannot_scope_are_granted_on_everything(new_stack: NewStack) -> None:
    stack = new_stack()
    logger, role = (
        TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), archive=ArchiveOptions()),
        operator(stack),
    )
    logger.grant_status(role)
    logger.grant_history(role)

    _, statements = policy_of(stack, role)

    unscoped = [statement["Action"] for statement in statements if statement["Resource"] == "*"]
    flat = sorted(action for each in unscoped for action in ([each] if isinstance(each, str) else each))
    assert flat == sorted(UNSCOPED_ACTIONS)
