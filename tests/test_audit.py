"""The dependency audit (`make audit`, scripts/audit.py): real pip-audit over the real locks, fails
on a locked package with an advisory, and says NOT AUDITED, never "clean", when it cannot ask.

The advisory service is a stand-in on 127.0.0.1 speaking OSV's query API (POST /v1/query), since
neither OSV nor PyPI's per-release JSON can be reached from here. It knows one advisory, for the
version of urllib3 the locks pin, or none, or answers 503.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import send_json

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "scripts" / "audit.py"
ADVISORY = "GHSA-test-0000-0000"


def locked_version(name: str) -> str:
    text = (ROOT / "requirements" / "lambda.txt").read_text(encoding="utf-8")
    found = re.search(rf"^{name}==(\S+)", text, re.M)
    assert found, f"{name} is not in requirements/lambda.txt"
    return found.group(1)


class OsvStandIn(ThreadingHTTPServer):
    mode = "clean"  # "clean", "vulnerable" (urllib3 as locked) or "down" (503)
    queries: list[dict]


class Answer(BaseHTTPRequestHandler):
    server: OsvStandIn

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.queries.append(query)
        if self.server.mode == "down":
            self.send_response(503)
            self.end_headers()
            return
        body: dict = {}
        package, version = query["package"]["name"], query["version"]
        if self.server.mode == "vulnerable" and package == "urllib3":
            if version == locked_version("urllib3"):
                body = {"vulns": [{
                    "id": ADVISORY,
                    "aliases": ["CVE-0000-00000"],
                    "summary": "seeded by the test",
                    "affected": [{
                        "package": {"name": "urllib3", "ecosystem": "PyPI"},
                        "ranges": [{"type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
                    }],
                }]}  # fmt: skip
        send_json(self, 200, body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv() -> Iterator[OsvStandIn]:
    server = OsvStandIn(("127.0.0.1", 0), Answer)
    server.queries = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def audit(url: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AUDIT)],
        cwd=ROOT,
        env={**os.environ, "AUDIT_SERVICE": "osv", "AUDIT_OSV_URL": url,
             "AUDIT_CACHE_DIR": str(tmp_path / "cache"), "AUDIT_TIMEOUT": "5", **env},  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_advisory_for_a_locked_package_fails_the_audit(osv: OsvStandIn, tmp_path: Path) -> None:
    osv.mode = "vulnerable"
    run = audit(f"http://127.0.0.1:{osv.server_port}/v1/query", tmp_path)
    assert run.returncode == 1, run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("audit: ADVISORY: ")]
    assert line.startswith(f"audit: ADVISORY: urllib3=={locked_version('urllib3')}: "), line
    assert ADVISORY in line and "CVE-0000-00000" in line and "(fixed in 99.0)" in line
    assert "audit: FAILED: 1 known advisory in the locks" in run.stderr
    # Every lock was read: the Lambda's, the web service's and the dev venv's own packages.
    asked = {q["package"]["name"] for q in osv.queries}
    assert {"ask-sdk-core", "flask-ask-sdk", "pytest", "pip", "setuptools"} <= asked


def test_no_advisory_passes_and_says_how_many_were_checked(
    osv: OsvStandIn, tmp_path: Path
) -> None:
    run = audit(f"http://127.0.0.1:{osv.server_port}/v1/query", tmp_path)
    assert run.returncode == 0, run.stderr
    checked = re.search(r"audit: (\d+) packages checked, no known advisories", run.stderr)
    assert checked and int(checked.group(1)) >= 100, run.stderr
    assert "NOT AUDITED" not in run.stderr


@pytest.mark.parametrize("how", ["answers 503", "refuses connections"])
def test_a_service_it_cannot_ask_is_not_audited_never_clean(
    osv: OsvStandIn, tmp_path: Path, how: str
) -> None:
    osv.mode = "down"
    port = osv.server_port
    if how == "refuses connections":
        osv.shutdown()
        osv.server_close()
    url = f"http://127.0.0.1:{port}/v1/query"
    lenient = audit(url, tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert "audit: NOT AUDITED" in lenient.stderr
    assert "no known advisories" not in lenient.stderr
    strict = audit(url, tmp_path, AUDIT_STRICT="1")
    assert strict.returncode == 1, strict.stderr
