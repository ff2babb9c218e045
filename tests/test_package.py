"""The Lambda artifact: small, holding only what the function needs, and working on its own.

One build per test session (scripts/package.sh: `sam build` with the Makefile target, then a zip).
The built handler is then run from the unpacked zip in a clean python3.13 that holds only what the
Lambda runtime provides (boto3), away from the repository, against dynalite as its table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.dynalite import create_skill_table, running_dynalite

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "build" / "lambda"
ARTIFACT = BUILD_DIR / "skill-function.zip"
# python3.13 with boto3 and nothing else, as the Lambda runtime has; kept between runs.
RUNTIME_VENV = BUILD_DIR / "runtime-venv"
MAX_ZIPPED_BYTES = 15_000_000  # issue 10's budget; the word vectors take about 4.5 MB

SKILL_ID = "amzn1.ask.skill.0a1b2c3d-4e5f-6789-abcd-ef0123456789"
OTHER_SKILL_ID = "amzn1.ask.skill.99999999-8888-7777-6666-555555555555"
TABLE = "skill-table"

# Things that must never ship: the web service's stack, test code, dev trees, and what the Lambda
# runtime already provides.
FORBIDDEN_TOP_LEVEL = {
    "flask", "flask_ask_sdk", "werkzeug", "gunicorn", "cryptography", "OpenSSL", "cffi",
    "ask_sdk_webservice_support", "tests", "node_modules", ".venv", "docs", "bench",
    "interaction_model", "boto3", "botocore", "s3transfer", "jmespath", "bin",
}  # fmt: skip


def _python313() -> str:
    """The interpreter package.sh uses: PYTHON313, else pyenv's newest 3.13, else python3.13."""
    if os.environ.get("PYTHON313"):
        return os.environ["PYTHON313"]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip())
        found = sorted(
            root.glob("versions/3.13.*/bin/python3.13"),
            key=lambda p: [int(n) for n in re.findall(r"\d+", p.parts[-3])],
        )
        if found:
            return str(found[-1])
    python = shutil.which("python3.13")
    if python is None:
        pytest.fail("no python3.13: install it (pyenv install 3.13) or set PYTHON313")
    return python


@pytest.fixture(scope="session")
def artifact() -> dict[str, Any]:
    """Builds the function once per session; returns the zip's path and what package.sh said."""
    entry = ROOT / "lambda" / "lambda_function.py"
    if not entry.is_file():
        pytest.fail(f"{entry.relative_to(ROOT)} is missing: the Lambda entry point")
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "package.sh")],
        cwd=ROOT,
        env={**os.environ, "BIN": str(Path(sys.executable).parent), "PYTHON313": _python313()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"zip": ARTIFACT, "report": proc.stdout, "seconds": time.monotonic() - start}


@pytest.fixture(scope="session")
def names(artifact: dict[str, Any]) -> list[str]:
    with zipfile.ZipFile(artifact["zip"]) as zf:
        return zf.namelist()


@pytest.fixture(scope="session")
def unpacked(artifact: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip as Lambda unpacks it into /var/task."""
    task = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(artifact["zip"]) as zf:
        zf.extractall(task)
    return task


@pytest.fixture(scope="session")
def runtime_python() -> Path:
    """python3.13 in a venv holding only boto3 (what the Lambda runtime adds to the stdlib)."""
    python = RUNTIME_VENV / "bin" / "python"
    ready = RUNTIME_VENV / ".ready"
    if not ready.exists():
        shutil.rmtree(RUNTIME_VENV, ignore_errors=True)
        subprocess.run([_python313(), "-m", "venv", str(RUNTIME_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-qq", "--disable-pip-version-check", "boto3"],
            check=True,
            timeout=600,
        )
        ready.touch()
    return python


def _envelope(
    request: dict[str, Any],
    *,
    skill_id: str = SKILL_ID,
    attributes: dict[str, Any] | None = None,
    new: bool = True,
) -> dict[str, Any]:
    """A request envelope as Alexa sends it to a Lambda endpoint (no signature: Lambda has none).
    apiEndpoint points at a closed loopback port, so device API calls fail at once, offline."""
    application = {"applicationId": skill_id}
    user = {"userId": "amzn1.ask.account.PACKAGE-TEST"}
    return {
        "version": "1.0",
        "session": {
            "new": new,
            "sessionId": "amzn1.echo-api.session.package-test",
            "application": application,
            "user": user,
            "attributes": attributes or {},
        },
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {
                    "deviceId": "amzn1.ask.device.PACKAGE-TEST",
                    "supportedInterfaces": {},
                },
                "apiEndpoint": "http://127.0.0.1:9",
                "apiAccessToken": "package-test-token",
            }
        },
        "request": {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "locale": "en-US",
            **request,
        },
    }


# Runs in the clean interpreter: imports the handler as Lambda's bootstrap would (timing the init
# phase), answers each event read from stdin, and reports what was loaded from where.
_INVOKE = """
import json, sys, time
start = time.perf_counter()
import lambda_function
init = time.perf_counter() - start
replies = []
for event in json.load(sys.stdin):
    try:
        replies.append({"ok": lambda_function.handler(event, None)})
    except Exception as e:
        replies.append({"error": f"{type(e).__name__}: {e}"})
files = {n: getattr(m, "__file__", None) for n, m in sys.modules.items()}
print(json.dumps({"init_s": init, "replies": replies, "files": files}))
"""


def _invoke(python: Path, task: Path, cwd: Path, events: list[dict], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        # -s: no user site; -P: nothing prepended from cwd. PYTHONPATH is the only way in, as
        # /var/task is on Lambda.
        [str(python), "-s", "-P", "-c", _INVOKE],
        input=json.dumps(events),
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(cwd),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(task),
            # /var/task is read-only: nothing may rely on writing bytecode beside the code.
            "PYTHONDONTWRITEBYTECODE": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "stderr": proc.stderr}


@pytest.fixture(scope="session")
def invocation(
    unpacked: Path, runtime_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A launch, the end of that session, and a launch for another skill ID, through the built
    handler with the environment the template gives the function."""
    cwd = tmp_path_factory.mktemp("lambda-cwd")
    with running_dynalite() as db:
        create_skill_table(db.endpoint, TABLE)
        db.reset_counts()
        first = _invoke(
            runtime_python,
            unpacked,
            cwd,
            [_envelope({"type": "LaunchRequest"})],
            {"SKILL_ID": SKILL_ID, "SKILL_TABLE": TABLE, **db.env()},
        )
        launch = first["replies"][0].get("ok") or {}
        attributes = launch.get("sessionAttributes") or {}
        second = _invoke(
            runtime_python,
            unpacked,
            cwd,
            [
                _envelope(
                    {"type": "SessionEndedRequest", "reason": "USER_INITIATED"},
                    attributes=attributes,
                    new=False,
                ),
                _envelope({"type": "LaunchRequest"}, skill_id=OTHER_SKILL_ID),
            ],
            {"SKILL_ID": SKILL_ID, "SKILL_TABLE": TABLE, **db.env()},
        )
        counts = db.counts()
        items = db.client().scan(TableName=TABLE)["Items"]
        # Deployed by hand without SKILL_ID: it would answer any skill, so it answers none.
        db.reset_counts()
        unconfigured = _invoke(
            runtime_python,
            unpacked,
            cwd,
            [_envelope({"type": "LaunchRequest"}, skill_id=OTHER_SKILL_ID)],
            {"SKILL_TABLE": TABLE, **db.env()},
        )
        unconfigured["db_counts"] = db.counts()
    return {"first": first, "second": second, "db_counts": counts, "items": items,
            "unconfigured": unconfigured}  # fmt: skip


def test_zip_is_small(artifact: dict[str, Any]) -> None:
    size = artifact["zip"].stat().st_size
    assert size < MAX_ZIPPED_BYTES, artifact["report"]
    print(f"\n{artifact['report'].strip()} (build {artifact['seconds']:.0f} s)")


def test_zip_holds_the_handler_and_the_whole_skill_package(names: list[str]) -> None:
    """The function is the skill package as it stands (core, Alexa shell, bundle): nothing is
    excluded from it, and the web service and the tools, which live outside it, never ship."""
    assert "lambda_function.py" in names  # template: Handler lambda_function.handler
    shipped = set(names)
    wanted = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "skill").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert any(n.startswith("skill/bundle/") for n in wanted)
    assert not [n for n in wanted if n not in shipped]
    assert not {n.split("/")[0] for n in names} & {"tools", "webservice", "content", "tests"}


def test_zip_holds_nothing_the_function_must_not_ship(names: list[str]) -> None:
    tops = {n.split("/")[0] for n in names}
    assert not tops & FORBIDDEN_TOP_LEVEL
    dists = {n.split("/")[0].split("-")[0].lower() for n in names if ".dist-info/" in n}
    assert not dists & {t.lower() for t in FORBIDDEN_TOP_LEVEL}
    assert not [n for n in names if n.startswith("skill/") and "/tests/" in n]


def test_bytecode_is_for_python313_and_never_stale(names: list[str], unpacked: Path) -> None:
    """Every module has a cpython-313 .pyc that is hash-based and unchecked, so a read-only
    /var/task never makes the cold start compile, whatever timestamps the zip kept."""
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs and all(".cpython-313." in n for n in pycs), {
        n for n in pycs if ".cpython-313." not in n
    }
    have = set(pycs)
    for source in (n for n in names if n.endswith(".py")):
        folder, _, stem = source.rpartition("/")
        pyc = f"{folder + '/' if folder else ''}__pycache__/{stem[:-3]}.cpython-313.pyc"
        assert pyc in have, source
    # PEP 552 header: bytes 4-8 are flags; 0b01 is hash-based without checking the source.
    for pyc in (unpacked / "skill" / "__pycache__").glob("*.pyc"):
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc.name}: not an unchecked hash-based .pyc"


def test_dependencies_are_exactly_the_lambda_lock(names: list[str]) -> None:
    """What ships besides the skill is requirements/lambda.txt, version for version (installed
    with --require-hashes --no-deps), and nothing that lock leaves out for the runtime."""

    def dist(folder: str) -> tuple[str, str]:
        name, version = folder.removesuffix(".dist-info").split("-", 1)
        return re.sub(r"[-_.]+", "-", name).lower(), version

    shipped = {dist(n.split("/")[0]) for n in names if n.split("/")[0].endswith(".dist-info")}
    text = (ROOT / "requirements" / "lambda.txt").read_text(encoding="utf-8")
    locked = {
        (re.sub(r"[-_.]+", "-", name).lower(), version)
        for name, version in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.M)
    }
    assert locked and shipped == locked


def test_built_handler_answers_a_launch_in_a_clean_runtime(
    invocation: dict[str, Any], unpacked: Path
) -> None:
    first = invocation["first"]
    reply = first["replies"][0]
    assert "ok" in reply, reply.get("error")
    envelope = reply["ok"]
    assert envelope["version"] == "1.0"
    speech = envelope["response"]["outputSpeech"]
    assert speech["type"] == "SSML"
    assert re.fullmatch(r"(?s)<speak>.*\S.*</speak>", speech["ssml"]), speech
    print(f"\ncold init (import lambda_function) in the clean runtime: {first['init_s']:.2f} s")

    # Everything came from the artifact or the runtime, nothing from the repository or the venv.
    files = {n: f for n, f in first["files"].items() if f}
    for module in ("lambda_function", "skill", "ask_sdk_core", "ask_sdk_model"):
        assert files[module].startswith(str(unpacked)), (module, files[module])
    assert files["boto3"].startswith(str(RUNTIME_VENV)), files["boto3"]
    assert not [f for f in files.values() if f.startswith(str(ROOT)) and "runtime-venv" not in f]
    assert not {n.split(".")[0] for n in files} & {"flask", "cryptography", "werkzeug"}


def test_built_handler_reads_and_ends_sessions_with_the_table(invocation: dict[str, Any]) -> None:
    ended = invocation["second"]["replies"][0]
    assert "ok" in ended, ended.get("error")
    # Only the three actions the role grants are used.
    counts = invocation["db_counts"]
    assert counts.get("GetItem", 0) >= 1, counts
    assert set(counts) <= {"GetItem", "PutItem", "DeleteItem"}, counts
    # What is saved carries the attribute the table's TTL (template.yaml) deletes it by.
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    ttl = re.search(r"TimeToLiveSpecification:\s+AttributeName: (\S+)", template)
    assert ttl, "template.yaml has no TTL attribute"
    for item in invocation["items"]:
        assert set(item) >= {"id", "attributes", ttl.group(1)}, item
        assert "N" in item[ttl.group(1)], item


def test_built_handler_refuses_another_skill(invocation: dict[str, Any]) -> None:
    reply = invocation["second"]["replies"][1]
    # ask-sdk raises on a skill ID mismatch; Lambda then reports an error to Alexa.
    assert "error" in reply, reply


def test_built_handler_without_a_skill_id_refuses_everyone(invocation: dict[str, Any]) -> None:
    unconfigured = invocation["unconfigured"]
    (reply,) = unconfigured["replies"]
    assert "ok" in reply, reply.get("error")  # answered, not crashed
    response = reply["ok"]["response"]
    assert response["shouldEndSession"] is True
    assert "something went wrong" in response["outputSpeech"]["ssml"]
    assert not unconfigured["db_counts"], unconfigured["db_counts"]  # the table is not touched
    # Said where the function logs, by the logging lambda_function.py sets up.
    assert "ERROR skill.alexa.refusal: refused a LaunchRequest: SKILL_ID is not set" in (
        unconfigured["stderr"]
    )
