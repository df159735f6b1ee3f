"""Every AWS client of the platform, configured alike: boto3's default credential chain, the
endpoint from `AWS_ENDPOINT_URL` (boto3 reads it), timeouts suited to the service, retries of
throttling and transient faults, and the command's deadline.

botocore's "standard" retry mode retries throttling (`ThrottlingException`,
`TooManyRequestsException`, `ProvisionedThroughputExceededException`, S3 `SlowDown`), 5xx responses
and dropped connections with jittered exponential backoff, up to `MAX_ATTEMPTS`, and then raises the
last error with the number of retries in its message. Glue's `OperationTimeoutException` and
`InternalServiceException` are transient too but not in botocore's list: they are added here.

An endpoint that does not answer at all (a connect or read timeout, a refused connection) is a
different fault: ten attempts of a long timeout would hang a command for many minutes. Such an
attempt is retried once (`NETWORK_ATTEMPTS`), then the call fails with one line naming the
endpoint. A command may also set a total deadline (`deadline`): no attempt starts after it.
"""

import contextlib
import random
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from dw_platform.errors import DwError

MAX_ATTEMPTS = 10
NETWORK_ATTEMPTS = 2
MAX_DELAY_S = 20.0
CONNECT_TIMEOUT_S = 3
# Seconds to wait for a reply once a request is sent. Control-plane calls (STS, IAM, Firehose,
# CloudWatch Logs) answer in well under a second; Athena's and Kinesis' calls carry result pages
# and record batches; Glue's batch and filtered partition calls, and S3's DeleteObjects of 1,000
# keys, take seconds.
READ_TIMEOUT_S = {"athena": 10, "kinesis": 10, "glue": 20, "s3": 20}
CONTROL_READ_TIMEOUT_S = 5
CONFIG = Config(
    retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=CONTROL_READ_TIMEOUT_S,
)
EXTRA_RETRYABLE = {"glue": frozenset({"OperationTimeoutException", "InternalServiceException"})}
NO_ANSWER = (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError)


class AwsEndpointError(DwError, BotoCoreError):
    """An AWS endpoint that does not answer, or a command past its deadline: one line for the user."""

    fmt = "{message}"


_deadline: tuple[float, float] | None = None  # (monotonic end, seconds), set per command


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Within the block, no AWS call of this process starts more than `seconds` from now (None:
    no deadline); the previous deadline holds again after it."""
    global _deadline
    previous = _deadline
    _deadline = None if seconds is None else (time.monotonic() + seconds, seconds)
    try:
        yield
    finally:
        _deadline = previous


def client_config(service: str, *, max_attempts: int = MAX_ATTEMPTS) -> Config:
    return CONFIG.merge(
        Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            read_timeout=READ_TIMEOUT_S.get(service, CONTROL_READ_TIMEOUT_S),
        )
    )


def aws_client(service: str, region: str, *, max_attempts: int = MAX_ATTEMPTS) -> Any:
    client = boto3.client(
        service, region_name=region, config=client_config(service, max_attempts=max_attempts)
    )
    guard(client)
    if service in EXTRA_RETRYABLE:
        service_id = client.meta.service_model.service_id.hyphenize()
        handler = partial(_retry_also, EXTRA_RETRYABLE[service], max_attempts)
        client.meta.events.register(f"needs-retry.{service_id}", handler)
    return client


def guard(client: Any) -> None:
    """Give a boto3 client (the platform's own, or one a library made, like pyathena's) the
    unanswered-endpoint rule and the deadline."""
    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"needs-retry.{service_id}", _give_up_on_silence)
    client.meta.events.register_first(f"before-send.{service_id}", _check_deadline)


def _give_up_on_silence(
    caught_exception: Exception | None = None,
    attempts: int = 1,
    operation: Any = None,
    endpoint: Any = None,
    **_: Any,
) -> bool | None:
    """Runs before botocore's retry handler: a call whose endpoint did not answer is not retried
    past `NETWORK_ATTEMPTS` or the deadline."""
    if isinstance(caught_exception, AwsEndpointError):
        return False  # the deadline passed: never retried
    if not isinstance(caught_exception, NO_ANSWER):
        return None
    if attempts < NETWORK_ATTEMPTS and not _past_deadline():
        return None  # botocore's handler retries it after its backoff
    host = getattr(endpoint, "host", "?")
    what = f"{operation.service_model.service_name} {operation.name}" if operation is not None else "a call"
    if isinstance(caught_exception, ReadTimeoutError):
        timeout = READ_TIMEOUT_S.get(operation.service_model.service_name, CONTROL_READ_TIMEOUT_S)
        reason = f"no reply within {timeout} s"
    elif isinstance(caught_exception, ConnectTimeoutError):
        reason = f"no connection within {CONNECT_TIMEOUT_S} s"
    else:
        reason = "connection refused or host not found"
    raise AwsEndpointError(
        message=f"AWS endpoint {host} does not answer ({what}: {reason}, {attempts} attempts); "
        "check AWS_ENDPOINT_URL / AWS_REGION and the network"
    ) from caught_exception


def _past_deadline() -> bool:
    return _deadline is not None and time.monotonic() > _deadline[0]


def _check_deadline(request: Any = None, **_: Any) -> None:
    if _deadline is not None and _past_deadline():
        host = request.url.split("/")[2] if request is not None else "?"
        raise AwsEndpointError(
            message=f"gave up after the command's deadline of {_deadline[1]:.0f} s "
            f"(DW_AWS_DEADLINE_S), calling {host}"
        )


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
