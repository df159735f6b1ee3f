"""Every AWS client of the platform, configured alike: boto3's default credential chain, the
endpoint from `AWS_ENDPOINT_URL` (boto3 reads it), and retries of throttling and transient faults.

botocore's "standard" retry mode retries throttling (`ThrottlingException`,
`TooManyRequestsException`, `ProvisionedThroughputExceededException`, S3 `SlowDown`), 5xx responses
and dropped connections with jittered exponential backoff, up to `MAX_ATTEMPTS`, and then raises the
last error with the number of retries in its message. Glue's `OperationTimeoutException` and
`InternalServiceException` are transient too but not in botocore's list: they are added here.
"""

import random
from functools import partial
from typing import Any

import boto3
from botocore.config import Config

MAX_ATTEMPTS = 10
MAX_DELAY_S = 20.0
CONFIG = Config(
    retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, connect_timeout=10, read_timeout=60
)
EXTRA_RETRYABLE = {"glue": frozenset({"OperationTimeoutException", "InternalServiceException"})}


def aws_client(service: str, region: str, *, max_attempts: int = MAX_ATTEMPTS) -> Any:
    config = CONFIG.merge(Config(retries={"mode": "standard", "max_attempts": max_attempts}))
    client = boto3.client(service, region_name=region, config=config)
    if service in EXTRA_RETRYABLE:
        service_id = client.meta.service_model.service_id.hyphenize()
        handler = partial(_retry_also, EXTRA_RETRYABLE[service], max_attempts)
        client.meta.events.register(f"needs-retry.{service_id}", handler)
    return client


def _retry_also(
    codes: frozenset[str], max_attempts: int, response: Any = None, attempts: int = 1, **_: Any
) -> float | None:
    """Runs after botocore's own handler, which answers None for codes it does not retry."""
    if response is None or attempts >= max_attempts:
        return None
    code = response[1].get("Error", {}).get("Code") if isinstance(response, tuple) else None
    if code not in codes:
        return None
    return random.uniform(0, min(MAX_DELAY_S, 0.1 * 2**attempts))  # full jitter
