"""The smallest CDK app with one DynamoDB table: the yardstick for the app's synth time.

Run by the benchmark as ``cdk synth --app "python3 bench/minimal_app.py"``, with the
context of the project's cdk.json.
"""

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb

app = cdk.App()
stack = cdk.Stack(app, "MinimalStack")
dynamodb.Table(
    stack,
    "Table",
    partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
)
app.synth()
