"""An HTTP proxy on 127.0.0.1 in front of the AWS emulator that fails calls the way the real services
do. Kinesis PutRecords: some calls throttled as a whole (HTTP 400), some entries refused inside a
successful (HTTP 200) response; refused entries are not forwarded, so they are really not stored.
Any other call, at `fault_ratio`: the service's throttling or timeout error (Glue
`ThrottlingException` / `OperationTimeoutException`, Athena `TooManyRequestsException`, S3 `SlowDown`)
or a connection dropped before the request reaches the emulator; at `lost_reply_ratio`: a connection
dropped after the emulator did the work, so only the reply is lost and the retry repeats it (S3
reads are left alone, see `_fault`)."""

import json
import random
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PUT_RECORDS = "Kinesis_20131202.PutRecords"
THROUGHPUT = "ProvisionedThroughputExceededException"
JSON_ERRORS = {
    "glue": ("ThrottlingException", "OperationTimeoutException"),
    "athena": ("TooManyRequestsException",),
}
SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
DROP = "dropped connection"


class _ThreadHeaders(threading.local):
    value: object = None

    def set(self, headers: object) -> None:
        self.value = headers

    def take(self) -> list[tuple[str, str]]:
        headers, self.value = self.value, None
        skipped = ("content-type", "transfer-encoding", "connection", "server", "date")
        return [(k, v) for k, v in (headers.items() if headers else []) if k.lower() not in skipped]  # type: ignore[attr-defined]


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        *,
        seed: int,
        throttled_calls: set[int] | None = None,
        entry_failure_ratio: float = 0.0,
        fault_ratio: float = 0.0,
        lost_reply_ratio: float = 0.0,
        kinds: tuple[str, ...] | None = None,
    ) -> None:
        self.upstream = upstream
        self.throttled_calls = throttled_calls or set()
        self.entry_failure_ratio = entry_failure_ratio
        self.fault_ratio = fault_ratio
        self.lost_reply_ratio = lost_reply_ratio
        self.kinds = kinds  # restrict injected faults to these kinds
        self.injected: Counter[str] = Counter()
        # The upstream reply's headers (an S3 part's ETag, ...), per handler thread.
        self._headers = _ThreadHeaders()
        self.rng = random.Random(seed)
        self.put_calls = 0
        self.refused_entries = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes, str]:
        dropped = ("host", "content-length", "expect", "connection", "transfer-encoding")
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in dropped}
        request = urllib.request.Request(
            self.upstream + handler.path, data=body, headers=headers, method=handler.command
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self._headers.set(response.headers)
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            self._headers.set(error.headers)
            return error.code, error.read(), error.headers.get("Content-Type", "")

    def _put_records(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes, str]:
        with self.lock:
            self.put_calls += 1
            call = self.put_calls
            if call in self.throttled_calls:
                error = {"__type": THROUGHPUT, "message": "Rate exceeded for stream"}
                return 400, json.dumps(error).encode(), "application/x-amz-json-1.1"
            request = json.loads(body)
            refused = {
                i for i in range(len(request["Records"])) if self.rng.random() < self.entry_failure_ratio
            }
            self.refused_entries += len(refused)
        accepted = [r for i, r in enumerate(request["Records"]) if i not in refused]
        results = iter([])
        if accepted:
            status, data, content_type = self._forward(
                handler, json.dumps({**request, "Records": accepted}).encode()
            )
            if status != 200:
                return status, data, content_type
            results = iter(json.loads(data)["Records"])
        merged = [
            {"ErrorCode": THROUGHPUT, "ErrorMessage": "Rate exceeded for shard"}
            if i in refused
            else next(results)
            for i in range(len(request["Records"]))
        ]
        response = {"FailedRecordCount": len(refused), "Records": merged}
        return 200, json.dumps(response).encode(), "application/x-amz-json-1.1"

    def _fault(self, service: str, method: str) -> tuple[str, int, bytes, str] | None:
        """The fault to inject before forwarding a call, if any: (kind, status, body, content type).
        S3 reads get none: the AWS SDK under pyarrow does not retry a ranged GET that fails (it
        writes the error body into the read buffer: "Failed to flush response stream"), so a read
        fault fails its query or registration, which can simply run again."""
        with self.lock:
            roll = self.rng.random()
            if roll >= self.fault_ratio:
                return None
            if service == "s3" and method in ("GET", "HEAD"):
                return None
            choices = [DROP, *JSON_ERRORS.get(service, ()), *(["SlowDown"] if service == "s3" else [])]
            choices = [c for c in choices if self.kinds is None or c in self.kinds]
            if not choices:
                return None
            kind = self.rng.choice(choices)
            self.injected[kind] += 1
        if kind == DROP:
            return kind, 0, b"", ""
        if kind == "SlowDown":
            return kind, 503, SLOW_DOWN, "application/xml"
        return (
            kind,
            400,
            json.dumps({"__type": kind, "message": "injected"}).encode(),
            "application/x-amz-json-1.1",
        )

    def _loses_reply(self) -> bool:
        with self.lock:
            lost = self.rng.random() < self.lost_reply_ratio
            self.injected["lost reply"] += lost
        return lost

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1, so that `Expect: 100-continue` (the S3 SDK's uploads) is answered.
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def _body(self) -> bytes:
                if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b""  # the S3 SDK streams parts in chunked encoding
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline().strip():  # trailers, up to the empty line
                    pass
                return body

            def _handle(self) -> None:
                body = self._body()
                scope = re.search(
                    r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", self.headers.get("Authorization", "")
                )
                service = scope.group(1) if scope else ""
                if self.headers.get("X-Amz-Target") == PUT_RECORDS:
                    status, data, content_type = proxy._put_records(self, body)
                elif service in ("glue", "athena", "s3") and (fault := proxy._fault(service, self.command)):
                    kind, status, data, content_type = fault
                    if kind == DROP:
                        self.close_connection = True
                        return
                else:
                    status, data, content_type = proxy._forward(self, body)
                    writes = service != "s3" or self.command not in ("GET", "HEAD")
                    if service in ("glue", "athena", "s3") and writes and proxy._loses_reply():
                        self.close_connection = True
                        return
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                upstream = proxy._headers.take()
                length = [v for k, v in upstream if k.lower() == "content-length"]
                # A HEAD reply has no body but tells the object's size.
                self.send_header(
                    "Content-Length", length[0] if length and self.command == "HEAD" else str(len(data))
                )
                for name, value in upstream:
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
