"""Run the pipeline locally: an embedded DynamoDB stream, Lambda's event source mapping
emulated in-process, and the real handler from ``lambda/``. ``python -m local --help``."""
