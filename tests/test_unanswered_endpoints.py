"""An AWS endpoint that accepts connections and never answers, or answers too slowly for the
command's deadline: real `dw` processes give up within a bound with one line naming the endpoint
(exit 2), instead of minutes of silence. The upper bounds on wall time are the property under
test (a hang), not a benchmark; they leave room for a loaded machine."""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from dw_platform.aws.clients import aws_client
from dw_platform.cli.main import main
from dw_platform.lake.store import Lake
from tests.black_hole import black_hole

# `dw provision plan`'s first call (STS) times out after 5 s, twice; plus the process' start.
PLAN_BOUND_S = 40
UNAVAILABLE = (
    b"<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>slow</Message></Error></ErrorResponse>"
)


def dw_timed(env: dict[str, str], *args: str, bound_s: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dw_platform.cli.main", *args],
            env=env,
            capture_output=True,
            timeout=bound_s,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"dw {' '.join(args)} still silent after {bound_s} s")
    return result, time.monotonic() - started


@pytest.fixture
def aws_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DW_PROFILE": "aws",
        "DW_HOME": str(tmp_path / "dw"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for name in ("AWS_PROFILE", "DW_AWS_DEADLINE_S", "DW_STACK"):
        env.pop(name, None)
    return env


@pytest.mark.e2e
def test_provision_plan_against_a_black_holed_endpoint_fails_fast_naming_it(aws_env: dict[str, str]) -> None:
    with black_hole() as endpoint:
        result, elapsed = dw_timed(
            {**aws_env, "AWS_ENDPOINT_URL": endpoint}, "provision", "plan", bound_s=PLAN_BOUND_S
        )
    assert result.returncode == 2
    assert result.stdout == b""
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith(f"dw provision: AWS endpoint {endpoint} does not answer"), line
    assert "no reply within 5 s, 2 attempts" in line
    assert elapsed < PLAN_BOUND_S


@contextlib.contextmanager
def slow_unavailable_endpoint(delay_s: float) -> Iterator[str]:
    """Answers every request after `delay_s` with a 503 (in the query protocol's XML, as STS
    speaks), which botocore retries."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay_s)
            body = UNAVAILABLE
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET = do_PUT = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.e2e
def test_the_commands_deadline_bounds_an_endpoint_that_answers_too_slowly(aws_env: dict[str, str]) -> None:
    with slow_unavailable_endpoint(0.5) as endpoint:
        env = {**aws_env, "AWS_ENDPOINT_URL": endpoint, "DW_AWS_DEADLINE_S": "3"}
        result, elapsed = dw_timed(env, "provision", "outputs", bound_s=40)
    assert result.returncode == 2
    (line,) = result.stderr.decode().splitlines()
    assert "gave up after the command's deadline of 3 s" in line and endpoint.removeprefix("http://") in line
    # The deadline is checked before every attempt: at most one backoff (<= 20 s) and one reply late.
    assert elapsed < 3 + 20 + 10


@pytest.mark.e2e
def test_a_malformed_deadline_is_one_clear_error(aws_env: dict[str, str]) -> None:
    result, _ = dw_timed({**aws_env, "DW_AWS_DEADLINE_S": "soon"}, "provision", "plan", bound_s=60)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "dw provision: DW_AWS_DEADLINE_S must be a number of seconds, got 'soon'"
    ]


def test_athena_through_pyathena_gives_up_on_a_black_holed_endpoint(
    aws_env: dict[str, str], aws_endpoint: str
) -> None:
    """The catalog and the lake answer (the emulator); only Athena is black-holed."""
    env = {**aws_env, "AWS_ENDPOINT_URL": aws_endpoint, "DW_IS_DEV": "true"}
    applied, _ = dw_timed(env, "provision", "apply", "--yes", bound_s=300)
    assert applied.returncode == 0, applied.stderr.decode()
    with black_hole() as athena:
        env |= {"AWS_ENDPOINT_URL_ATHENA": athena, "DW_QUERY_ENGINE": "athena"}
        sql = "SELECT count(*) AS n FROM clicks WHERE inserted_at = '2026/03/01/10'"
        result, elapsed = dw_timed(env, "query", sql, bound_s=60)
    assert result.returncode == 2
    estimate, line = result.stderr.decode().splitlines()
    assert estimate.startswith("reads clicks: 0 partitions")  # printed before any query runs
    assert line.startswith(f"dw query: AWS endpoint {athena} does not answer (athena StartQueryExecution")
    assert elapsed < 60


def test_a_lake_write_to_a_black_holed_s3_is_not_retried_on_top_of_the_sdk() -> None:
    """pyarrow's SDK already spent its attempts (here one, to keep the test short: 3 s each); the
    lake's own retry of whole-object writes must not multiply that by its six."""
    with black_hole() as endpoint:
        filesystem = pafs.S3FileSystem(
            region="us-west-2",
            access_key="testing",
            secret_key="testing",
            endpoint_override=endpoint.removeprefix("http://"),
            scheme="http",
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
        )
        lake = Lake(filesystem, "analytics-dw-data", "s3://analytics-dw-data")
        started = time.monotonic()
        with pytest.raises(OSError, match=r"writing s3://analytics-dw-data/clicks/x failed after 1 attempts"):
            lake.put_bytes("clicks/x", b"{}")
        elapsed = time.monotonic() - started
    assert elapsed < 10, f"{elapsed:.0f} s: retried on top of the SDK"


@pytest.mark.e2e
def test_a_refused_connection_is_not_retried_ten_times(aws_env: dict[str, str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result, elapsed = dw_timed({**aws_env, "AWS_ENDPOINT_URL": endpoint}, "provision", "plan", bound_s=30)
    assert result.returncode == 2
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith(f"dw provision: AWS endpoint {endpoint} does not answer")
    assert "connection refused or host not found, 2 attempts" in line
    assert elapsed < 30


def test_a_commands_deadline_ends_with_the_command(
    aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`main` run in-process (as the Dagster-free tests do) must not leave its deadline behind."""
    monkeypatch.setenv("DW_AWS_DEADLINE_S", "1")
    monkeypatch.setenv("DW_PROFILE", "aws")
    assert main(["provision", "outputs", "--json"]) == 0
    time.sleep(1.5)
    assert aws_client("sts", "us-west-2").get_caller_identity()["Account"]
