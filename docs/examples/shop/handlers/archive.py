# handlers/archive.py: given the removals of the FRUIT partition (see the Archiver below)
def handler(event, context):
    for record in event["Records"]:
        print(record["dynamodb"]["Keys"])  # copy the removed item elsewhere, say
    return {"batchItemFailures": []}
