"""The IAM actions the constructs grant, as named constants (as aws-cdk's ``perms.ts`` does).

One place to read every permission the package asks for; the grants name them from here.
"""

from __future__ import annotations

ATHENA_GET_QUERY_EXECUTION = "athena:GetQueryExecution"
ATHENA_GET_QUERY_RESULTS = "athena:GetQueryResults"
ATHENA_START_QUERY_EXECUTION = "athena:StartQueryExecution"
ATHENA_STOP_QUERY_EXECUTION = "athena:StopQueryExecution"

CLOUDFORMATION_LIST_STACK_RESOURCES = "cloudformation:ListStackResources"

CLOUDWATCH_DESCRIBE_ALARMS = "cloudwatch:DescribeAlarms"
CLOUDWATCH_GET_METRIC_STATISTICS = "cloudwatch:GetMetricStatistics"

DYNAMODB_GET_RECORDS = "dynamodb:GetRecords"
DYNAMODB_GET_SHARD_ITERATOR = "dynamodb:GetShardIterator"

FIREHOSE_PUT_RECORD = "firehose:PutRecord"

GLUE_GET_DATABASE = "glue:GetDatabase"
GLUE_GET_PARTITIONS = "glue:GetPartitions"
GLUE_GET_TABLE = "glue:GetTable"

KMS_DECRYPT = "kms:Decrypt"
KMS_GENERATE_DATA_KEY = "kms:GenerateDataKey"

LAMBDA_GET_EVENT_SOURCE_MAPPING = "lambda:GetEventSourceMapping"
LAMBDA_GET_FUNCTION_CONFIGURATION = "lambda:GetFunctionConfiguration"
LAMBDA_INVOKE_FUNCTION = "lambda:InvokeFunction"

LOGS_DESCRIBE_INDEX_POLICIES = "logs:DescribeIndexPolicies"
LOGS_DESCRIBE_LOG_GROUPS = "logs:DescribeLogGroups"
LOGS_FILTER_LOG_EVENTS = "logs:FilterLogEvents"
LOGS_GET_QUERY_RESULTS = "logs:GetQueryResults"
LOGS_PUT_LOG_EVENTS = "logs:PutLogEvents"
LOGS_START_QUERY = "logs:StartQuery"
LOGS_STOP_QUERY = "logs:StopQuery"

S3_ABORT_MULTIPART_UPLOAD = "s3:AbortMultipartUpload"
S3_DELETE_OBJECT = "s3:DeleteObject"
S3_GET_BUCKET_LOCATION = "s3:GetBucketLocation"
S3_GET_OBJECT = "s3:GetObject"
S3_LIST_BUCKET = "s3:ListBucket"
S3_LIST_BUCKET_MULTIPART_UPLOADS = "s3:ListBucketMultipartUploads"
S3_LIST_MULTIPART_UPLOAD_PARTS = "s3:ListMultipartUploadParts"
S3_PUT_OBJECT = "s3:PutObject"

SNS_PUBLISH = "sns:Publish"

SQS_CHANGE_MESSAGE_VISIBILITY = "sqs:ChangeMessageVisibility"
SQS_DELETE_MESSAGE = "sqs:DeleteMessage"
SQS_GET_QUEUE_ATTRIBUTES = "sqs:GetQueueAttributes"
SQS_GET_QUEUE_URL = "sqs:GetQueueUrl"
SQS_RECEIVE_MESSAGE = "sqs:ReceiveMessage"
SQS_SEND_MESSAGE = "sqs:SendMessage"

# What CloudWatch Logs needs on a customer-managed key of a log group, as the CloudWatch Logs user guide
# lists it ("Encrypt log data in CloudWatch Logs using AWS Key Management Service", step 2).
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")

# Actions that IAM does not scope to a resource ("*" only), from the Service Authorization
# Reference's resource-types column: a grant can give them only on "*".
UNSCOPED_ACTIONS = (
    CLOUDWATCH_GET_METRIC_STATISTICS,
    LOGS_DESCRIBE_INDEX_POLICIES,
    LOGS_DESCRIBE_LOG_GROUPS,
    LOGS_STOP_QUERY,
)
