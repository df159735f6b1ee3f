"""The name of a streaming table's streams, which the delivery stream names its objects after, the
runtime sends to and provisioning creates: one convention for all three. Light on purpose (no
pyarrow, no boto3): the runtime and provisioning import it."""


def stream_name(stack: str, table: str) -> str:
    """The Kinesis stream and the Firehose delivery stream feeding a streaming table share it."""
    return f"{stack}-{table}"
