"""The lake over S3, with the same key layout as the local lake (pyarrow's S3 filesystem)."""

import os
from urllib.parse import urlparse

import boto3
import pyarrow.fs as pafs
from botocore.credentials import RefreshableCredentials

from dw_platform.aws.clients import MAX_ATTEMPTS
from dw_platform.lake.store import Lake


def s3_filesystem(region: str, endpoint_url: str | None = None) -> pafs.S3FileSystem:
    """Static credentials from boto3's default chain are handed to pyarrow (never logged). Temporary
    ones that rotate (an ECS task role, an assumed role) are left to pyarrow's own AWS SDK chain,
    which refreshes them; a frozen copy would expire under a long run. Throttling (`SlowDown`) and
    dropped connections are retried by the SDK's standard strategy."""
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    credentials = boto3.Session(region_name=region).get_credentials()
    static = credentials is not None and not isinstance(credentials, RefreshableCredentials)
    frozen = credentials.get_frozen_credentials() if static and credentials else None
    options: dict[str, object] = {
        "region": region,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=MAX_ATTEMPTS),
    }
    if frozen is not None:
        options |= {"access_key": frozen.access_key, "secret_key": frozen.secret_key}
        if frozen.token:
            options["session_token"] = frozen.token
    if endpoint_url:
        parsed = urlparse(endpoint_url)
        options |= {"endpoint_override": parsed.netloc, "scheme": parsed.scheme or "https"}
    return pafs.S3FileSystem(**options)


def s3_lake(bucket: str, region: str, endpoint_url: str | None = None, *, root: str = "") -> Lake:
    """The lake under `root` (a deployment's `lake_root`) in `bucket`; keys are relative to it."""
    base = f"{bucket}/{root}".rstrip("/")
    return Lake(s3_filesystem(region, endpoint_url), base, f"s3://{base}")
