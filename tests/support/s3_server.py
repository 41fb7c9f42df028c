"""A real S3-compatible HTTP server on 127.0.0.1 for tests: moto in server mode, in a thread.

The code under test talks to it over HTTP exactly as it talks to AWS (boto3 through dagster-aws,
``AWS_ENDPOINT_URL`` pointing here); nothing is patched in-process. Also here: ``FaultyS3Front``,
an HTTP front that answers the first requests with an S3 error (``503 SlowDown`` by default) and
forwards the others to the server, counting every request: to test retries and error messages
against real HTTP responses, and how many requests a sensor tick makes.

Use the fixtures by importing them into a test module.
"""

from __future__ import annotations

import http.client
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
# Anything that could send requests elsewhere or read real credentials.
_CLEARED = (
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture(scope="session")
def s3_server_url() -> Iterator[str]:
    """``http://127.0.0.1:<free port>`` of a moto server started for the test session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class S3Bucket:
    """A fresh bucket on the test server, and a client to arrange its content."""

    name: str
    endpoint_url: str
    client: Any

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.name}/{prefix}".rstrip("/")

    def put(self, key: str, body: bytes) -> str:
        """Writes one object; returns its ETag (without quotes)."""
        response = self.client.put_object(Bucket=self.name, Key=key, Body=body)
        return str(response["ETag"]).strip('"')

    def put_many(self, objects: Iterable[tuple[str, bytes]]) -> int:
        """Writes many objects at once, straight into the server's storage (the server runs in
        this process): arranging thousands of keys over HTTP would take minutes. What the code
        under test sees is the same; it still reads everything over HTTP."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        count = 0
        for key, body in objects:
            backend.put_object(self.name, key, body)
            count += 1
        return count

    def upload_tree(self, root: Path, prefix: str = "") -> int:
        """Copies every file under ``root`` to ``prefix``; returns how many."""
        count = 0
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.put(f"{prefix}{path.relative_to(root).as_posix()}", path.read_bytes())
                count += 1
        return count

    def last_modified(self, key: str) -> datetime:
        head = self.client.head_object(Bucket=self.name, Key=key)
        modified: datetime = head["LastModified"]
        return modified.astimezone(UTC)


def s3_client(endpoint_url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def s3_environment(s3_server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Points the AWS SDK at the test server (``AWS_ENDPOINT_URL``) with fake credentials."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server_url)
    return s3_server_url


@pytest.fixture
def s3_bucket(s3_environment: str) -> S3Bucket:
    """A new, empty bucket for one test."""
    client = s3_client(s3_environment)
    name = f"sparkify-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return S3Bucket(name=name, endpoint_url=s3_environment, client=client)


class FaultyS3Front:
    """An HTTP front on 127.0.0.1 that answers the first ``failures`` requests with the S3 error
    ``code`` (HTTP ``status``; by default ``503 SlowDown``, S3's throttling answer) and forwards
    every other request to ``upstream``. ``requests`` lists every request as (method, path)."""

    def __init__(
        self, upstream: str, failures: int = 0, status: int = 503, code: str = "SlowDown"
    ) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.failures_left = failures
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                with front._lock:
                    front.requests.append((self.command, self.path))
                    throttle = front.failures_left > 0
                    front.failures_left -= 1 if throttle else 0
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if throttle:
                    payload = (
                        "<?xml version='1.0' encoding='UTF-8'?>"
                        f"<Error><Code>{code}</Code><Message>{code} (test front)</Message></Error>"
                    ).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                connection = http.client.HTTPConnection(front.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = front.upstream
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def listings(self) -> int:
        """How many ListObjectsV2 requests went through."""
        return sum(1 for method, path in self.requests if method == "GET" and "list-type=2" in path)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultyS3Front:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
