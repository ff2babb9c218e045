"""A bounded loopback load test of the production web server, verification ON, and the slow-client
attack that used to take it down.

The server is the real one (webservice.app.create_app + webservice.server.serve: nginx in front of
gunicorn, the real skill, SQLite in a temporary directory) on a free 127.0.0.1 port. Verification
stays on: Amazon cannot sign requests here, so the bench builds the test PKI from
tests/support/pki.py, signs requests whose timestamp is "now", and starts the server with a
SignatureVerifier that trusts that root and is handed that chain (constructor arguments, never
environment variables: production cannot be talked into trusting anything else). Every request
passes the checks a real Alexa request would (timestamp, skill ID, URL rules, chain path
validation, RSA signature).

`run(duration_s=10) -> dict`: wrk replays one pre-signed LaunchRequest at concurrency 16 and
reports requests/s, p50/p99/max latency, errors (socket errors plus non-2xx answers; must be
zero) and the server's RSS (supervisor, nginx, gunicorn and workers) before and after; then the
slow-client attack (`slow_clients`) on the same server.

`python -m bench.load [SECONDS] [nginx|gunicorn]` runs it alone.

`slow_clients(server, clients=64)`: that many sockets announce a 60 KB body (or trickle their
headers) and send one byte a second, all on 127.0.0.1, for a bounded time; meanwhile /health and
signed POSTs are timed. Reports how many attackers the server is still holding at the end and the
worst /health and signed-request latencies. `python -m bench.load slow [nginx|gunicorn]` runs it
alone; `gunicorn` is bare gunicorn with the same settings, to see the attack work.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SKILL_ID = "amzn1.ask.skill.loadtest"
CONNECTIONS = 16
THREADS = 4
MAX_DURATION_S = 100  # the signed timestamp must stay within 150 s until the last request
WARMUP_REQUESTS = 50
SLOW_CLIENTS = 64
SLOW_BODY_BYTES = 60 * 1024
MAX_ATTACK_S = 30.0  # every attack stops by itself

_LUA = """
local f = assert(io.open(BODY_PATH, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
wrk.headers["SignatureCertChainUrl"] = CERT_URL
wrk.headers["Signature-256"] = SIGNATURE

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _lua_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_lua(body_path: Path, url: str, signature: str) -> str:
    return (
        _LUA.replace("BODY_PATH", _lua_quote(str(body_path)))
        .replace("CERT_URL", _lua_quote(url))
        .replace("SIGNATURE", _lua_quote(signature))
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for current in found:
        try:
            tasks = Path(f"/proc/{current}/task").iterdir()
            for task in tasks:
                found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (supervisor, nginx, gunicorn)."""
    total = 0
    for p in _descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _envelope(request_id: str = "load") -> bytes:
    from tools import envelopes

    caller = envelopes.Caller(session_id=f"amzn1.echo-api.session.{request_id}",
                              user_id="amzn1.ask.account.LOADTEST",
                              device_id="amzn1.ask.device.load", skill_id=SKILL_ID)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps(envelopes.envelope(envelopes.launch_request(), caller, timestamp=now,
                                         request_id=f"amzn1.echo-api.request.{request_id}")
                      ).encode()


def _post(base: str, body: bytes, headers: dict[str, str],
          timeout_s: float = 10) -> tuple[int, bytes]:
    req = urllib.request.Request(base + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def serve(port: int, root_pem: str, chain_pem: str, skill_factory: str, front: str) -> int:
    """The server side (run in a child process): the production app, with a verifier trusting the
    bench's test root, behind nginx (front="nginx", production) or bare gunicorn ("gunicorn")."""
    import importlib

    from cryptography import x509

    from webservice.app import configure_logging, create_app
    from webservice.server import run_gunicorn
    from webservice.server import serve as serve_production
    from webservice.verify import SignatureVerifier

    configure_logging()  # as `python -m webservice`: a line per request
    module, _, name = skill_factory.partition(":")
    skill = getattr(importlib.import_module(module), name)()
    chain = Path(chain_pem).read_bytes()
    verifier = SignatureVerifier(
        trust_roots=x509.load_pem_x509_certificates(Path(root_pem).read_bytes()),
        fetch=lambda url: chain,
    )
    app = create_app(skill, skill_id=SKILL_ID, signature_verifier=verifier)
    if front == "gunicorn":
        run_gunicorn(app, bind=f"127.0.0.1:{port}")
        return 0
    return serve_production(app, host="127.0.0.1", port=port)


@dataclass(frozen=True)
class Server:
    """A running bench server: where it is, how to sign for it, and its process."""

    base: str
    process: subprocess.Popen[bytes]
    log_path: Path
    pki: Any

    def signed(self, request_id: str = "load") -> tuple[bytes, dict[str, str]]:
        from tests.support.pki import CERT_URL

        body = _envelope(request_id)
        return body, {
            "Content-Type": "application/json; charset=utf-8",
            "SignatureCertChainUrl": CERT_URL,
            "Signature-256": self.pki.sign(body),
        }


@contextlib.contextmanager
def running_server(*, front: str = "nginx", skill_factory: str = "skill.alexa.app:build_skill",
                   env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start the server in its own process group, wait for /health, stop it on exit. `env` adds
    to the environment (WEB_CONCURRENCY, say)."""
    extra_env = env or {}
    sys.path.insert(0, str(REPO_ROOT))
    from tests.support.pki import make_pki

    pki = make_pki(label="bench")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="skill-bench-") as tmp:
        work = Path(tmp)
        (work / "root.pem").write_bytes(pki.root_pem)
        (work / "chain.pem").write_bytes(pki.chain_pem)
        env = {**os.environ, "SKILL_DB": str(work / "skill.db"), "SKILL_ID": SKILL_ID}
        for name in ("SKILL_DEV", "SKILL_TABLE", "SKILL_TLS_CERT", "SKILL_TLS_KEY"):
            env.pop(name, None)
        env.update(extra_env)
        code = (
            "import sys; from bench.load import serve; "
            "sys.exit(serve(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], "
            "sys.argv[5]))"
        )
        log_path = work / "server.log"  # a file, not a pipe: a full pipe would stall the server
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-c", code, str(port), str(work / "root.pem"),
                 str(work / "chain.pem"), skill_factory, front],
                cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log_path, pki)
        try:
            _wait_healthy(process, server.base, log_path)
            yield server
        finally:
            _stop(process)


def run(duration_s: float = 10, *, skill_factory: str = "skill.alexa.app:build_skill",
        front: str = "nginx") -> dict[str, Any]:
    """Start the server, warm it up, run wrk at concurrency 16 for `duration_s`, then the
    slow-client attack, and stop it. front="gunicorn" measures bare gunicorn, for comparison."""
    if not 1 <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration_s must be within 1..{MAX_DURATION_S} (signature window)")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make setup` (Debian package wrk)")
    from tests.support.pki import CERT_URL

    with running_server(front=front, skill_factory=skill_factory) as server, \
            tempfile.TemporaryDirectory(prefix="skill-wrk-") as tmp:
        work = Path(tmp)
        base = server.base
        body, headers = server.signed()
        status, answer = _post(base, body, headers)
        if status != 200 or '"outputSpeech"' not in answer.decode():
            raise RuntimeError(f"signed request not answered: {status} {answer[:200]!r}")
        status, _ = _post(base, body + b" ", headers)  # tampered: verification is really on
        if status != 400:
            raise RuntimeError(f"tampered request answered {status}, verification is off?")
        for _ in range(WARMUP_REQUESTS):
            _post(base, body, headers)
        rss_before = _rss_kb(server.process.pid)
        (work / "body.json").write_bytes(body)
        (work / "load.lua").write_text(
            _render_lua(work / "body.json", CERT_URL, headers["Signature-256"]),
            encoding="utf-8",
        )
        out = subprocess.run(
            [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration_s:g}s",
             "--timeout", "5s", "-s", str(work / "load.lua"), base + "/"],
            capture_output=True, text=True, timeout=duration_s + 30, check=True,
        )
        rss_after = _rss_kb(server.process.pid)
        attack = slow_clients(server)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    socket_errors = sum(summary[k] for k in ("connect", "read", "write", "timeout"))
    return {
        "concurrency": CONNECTIONS,
        "duration_s": round(summary["duration_us"] / 1e6, 2),
        "requests": summary["requests"],
        "requests_per_s": round(summary["requests"] / (summary["duration_us"] / 1e6), 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "max_ms": round(summary["max_us"] / 1000, 2),
        "errors": socket_errors + summary["status"],
        "non_2xx": summary["status"],
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "rss_growth_pct": round(100 * (rss_after - rss_before) / rss_before, 1),
        "verification": "on (test PKI)",
        "front": front,
        "slow_clients_held": attack["held"],
        "health_max_ms_under_attack": attack["health_max_ms"],
        "signed_max_ms_under_attack": attack["signed_max_ms"],
    }


# --- the slow-client attack -----------------------------------------------------------------

def _open_slow_client(base: str, trickle: str) -> tuple[socket.socket, bytes]:
    """A connection and the bytes it still has to send, one a second."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    head = (f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {SLOW_BODY_BYTES}\r\n\r\n").encode()
    if trickle == "headers":
        return sock, head  # not even the headers arrive whole
    sock.sendall(head)
    return sock, b"{" + b" " * (SLOW_BODY_BYTES - 2) + b"}"


def _timed(call: Any, timeout_s: float) -> float:
    """Seconds `call` took; `timeout_s` if it failed or timed out (a starved server)."""
    started = time.monotonic()
    try:
        ok = call(timeout_s)
    except OSError:
        ok = False
    elapsed = time.monotonic() - started
    return elapsed if ok else max(elapsed, timeout_s)


def slow_clients(server: Server, *, clients: int = SLOW_CLIENTS, trickle: str = "body",
                 settle_s: float = 2.0, probes: int = 6, probe_timeout_s: float = 3.0
                 ) -> dict[str, Any]:
    """`clients` sockets send a byte a second (trickle="body": after headers announcing a 60 KB
    body; "headers": the headers themselves) while /health and signed POSTs are timed. Bounded:
    the attack stops after MAX_ATTACK_S whatever happens, and closes every socket it opened."""
    if trickle not in ("body", "headers"):
        raise ValueError("trickle is 'body' or 'headers'")
    stop = threading.Event()
    attackers = [_open_slow_client(server.base, trickle) for _ in range(clients)]
    sent = [0] * clients
    closed = [False] * clients

    def trickle_bytes() -> None:
        deadline = time.monotonic() + MAX_ATTACK_S
        while not stop.is_set() and time.monotonic() < deadline:
            for i, (sock, rest) in enumerate(attackers):
                if closed[i] or sent[i] >= len(rest):
                    continue
                try:
                    sock.send(rest[sent[i]:sent[i] + 1])
                    sent[i] += 1
                except OSError:
                    closed[i] = True
            stop.wait(1.0)

    dripper = threading.Thread(target=trickle_bytes, daemon=True)
    dripper.start()
    health_s: list[float] = []
    signed_s: list[float] = []
    statuses: list[int] = []

    def health(timeout_s: float) -> bool:
        with urllib.request.urlopen(server.base + "/health", timeout=timeout_s) as answer:
            return answer.status == 200

    def signed(timeout_s: float) -> bool:
        body, headers = server.signed(f"attack-{len(signed_s)}")
        status, _ = _post(server.base, body, headers, timeout_s=timeout_s)
        statuses.append(status)
        return status == 200

    try:
        time.sleep(settle_s)  # every attacker connected and trickling
        for _ in range(probes):
            health_s.append(_timed(health, probe_timeout_s))
            signed_s.append(_timed(signed, probe_timeout_s))
        # Still held: the server has neither answered nor closed (nothing to read yet).
        readable, _, _ = select.select([sock for sock, _ in attackers], [], [], 0)
        held = sum(1 for i, (sock, _) in enumerate(attackers)
                   if sock not in readable and not closed[i])
    finally:
        stop.set()
        dripper.join(5)
        for sock, _ in attackers:
            sock.close()
    return {
        "clients": clients,
        "trickle": trickle,
        "held": held,
        "health_max_ms": round(max(health_s) * 1000, 1),
        "health_median_ms": round(sorted(health_s)[len(health_s) // 2] * 1000, 1),
        "signed_max_ms": round(max(signed_s) * 1000, 1),
        "signed_median_ms": round(sorted(signed_s)[len(signed_s) // 2] * 1000, 1),
        "signed_statuses": sorted(set(statuses)),
    }


def _wait_healthy(
    server: subprocess.Popen[bytes], base: str, log_path: Path, timeout_s: float = 30
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("server exited: " + log_path.read_text()[-2000:])
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer /health within {timeout_s} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server we started: its own process group (supervisor, nginx, gunicorn)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


if __name__ == "__main__":
    if sys.argv[1:2] == ["slow"]:
        front = sys.argv[2] if len(sys.argv) > 2 else "nginx"
        with running_server(front=front) as running:
            for kind in ("body", "headers"):
                print(json.dumps({"front": front, **slow_clients(running, trickle=kind)}))
    else:
        seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
        chosen = sys.argv[2] if len(sys.argv) > 2 else "nginx"
        print(json.dumps(run(seconds, front=chosen), indent=2))
