"""An HTTP proxy on 127.0.0.1 in front of the AWS emulator that makes Kinesis PutRecords fail the way
the real service does: some calls throttled as a whole (HTTP 400), and some entries refused inside a
successful (HTTP 200) response. Refused entries are not forwarded, so they are really not stored."""

import json
import random
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PUT_RECORDS = "Kinesis_20131202.PutRecords"
THROUGHPUT = "ProvisionedThroughputExceededException"


class FaultProxy:
    def __init__(
        self, upstream: str, *, throttled_calls: set[int], entry_failure_ratio: float, seed: int
    ) -> None:
        self.upstream = upstream
        self.throttled_calls = throttled_calls
        self.entry_failure_ratio = entry_failure_ratio
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
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(
            self.upstream + handler.path, data=body, headers=headers, method=handler.command
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("X-Amz-Target") == PUT_RECORDS:
                    status, data, content_type = proxy._put_records(self, body)
                else:
                    status, data, content_type = proxy._forward(self, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
