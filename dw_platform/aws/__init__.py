"""Adapters for the AWS profile: the same platform functions over S3 (and, as they land, Glue,
Athena and Kinesis). Every client honours AWS_ENDPOINT_URL, so tests run them against an emulator."""
