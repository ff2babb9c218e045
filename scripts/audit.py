"""`make audit`: every package in the locks (requirements/*.txt) against known advisories, with
pip-audit, straight from the hashed locks (no install, no resolution).

Where the advisories come from: pip-audit's PyPI service by default (PyPI's JSON API for each
release, which carries the advisories OSV knows for it); AUDIT_SERVICE=osv asks OSV's API instead,
at AUDIT_OSV_URL if set (a mirror, or the stand-in tests/test_audit.py runs on 127.0.0.1).

What it says, and its exit status:
- a locked package has an advisory: each one, with the versions that fix it; exit 1. CI fails.
- every package was looked up and none has one: exit 0.
- some packages could not be looked up (the service is unreachable, or has no record of that
  release): they are listed as NOT AUDITED, never counted as clean, and the exit is 0, or 1
  with AUDIT_STRICT=1. The service is a site outside the project that CI may not reach (where
  only package registries are reachable, PyPI's per-release JSON answers 404 and OSV does not
  resolve), so an unreachable service must not fail every run; it must not look like a pass
  either.

Usage: python scripts/audit.py   (from the dev venv, which has pip-audit)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("lambda", "web", "dev")


def run_pip_audit(out: Path) -> subprocess.CompletedProcess[str]:
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--progress-spinner", "off",
               "--format", "json", "--output", str(out), "--vulnerability-service", service,
               "--timeout", os.environ.get("AUDIT_TIMEOUT", "15")]  # fmt: skip
    if os.environ.get("AUDIT_OSV_URL"):
        command += ["--osv-url", os.environ["AUDIT_OSV_URL"]]
    if os.environ.get("AUDIT_CACHE_DIR"):
        command += ["--cache-dir", os.environ["AUDIT_CACHE_DIR"]]
    for lock in LOCKS:
        command += ["--requirement", str(ROOT / "requirements" / f"{lock}.txt")]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def locked_packages() -> set[str]:
    names = set()
    for lock in LOCKS:
        text = (ROOT / "requirements" / f"{lock}.txt").read_text(encoding="utf-8")
        for line in text.splitlines():
            if line[:1].isalnum() and "==" in line:
                names.add(line.split("==", 1)[0].strip().lower())
    return names


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT") == "1"
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "audit.json"
        proc = run_pip_audit(out)
        report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    if report is None:
        # pip-audit stopped before it could report: the service could not be reached at all.
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"audit: NOT AUDITED: {len(locked_packages())} locked packages; the advisory "
              f"service could not be reached: {last}", file=sys.stderr)  # fmt: skip
        return 1 if strict else 0

    found, skipped, audited = [], {}, set()
    for dependency in report["dependencies"]:
        name, version = dependency["name"], dependency.get("version", "?")
        if "skip_reason" in dependency:
            skipped[name] = dependency["skip_reason"]
            continue
        audited.add((name, version))
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            ids = " / ".join([vuln["id"], *vuln.get("aliases", [])])
            found.append(f"{name}=={version}: {ids} (fixed in {fixes})")

    for line in sorted(set(found)):
        print(f"audit: ADVISORY: {line}", file=sys.stderr)
    if skipped:
        reasons = sorted(set(skipped.values()))
        names = sorted(skipped)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        print(f"audit: NOT AUDITED: {len(skipped)} of {len(skipped) + len(audited)} packages "
              f"({shown}); for example: {reasons[0]}", file=sys.stderr)  # fmt: skip
    if found:
        count = len(set(found))
        what = "advisory" if count == 1 else "advisories"
        print(f"audit: FAILED: {count} known {what} in the locks; upgrade (pyproject.toml "
              "bounds, then `make lock UPGRADE=1`)", file=sys.stderr)  # fmt: skip
        return 1
    if audited:
        print(f"audit: {len(audited)} packages checked, no known advisories", file=sys.stderr)
    if proc.returncode != 0 and not skipped:
        print(f"audit: pip-audit failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    return 1 if skipped and strict else 0


if __name__ == "__main__":
    sys.exit(main())
