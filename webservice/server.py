"""The production web server: nginx in front, reading each request in full, then gunicorn.

Why a buffering proxy: gunicorn gives each connection a thread from the moment it is accepted, so
a handful of clients that announce a body and then send a byte a second hold every thread, and
/health and Alexa wait behind them (eight did it with 2 workers x 4 threads). nginx reads headers
and bodies with an event loop, costing a few KB per connection however slowly it arrives, and
passes gunicorn only complete requests, over a Unix socket in a private directory, so gunicorn's
threads are only ever busy with real work. gunicorn's own documentation asks for exactly this.

What nginx enforces (NGINX_CONF): the whole header within CLIENT_TIMEOUT_S; no more than
CLIENT_TIMEOUT_S between two reads of a body; bodies up to MAX_BODY_BYTES, held in memory (never a
temporary file); thousands of connections per worker; the app's answer within APP_TIMEOUT_S. No
access log: the app logs one line per request without anything personal, and IP addresses are
personal data.

TLS: Alexa calls only HTTPS on port 443. Either put this behind a TLS-terminating load balancer,
or set SKILL_TLS_CERT and SKILL_TLS_KEY (PEM paths) and nginx serves HTTPS itself.

`serve(app, host=, port=)` is what `python -m webservice` and `make serve` run; the tests and the
load bench run it too, with an app that trusts their own certificate authority. This process
supervises its two children and stops both when either stops or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from webservice.verify import MAX_BODY_BYTES

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("webservice.server")

CLIENT_TIMEOUT_S = 10
APP_TIMEOUT_S = 10  # Alexa gives up after about 8 s
WORKER_CONNECTIONS = 4096
START_TIMEOUT_S = 30.0
TLS_CERT_ENV, TLS_KEY_ENV = "SKILL_TLS_CERT", "SKILL_TLS_KEY"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")

NGINX_CONF = """\
# Written by webservice.server for one run; see that module for why each limit is what it is.
daemon off;
worker_processes auto;
pid {run}/nginx.pid;
error_log stderr warn;
worker_rlimit_nofile {nofile};
{user}
events {{
    worker_connections {worker_connections};
}}

http {{
    # Per-request messages name the client's address, which is personal data; problems that
    # matter (the app down) are seen by the supervisor and the app's own log.
    error_log stderr crit;
    access_log off;
    server_tokens off;
    default_type application/json;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;

    # Read every request in full here, however slowly it comes; the app sees only whole ones.
    client_header_timeout {client_timeout}s;
    client_body_timeout {client_timeout}s;
    client_max_body_size {max_body};
    client_body_buffer_size {max_body};
    client_header_buffer_size 4k;
    large_client_header_buffers 4 16k;
    send_timeout {client_timeout}s;
    keepalive_timeout 30s;
    reset_timedout_connection on;

    upstream app {{
        server unix:{socket};
        keepalive 16;
    }}

    server {{
        listen {listen};
{tls}
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_connect_timeout 2s;
            proxy_send_timeout {app_timeout}s;
            proxy_read_timeout {app_timeout}s;
        }}

        error_page 413 @too_large;
        location @too_large {{
            return 413 '{{"error": "Request Entity Too Large"}}\\n';
        }}
        error_page 502 504 @app_down;
        location @app_down {{
            return 503 '{{"error": "Service Unavailable"}}\\n';
        }}
    }}
}}
"""


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError(
            "nginx is not installed: `make setup` installs it (scripts/apt-packages.sh), or "
            "`apt-get install nginx`. It reads requests in full before the app sees them, so "
            "slow clients cannot hold the app's threads."
        )
    return found


def _listen(host: str, port: int, tls: bool) -> str:
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return address + (" ssl" if tls else "")


def nginx_conf(
    run_dir: Path, app_socket: Path, *, host: str, port: int, env: Mapping[str, str] = os.environ
) -> str:
    cert, key = env.get(TLS_CERT_ENV, "").strip(), env.get(TLS_KEY_ENV, "").strip()
    if bool(cert) != bool(key):
        raise ValueError(f"set both {TLS_CERT_ENV} and {TLS_KEY_ENV}, or neither")
    tls = ""
    if cert:
        tls = (f"        ssl_certificate {Path(cert).resolve()};\n"
               f"        ssl_certificate_key {Path(key).resolve()};\n"
               "        ssl_protocols TLSv1.2 TLSv1.3;\n")
    # As root, nginx runs its workers as an unprivileged user, which must reach the socket.
    user = f"user {_worker_user()};" if os.geteuid() == 0 else ""
    return NGINX_CONF.format(
        run=run_dir, socket=app_socket, listen=_listen(host, port, bool(cert)), tls=tls,
        user=user, nofile=2 * WORKER_CONNECTIONS + 64, worker_connections=WORKER_CONNECTIONS,
        client_timeout=CLIENT_TIMEOUT_S, app_timeout=APP_TIMEOUT_S, max_body=MAX_BODY_BYTES,
    )


def _worker_user() -> str:
    for name in ("www-data", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("no unprivileged user (www-data, nobody) for nginx's workers")


@contextlib.contextmanager
def _run_dir() -> Iterator[Path]:
    """A private directory for the socket, nginx's pid and temporary paths, removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="bedside-web-"))
    try:
        if os.geteuid() == 0:  # nginx's workers are not root: give them the directory
            entry = pwd.getpwnam(_worker_user())
            os.chown(path, entry.pw_uid, entry.pw_gid)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_gunicorn(app: Flask, *, bind: str, workers: int | None = None) -> None:
    """Serve `app` with gunicorn in this process until SIGTERM/SIGINT.

    gthread workers keep nginx's upstream keep-alive connections open; the app is built once,
    before forking, so a misconfiguration fails at start rather than on the first request.
    Behind nginx, requests arrive whole, so 4 threads per worker are for real concurrency only.
    """
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": bind,
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY", "2")),
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 5,
        "keepalive": 30,
        "preload_app": True,
        "accesslog": None,  # our own request log line says what is safe to say
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "bedside-back-coach",
        # gunicorn >= 24 opens a control socket at ~/.gunicorn/gunicorn.ctl by default: two
        # servers on one machine (tests, bench) would fight over it, and we do not use it.
        "control_socket_disable": True,
    }

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _Server().run()


def _wait_for_socket(path: Path, child: int, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if os.waitpid(child, os.WNOHANG) != (0, 0):
            raise RuntimeError("gunicorn exited during start (see its log above)")
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            probe.connect(str(path))
            return
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not listen within {timeout_s:g} s")


def _stop_child(pid: int, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def serve(app: Flask, *, host: str = "127.0.0.1", port: int = 5000,
          workers: int | None = None) -> int:
    """nginx on host:port in front of gunicorn serving `app`, until SIGTERM/SIGINT or until
    either one stops. Returns the exit status: 0 for a requested stop, 1 if a child died."""
    nginx = find_nginx()
    stop = threading.Event()
    with _run_dir() as run_dir:
        app_socket = run_dir / "app.sock"
        conf = run_dir / "nginx.conf"
        conf.write_text(nginx_conf(run_dir, app_socket, host=host, port=port), encoding="utf-8")
        check = subprocess.run([nginx, "-t", "-q", "-e", "stderr", "-p", str(run_dir), "-c",
                                str(conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("nginx refused its configuration:\n" + check.stderr)
        gunicorn_pid = os.fork()
        if gunicorn_pid == 0:  # the child becomes gunicorn's master; it never returns
            status = 1
            try:
                run_gunicorn(app, bind=f"unix:{app_socket}", workers=workers)
                status = 0
            finally:
                os._exit(status)
        previous = {s: signal.signal(s, lambda *_: stop.set())
                    for s in (signal.SIGTERM, signal.SIGINT)}
        proxy: subprocess.Popen[bytes] | None = None
        try:
            _wait_for_socket(app_socket, gunicorn_pid)
            proxy = subprocess.Popen(
                [nginx, "-e", "stderr", "-p", str(run_dir), "-c", str(conf)],
                start_new_session=False,
            )
            log.info("serving on %s://%s:%d (nginx in front of gunicorn)",
                     "https" if os.environ.get(TLS_CERT_ENV, "").strip() else "http", host, port)
            failed = False
            while not stop.wait(0.2):
                if proxy.poll() is not None:
                    log.error("nginx stopped (status %s): stopping", proxy.returncode)
                    failed = True
                    break
                if os.waitpid(gunicorn_pid, os.WNOHANG) != (0, 0):
                    log.error("gunicorn stopped: stopping")
                    failed = True
                    break
            return 1 if failed else 0
        finally:
            if proxy is not None and proxy.poll() is None:
                proxy.send_signal(signal.SIGQUIT)  # graceful: finish answers in flight
                try:
                    proxy.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proxy.kill()
                    proxy.wait()
            _stop_child(gunicorn_pid)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
