"""grant_redrive: exactly what the redrive command uses, on exactly this construct's resources."""

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

from stacks.table_stream_logger import TableStreamLogger

NewStack = Callable[[], cdk.Stack]
ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def logical_id(template: assertions.Template, resource_type: str) -> str:
    (name,) = template.find_resources(resource_type)
    return name


def operator_policy(stack: cdk.Stack, **props: Any) -> tuple[assertions.Template, dict[str, Any]]:
    """Grant a role of the stack the redrive of a logger built with ``props``; return its policy document."""
    logger = TableStreamLogger(stack, "Logger", **props)
    operator = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
    logger.grant_redrive(operator)
    template = assertions.Template.from_stack(stack)
    role = stack.resolve(stack.get_logical_id(operator.node.default_child))  # type: ignore[arg-type]
    (policy,) = (
        resource["Properties"]["PolicyDocument"]
        for resource in template.find_resources("AWS::IAM::Policy").values()
        if resource["Properties"]["Roles"] == [{"Ref": role}]
    )
    return template, policy


def common_statements(template: assertions.Template) -> list[dict[str, Any]]:
    function = next(iter(template.find_resources("AWS::Lambda::Function")))
    log_group = logical_id(template, "AWS::Logs::LogGroup")
    return [
        {"Action": "cloudformation:DescribeStacks", "Effect": "Allow", "Resource": {"Ref": "AWS::StackId"}},
        {
            "Action": ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
            "Effect": "Allow",
            "Resource": get_att(function),
        },
        {"Action": "logs:FilterLogEvents", "Effect": "Allow", "Resource": get_att(log_group)},
    ]


def objects(bucket: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [get_att(bucket), f"/{pattern}"]]}


def test_the_built_bucket_gets_list_read_move_and_nothing_else(new_stack: NewStack) -> None:
    template, policy = operator_policy(new_stack(), partition_key=ID)
    bucket = logical_id(template, "AWS::S3::Bucket")

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            *common_statements(template),
            {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": get_att(bucket)},
            {
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Resource": [objects(bucket, "aws/lambda/*"), objects(bucket, "replayed/aws/lambda/*")],
            },
            {"Action": "s3:PutObject", "Effect": "Allow", "Resource": objects(bucket, "replayed/aws/lambda/*")},
            {"Action": "s3:DeleteObject", "Effect": "Allow", "Resource": objects(bucket, "aws/lambda/*")},
        ],
    }


def test_a_given_bucket_with_a_kms_key_adds_its_key(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "BucketKey")
    bucket = s3.Bucket(stack, "Parked", encryption=s3.BucketEncryption.KMS, encryption_key=key)

    template, policy = operator_policy(stack, partition_key=ID, failure_destination=bucket)

    assert policy["Statement"][-1] == {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Effect": "Allow",
        "Resource": get_att(logical_id(template, "AWS::KMS::Key")),
    }
    assert len(policy["Statement"]) == 8


def test_the_built_queue_gets_receive_release_delete_and_the_stream(new_stack: NewStack) -> None:
    template, policy = operator_policy(new_stack(), partition_key=ID, failure_destination_type="SQS")

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            *common_statements(template),
            {
                "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"],
                "Effect": "Allow",
                "Resource": get_att(logical_id(template, "AWS::SQS::Queue")),
            },
            {
                "Action": ["dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                "Effect": "Allow",
                "Resource": get_att(logical_id(template, "AWS::DynamoDB::Table"), "StreamArn"),
            },
        ],
    }


def test_a_queue_and_a_table_with_keys_add_decrypt_on_each(new_stack: NewStack) -> None:
    stack = new_stack()
    queue_key, table_key = kms.Key(stack, "QueueKey"), kms.Key(stack, "TableKey")
    queue = sqs.Queue(stack, "Parked", encryption=sqs.QueueEncryption.KMS, encryption_master_key=queue_key)

    _, policy = operator_policy(stack, partition_key=ID, encryption_key=table_key, failure_destination=queue)

    assert policy["Statement"][-1] == {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": [get_att("QueueKey8E59F72C"), get_att("TableKeyF581D96F")],
    }
    assert len(policy["Statement"]) == 6
