"""DynamoDB for tests: dynalite (a DynamoDB-API server) behind a loopback proxy counting requests.

    with running_dynalite() as db:
        create_skill_table(db.endpoint, "skill-table")
        db.reset_counts()
        ...  # run the skill with env db.env() (AWS_ENDPOINT_URL_DYNAMODB etc.)
        assert db.counts() == {"GetItem": 1, "PutItem": 1}
        db.stop()   # connections refused, open keep-alive connections cut: the database is down
        db.start()  # back on the same endpoint

`endpoint` is the proxy; it is closed while the database is down, so clients see exactly what
a dead server looks like. In-memory by default: stop() loses every table and item; pass
persist=True to keep them on disk (LevelDB in the temp dir) across stop()/start().
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.support import NODE_MODULES, require_node_package

HOST = "127.0.0.1"
REGION = "us-east-1"
DUMMY_KEY = "testing"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                message = f"nothing answered on {HOST}:{port} within {timeout} s"
                raise TimeoutError(message) from None
            time.sleep(0.02)


class _CountingProxy(ThreadingHTTPServer):
    """Forwards every request to dynalite, counting them by X-Amz-Target operation."""

    daemon_threads = True

    def __init__(self, port: int, backend_port: int, counts: collections.Counter[str],
                 lock: threading.Lock) -> None:
        self.backend_port = backend_port
        self.counts = counts
        self.counts_lock = lock
        self.connections: set[socket.socket] = set()
        #: operations whose next replies are lost: dynalite does the work, the client never hears
        self.replies_to_lose: collections.Counter[str] = collections.Counter()
        super().__init__((HOST, port), _ProxyHandler)

    def lose_reply(self, operation: str) -> bool:
        with self.counts_lock:
            if self.replies_to_lose[operation] <= 0:
                return False
            self.replies_to_lose[operation] -= 1
            return True

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add about 40 ms to every request through the proxy.
    disable_nagle_algorithm = True
    server: _CountingProxy
    backend: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else f"{self.command} {self.path}"
        with self.server.counts_lock:
            self.server.counts[operation] += 1
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            if self.backend is None:
                port = self.server.backend_port
                self.backend = http.client.HTTPConnection(HOST, port, timeout=30)
            self.backend.request(self.command, self.path, body=body, headers=headers)
            reply = self.backend.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException):
            # The database went away mid-request: drop the client's connection as it would.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.server.lose_reply(operation):
            # Done on the server, and the connection drops before the reply: the client cannot
            # know whether it happened (a timeout after the write, as under load).
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status, reply.reason)
        for key, value in reply.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = _forward
    do_GET = _forward


class Dynalite:
    """One dynalite server and its counting proxy. Use `running_dynalite()` to get one."""

    def __init__(self, *, persist: bool = False, startup_timeout: float = 10.0) -> None:
        self.node = require_node_package("dynalite")
        self.persist = persist
        self.startup_timeout = startup_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="dynalite-"))
        self.port = free_port()
        self.backend_port = free_port()
        self._counts: collections.Counter[str] = collections.Counter()
        self._counts_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._proxy: _CountingProxy | None = None
        self._log = None

    @property
    def endpoint(self) -> str:
        """The URL to give boto3 (through the counting proxy)."""
        return f"http://{HOST}:{self.port}"

    @property
    def backend_endpoint(self) -> str:
        """dynalite itself, bypassing the counts."""
        return f"http://{HOST}:{self.backend_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (or restart) dynalite and the proxy on the same ports as before."""
        if self.running:
            return
        args = [
            self.node, str(NODE_MODULES / "dynalite" / "cli.js"),
            "--host", HOST, "--port", str(self.backend_port),
            "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0",
        ]  # fmt: skip
        if self.persist:
            args += ["--path", str(self.workdir / "db")]
        self._log = open(self.workdir / "dynalite.log", "ab")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            args, cwd=self.workdir, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(self.backend_port, self.startup_timeout, self._process)
        except (RuntimeError, TimeoutError) as err:
            log = (self.workdir / "dynalite.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"dynalite did not start ({err}):\n{log}") from err
        self._proxy = _CountingProxy(self.port, self.backend_port, self._counts, self._counts_lock)
        threading.Thread(
            target=self._proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        """Take the database down: the proxy stops listening, open connections are cut."""
        if self._proxy is not None:
            self._proxy.shutdown()
            self._proxy.server_close()
            self._proxy.cut_connections()
            self._proxy = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def counts(self) -> dict[str, int]:
        """Requests received since the last reset, by operation: {"GetItem": 1, "PutItem": 1}."""
        with self._counts_lock:
            return dict(self._counts)

    def lose_replies(self, operation: str, count: int = 1) -> None:
        """The next ``count`` ``operation`` requests are carried out, and their replies lost."""
        assert self._proxy is not None, "dynalite is not running"
        with self._counts_lock:
            self._proxy.replies_to_lose[operation] += count

    def reset_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()

    def env(self) -> dict[str, str]:
        """Environment for code under test (boto3 honours AWS_ENDPOINT_URL_DYNAMODB)."""
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.endpoint,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, **config: Any) -> Any:
        return dynamodb_client(self.endpoint, **config)


@contextlib.contextmanager
def running_dynalite(*, persist: bool = False) -> Iterator[Dynalite]:
    """A started dynalite with its counting proxy, torn down (and its temp dir removed) on exit."""
    db = Dynalite(persist=persist)
    try:
        db.start()
        yield db
    finally:
        db.close()


def dynamodb_client(endpoint: str, **config: Any) -> Any:
    """A boto3 DynamoDB client for a local endpoint: dummy credentials, us-east-1, and short
    timeouts with one retry so a stopped database fails a test in about a second, not a minute."""
    settings: dict[str, Any] = {
        "connect_timeout": 1,
        "read_timeout": 5,
        "retries": {"max_attempts": 2, "mode": "standard"},
    }
    settings.update(config)
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
        config=Config(**settings),
    )


def create_skill_table(endpoint: str, table_name: str, partition_key: str = "id") -> None:
    """The skill's table as the template makes it: string partition key, on-demand billing."""
    client = dynamodb_client(endpoint)
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # The default waiter polls every 20 s; with --createTableMs 0 the first poll sees ACTIVE.
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
