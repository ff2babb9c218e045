"""A bounded loopback load test of the production web server (gunicorn), verification ON.

The server is the real one (webservice.app.create_app + run_gunicorn, the real skill, SQLite in a
temporary directory) on a free 127.0.0.1 port. Verification stays on: Amazon cannot sign requests
here, so the bench builds the test PKI from tests/support/pki.py, signs ONE fixed LaunchRequest
whose timestamp is "now", and starts the server with a SignatureVerifier that trusts that root
and is handed that chain (constructor arguments, never environment variables: production cannot
be talked into trusting anything else). wrk replays the pre-signed body with its headers; the
whole run stays well inside the 150 s timestamp window, so every request passes the same checks
a real Alexa request would (timestamp, skill ID, URL rules, chain path validation, RSA signature).

`run(duration_s=10) -> dict` reports requests/s, p50/p99/max latency at concurrency 16, errors
(socket errors plus non-2xx answers; must be zero) and the server's RSS (master plus workers)
after warm-up and after the run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SKILL_ID = "amzn1.ask.skill.loadtest"
CONNECTIONS = 16
THREADS = 4
MAX_DURATION_S = 100  # the signed timestamp must stay within 150 s until the last request
WARMUP_REQUESTS = 50

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


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn master plus workers)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _envelope() -> bytes:
    from tools import envelopes

    caller = envelopes.Caller(session_id="amzn1.echo-api.session.load", user_id=
                              "amzn1.ask.account.LOADTEST", device_id="amzn1.ask.device.load",
                              skill_id=SKILL_ID)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps(envelopes.envelope(envelopes.launch_request(), caller, timestamp=now,
                                         request_id="amzn1.echo-api.request.load")).encode()


def _post(base: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(base + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def serve(port: int, root_pem: str, chain_pem: str, skill_factory: str) -> None:
    """The server side (run in a child process): the production app and gunicorn settings, with a
    verifier trusting the bench's test root."""
    import importlib
    import logging

    from cryptography import x509

    from webservice.app import create_app, run_gunicorn
    from webservice.verify import SignatureVerifier

    logging.basicConfig(level=logging.INFO)  # as `python -m tools serve`: a line per request
    module, _, name = skill_factory.partition(":")
    skill = getattr(importlib.import_module(module), name)()
    chain = Path(chain_pem).read_bytes()
    verifier = SignatureVerifier(
        trust_roots=x509.load_pem_x509_certificates(Path(root_pem).read_bytes()),
        fetch=lambda url: chain,
    )
    app = create_app(skill, skill_id=SKILL_ID, signature_verifier=verifier)
    run_gunicorn(app, host="127.0.0.1", port=port)


def run(duration_s: float = 10, *,
        skill_factory: str = "skill.alexa.app:build_skill") -> dict[str, Any]:
    """Start the server, warm it up, run wrk at concurrency 16 for `duration_s`, stop it."""
    if not 1 <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration_s must be within 1..{MAX_DURATION_S} (signature window)")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make setup` (Debian package wrk)")
    sys.path.insert(0, str(REPO_ROOT))
    from tests.support.pki import CERT_URL, make_pki

    pki = make_pki(label="bench")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="skill-bench-") as tmp:
        work = Path(tmp)
        (work / "root.pem").write_bytes(pki.root_pem)
        (work / "chain.pem").write_bytes(pki.chain_pem)
        env = {**os.environ, "SKILL_DB": str(work / "skill.db"), "SKILL_ID": SKILL_ID}
        env.pop("SKILL_DEV", None)
        env.pop("SKILL_TABLE", None)
        code = (
            "import sys; from bench.load import serve; "
            "serve(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])"
        )
        log_path = work / "server.log"  # a file, not a pipe: a full pipe would stall the server
        with open(log_path, "wb") as log_file:
            server = subprocess.Popen(
                [sys.executable, "-c", code, str(port), str(work / "root.pem"),
                 str(work / "chain.pem"), skill_factory],
                cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_healthy(server, base, log_path)
            body = _envelope()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "SignatureCertChainUrl": CERT_URL,
                "Signature-256": pki.sign(body),
            }
            status, answer = _post(base, body, headers)
            if status != 200 or '"outputSpeech"' not in answer.decode():
                raise RuntimeError(f"signed request not answered: {status} {answer[:200]!r}")
            status, _ = _post(base, body + b" ", headers)  # tampered: verification is really on
            if status != 400:
                raise RuntimeError(f"tampered request answered {status}, verification is off?")
            for _ in range(WARMUP_REQUESTS):
                _post(base, body, headers)
            rss_before = _rss_kb(server.pid)
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
            rss_after = _rss_kb(server.pid)
        finally:
            _stop(server)
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
    }


def _wait_healthy(
    server: subprocess.Popen, base: str, log_path: Path, timeout_s: float = 30
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


def _stop(server: subprocess.Popen) -> None:
    """Stop the server we started: its own process group (gunicorn master and workers)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 10), indent=2))
