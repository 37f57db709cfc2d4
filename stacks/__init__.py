"""CDK constructs and stacks of the DynamoDB stream logger."""
