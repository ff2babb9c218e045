"""A local stand-in for Amazon's Alexa device APIs: Settings (time zone) and Reminders.

Amazon's real endpoints (``context.System.apiEndpoint``, e.g. https://api.amazonalexa.com) only
answer a live skill session's ``apiAccessToken``, so they cannot run in tests. This is a small
HTTP server on 127.0.0.1, in a thread, that answers the same paths with the same shapes as
Amazon's documentation, keeps what it was asked in ``calls`` and ``reminders``, and can be told to
fail (``fail(401)``) or to hang (``hang()``). Point a request's ``context.System.apiEndpoint`` at
``api.endpoint``.

It checks only what Amazon documents and a client can get wrong: a Bearer token, a JSON body, and
a reminder's local ``scheduledTime`` without a zone (Amazon answers 400 to a trailing ``Z``).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.support import send_json

REMINDERS = "/v1/alerts/reminders"
_TIME_ZONE = re.compile(r"^/v2/devices/([^/]+)/settings/System\.timeZone$")
_LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?$")


@dataclass
class Call:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class AlexaApi:
    """Settings time zones per device, and this skill's reminders, as Amazon would keep them."""

    time_zones: dict[str, str] = field(default_factory=dict)
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)  # alertToken -> body
    deleted: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    failure: tuple[int, str | None] | None = None
    hang_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._release = threading.Event()
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AlexaApi:
        api = self

        class Handler(_Handler):
            pass

        Handler.api = api
        self._release.clear()
        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._release.set()  # lets hanging requests finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AlexaApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, status: int, code: str | None = None) -> None:
        """Answer every request with this HTTP status (and Amazon-style error code) from now on."""
        self.failure = (status, code)

    def hang(self, seconds: float = 30.0) -> None:
        """Hold every request this long (or until stop()) before answering."""
        self.hang_seconds = seconds

    def heal(self) -> None:
        self.failure = None
        self.hang_seconds = 0.0

    def _new_token(self) -> str:
        with self._lock:
            return f"alert-{next(self._tokens)}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and left while we hung is expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    api: AlexaApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, status: int, body: Any = None) -> None:
        send_json(self, status, body)

    def _handle(self, method: str) -> None:
        api = self.api
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        auth = self.headers.get("Authorization")
        api.calls.append(Call(method, self.path, auth, body))

        if api.hang_seconds:
            api._release.wait(api.hang_seconds)
        if api.failure is not None:
            status, code = api.failure
            return self._send(status, {"code": code, "message": "told to fail"} if code else None)
        if not auth or not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            return self._send(401, {"code": "UNAUTHORIZED", "message": "no bearer token"})

        if method == "GET" and (match := _TIME_ZONE.match(self.path)):
            zone = api.time_zones.get(unquote(match.group(1)))
            if zone is None:
                return self._send(404, {"code": "DEVICE_NOT_FOUND", "message": "no such device"})
            return self._send(200, zone)
        if self.path == REMINDERS and method == "POST":
            return self._create(body)
        if self.path == REMINDERS and method == "GET":
            alerts = [{"alertToken": t, **b} for t, b in api.reminders.items()]
            return self._send(200, {"totalCount": str(len(alerts)), "alerts": alerts, "links": {}})
        if self.path.startswith(REMINDERS + "/") and method == "DELETE":
            token = unquote(self.path[len(REMINDERS) + 1:])
            if api.reminders.pop(token, None) is None:
                return self._send(404, {"code": "NOT_FOUND", "message": "no such reminder"})
            api.deleted.append(token)
            return self._send(200, {})
        return self._send(404, {"code": "NOT_FOUND", "message": f"{method} {self.path}"})

    def _create(self, body: Any) -> None:
        if self.headers.get_content_type() != "application/json" or not isinstance(body, dict):
            return self._send(400, {"code": "INVALID_REQUEST", "message": "JSON body expected"})
        trigger = body.get("trigger") or {}
        if not _LOCAL_TIME.match(str(trigger.get("scheduledTime", ""))):
            return self._send(
                400, {"code": "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT", "message": "local time"}
            )
        token = self.api._new_token()
        self.api.reminders[token] = body
        self._send(201, {
            "alertToken": token,
            "createdTime": "2019-09-22T19:04:00.672",
            "updatedTime": "2019-09-22T19:04:00.672",
            "status": "ON",
            "version": "1",
            "href": f"{REMINDERS}/{token}",
        })
