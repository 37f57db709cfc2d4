"""grant_redrive: exactly what the redrive command uses, on exactly this construct's resources,
for each reader of a stream (the logger and the alerts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from stacks.table_stream_logger import ChangeAlerts, FailureOptions, NewTable, RisesAbove, TableStreamLogger
from stacks.table_stream_logger._core.stream_consumer import StreamConsumer

NewStack = Callable[[], cdk.Stack]
ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def logical_id(template: assertions.Template, resource_type: str) -> str:
    (name,) = template.find_resources(resource_type)
    return name


def operator_policy(stack: cdk.Stack, **props: Any) -> tuple[assertions.Template, dict[str, Any]]:
    """Grant a role of the stack the redrive of a logger built with ``props``; return its policy document."""
    return granted_policy(stack, TableStreamLogger(stack, "Logger", **props))


def granted_policy(stack: cdk.Stack, reader: StreamConsumer) -> tuple[assertions.Template, dict[str, Any]]:
    """Grant a role of the stack the redrive of ``reader``; return the template and the role's policy document."""
    operator = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
    reader.grant_redrive(operator)
    return role_policy(stack, operator)


def role_policy(stack: cdk.Stack, role: iam.Role) -> tuple[assertions.Template, dict[str, Any]]:
    """The stack's template, and the policy document the grants gave ``role``."""
    template = assertions.Template.from_stack(stack)
    logical_id = stack.resolve(stack.get_logical_id(role.node.default_child))  # type: ignore[arg-type]
    (policy,) = (
        resource["Properties"]["PolicyDocument"]
        for resource in template.find_resources("AWS::IAM::Policy").values()
        if resource["Properties"]["Roles"] == [{"Ref": logical_id}]
    )
    return template, policy


STACK_STATEMENT = {
    "Action": "cloudformation:ListStackResources",
    "Effect": "Allow",
    "Resource": {"Ref": "AWS::StackId"},
}


def mapping_statement(mapping: str) -> dict[str, Any]:
    """Read the event source mapping: it names the function and the failure destination."""
    arn = [
        "arn:", {"Ref": "AWS::Partition"}, ":lambda:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        ":event-source-mapping:", {"Ref": mapping},
    ]  # fmt: skip
    return {"Action": "lambda:GetEventSourceMapping", "Effect": "Allow", "Resource": {"Fn::Join": ["", arn]}}


def common_statements(template: assertions.Template) -> list[dict[str, Any]]:
    function = next(iter(template.find_resources("AWS::Lambda::Function")))
    log_group = logical_id(template, "AWS::Logs::LogGroup")
    return [
        STACK_STATEMENT,
        {
            "Action": ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
            "Effect": "Allow",
            "Resource": get_att(function),
        },
        mapping_statement(logical_id(template, "AWS::Lambda::EventSourceMapping")),
        {"Action": "logs:FilterLogEvents", "Effect": "Allow", "Resource": get_att(log_group)},
    ]


def objects(bucket: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [get_att(bucket), f"/{pattern}"]]}


def bucket_statements(bucket: str) -> list[dict[str, Any]]:
    """List the bucket, read the parked batches and their copies, move a batch (or take back the
    copy of a replay Lambda refused): nothing else. CDK merges the read and the delete, which have
    the same two prefixes."""
    both = [objects(bucket, "aws/lambda/*"), objects(bucket, "replayed/aws/lambda/*")]
    return [
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(bucket)},
        {"Action": ["s3:DeleteObject", "s3:GetObject"], "Effect": "Allow", "Resource": both},
        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": objects(bucket, "replayed/aws/lambda/*")},
    ]


def queue_statements(template: assertions.Template) -> list[dict[str, Any]]:
    """Receive, release and delete the queue's messages; read the batch's records back from the stream."""
    return [
        {
            "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            "Effect": "Allow",
            "Resource": get_att(logical_id(template, "AWS::SQS::Queue")),
        },
        {
            "Action": ["dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Effect": "Allow",
            "Resource": get_att(logical_id(template, "AWS::DynamoDB::Table"), "StreamArn"),
        },
    ]


def test_the_built_bucket_gets_list_read_move_and_nothing_else(new_stack: NewStack) -> None:
    template, policy = operator_policy(new_stack(), new_table=NewTable(partition_key=ID))
    bucket = logical_id(template, "AWS::S3::Bucket")

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            *common_statements(template),
            *bucket_statements(bucket),
        ],
    }


def test_a_given_bucket_with_a_kms_key_adds_its_key(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "BucketKey")
    bucket = s3.Bucket(stack, "Parked", encryption=s3.BucketEncryption.KMS, encryption_key=key)

    template, policy = operator_policy(
        stack, new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=bucket)
    )

    assert policy["Statement"][-1] == {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Effect": "Allow",
        "Resource": get_att(logical_id(template, "AWS::KMS::Key")),
    }
    assert len(policy["Statement"]) == 8


def test_the_built_queue_gets_receive_release_delete_and_the_stream(new_stack: NewStack) -> None:
    template, policy = operator_policy(
        new_stack(), new_table=NewTable(partition_key=ID), failure=FailureOptions(destination_type="SQS")
    )

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            *common_statements(template),
            *queue_statements(template),
        ],
    }


def test_a_queue_and_a_table_with_keys_add_decrypt_on_each(new_stack: NewStack) -> None:
    stack = new_stack()
    queue_key, table_key = kms.Key(stack, "QueueKey"), kms.Key(stack, "TableKey")
    queue = sqs.Queue(stack, "Parked", encryption=sqs.QueueEncryption.KMS, encryption_master_key=queue_key)

    _, policy = operator_policy(
        stack, new_table=NewTable(partition_key=ID, encryption_key=table_key), failure=FailureOptions(destination=queue)
    )

    assert policy["Statement"][-1] == {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": [get_att("QueueKey8E59F72C"), get_att("TableKeyF581D96F")],
    }
    assert len(policy["Statement"]) == 7


# --- the alerts: the same contract, on their own function and log group -------------------------------
def alerts(stack: cdk.Stack, **props: Any) -> ChangeAlerts:
    table = dynamodb.Table(
        stack, "Table", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES, **props.pop("table", {})
    )
    return ChangeAlerts(stack, "Alerts", table=table, rules=[RisesAbove("Stocks", 0)], **props)


def test_the_alerts_built_bucket_gets_the_same_statements_on_their_own_resources(new_stack: NewStack) -> None:
    stack = new_stack()
    template, policy = granted_policy(stack, alerts(stack))
    bucket = logical_id(template, "AWS::S3::Bucket")

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            *common_statements(template),
            *bucket_statements(bucket),
        ],
    }


def test_the_alerts_parking_in_the_loggers_bucket_get_their_function_and_that_bucket(new_stack: NewStack) -> None:
    # GIVEN the app's layout: the alerts park their batches in the logger's bucket
    stack = new_stack()
    logger = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))
    reader = ChangeAlerts(
        stack,
        "Alerts",
        table=logger.table,
        rules=[RisesAbove("Stocks", 0)],
        failure=FailureOptions(destination=logger.failure_destination),
    )

    # WHEN an operator is given the alerts' redrive
    _, policy = granted_policy(stack, reader)

    # THEN the function and log group are the alerts', the bucket the logger's
    function = stack.resolve(reader.function.function_arn)
    log_group = stack.resolve(reader.log_group.log_group_arn)
    bucket = stack.get_logical_id(logger.failure_destination.node.default_child)  # type: ignore[arg-type]
    assert function != stack.resolve(logger.function.function_arn)
    mapping = stack.get_logical_id(reader.event_source_mapping.node.default_child)  # type: ignore[arg-type]
    assert policy["Statement"][:4] == [
        STACK_STATEMENT,
        {
            "Action": ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
            "Effect": "Allow",
            "Resource": function,
        },
        mapping_statement(mapping),
        {"Action": "logs:FilterLogEvents", "Effect": "Allow", "Resource": log_group},
    ]
    assert policy["Statement"][4:] == bucket_statements(bucket)


def test_the_alerts_queue_and_keyed_table_get_receive_release_delete_the_stream_and_decrypt(
    new_stack: NewStack,
) -> None:
    stack = new_stack()
    table_key = kms.Key(stack, "TableKey")
    table = {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": table_key}
    template, policy = granted_policy(stack, alerts(stack, table=table, failure=FailureOptions(destination_type="SQS")))

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            *common_statements(template),
            *queue_statements(template),
            {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": get_att("TableKeyF581D96F")},
        ],
    }
