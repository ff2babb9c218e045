"""Python wrappers around the real offline stand-ins for Alexa's services.

ssml (ssml-check-core + our platform rules), espeak (espeak-ng timing), dynalite (DynamoDB),
virtual_alexa (the Alexa service). This module holds what they share: where the repository is
and a long-lived node child that speaks JSON lines.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import queue
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
SETUP_HINT = "run `make setup` (or `npm ci` for the node packages) from the repository root"


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any = None) -> None:
    """A test server's reply: ``body`` as JSON (nothing for None), with its length."""
    data = b"" if body is None else json.dumps(body).encode("utf-8")
    handler.send_response(status)
    if data:
        handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class ToolMissing(RuntimeError):
    """A test tool is not installed; the message says how to install it."""


def require_node_package(package: str) -> str:
    """Path of the node executable, after checking that node and `package` are installed."""
    node = shutil.which("node")
    if node is None:
        raise ToolMissing(f"node is not on PATH: install Node.js 18+, then {SETUP_HINT}")
    if not (NODE_MODULES / package / "package.json").is_file():
        raise ToolMissing(f"node package {package!r} is not in {NODE_MODULES}: {SETUP_HINT}")
    return node


class NodeWorkerError(RuntimeError):
    """The node child failed or answered with an error (`reply` is that error reply, if any)."""

    def __init__(self, message: str, reply: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reply = reply or {}


class JsonLineProcess:
    """A node script kept alive across calls: one JSON request per line in, one reply per line out.

    Each request gets an "id"; the script echoes it back. Replies with an "error" key raise
    NodeWorkerError. stderr is kept (last 200 lines) so a crash explains itself.
    """

    def __init__(self, script: Path, args: list[str] | None = None, *, package: str) -> None:
        node = require_node_package(package)
        self._proc = subprocess.Popen(
            [node, str(script), *(args or [])],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    def _pump_stdout(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def _pump_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line.rstrip("\n"))

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def request(self, message: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        with self._lock:
            if not self.alive:
                raise NodeWorkerError(f"node worker has exited:\n{self.stderr_tail()}")
            request_id = next(self._ids)
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(json.dumps({**message, "id": request_id}) + "\n")
                self._proc.stdin.flush()
            except BrokenPipeError as err:
                raise NodeWorkerError(f"node worker has exited:\n{self.stderr_tail()}") from err
            while True:
                try:
                    line = self._replies.get(timeout=timeout)
                except queue.Empty:
                    raise NodeWorkerError(
                        f"no reply from node within {timeout} s:\n{self.stderr_tail()}"
                    ) from None
                if line is None:
                    self._proc.wait(timeout=5)
                    raise NodeWorkerError(f"node worker has exited:\n{self.stderr_tail()}")
                reply = json.loads(line)
                if reply.get("id") in (request_id, None):
                    break
        if "error" in reply:
            raise NodeWorkerError(reply["error"], reply)
        return reply

    def close(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self._proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=3)
