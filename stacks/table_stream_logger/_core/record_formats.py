"""What AWS writes that both the constructs and the operator command name: plain data, no CDK.

The constructs grant on the failure bucket's prefixes (failure_destinations.py,
stream_consumer.py) and match the TTL identity (the alerts' rule, alerts/rules.py); the operator
command (operations/) reads and moves the records written there.
"""

# Where Lambda writes a failure record in an S3 failure destination, and where the redrive
# command moves it once it is replayed.
PARKED_PREFIX = "aws/lambda/"
REPLAYED_PREFIX = "replayed/"
# What DynamoDB's TTL process writes as the userIdentity of the REMOVE it makes, as Lambda's
# event names it (and the alerts' event filter matches it; the handlers' copy is in
# lambda/dynamo_json.py, which cannot import this package), and as the Streams API names it.
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
STREAMS_TTL_IDENTITY = {"Type": TTL_IDENTITY["type"], "PrincipalId": TTL_IDENTITY["principalId"]}
