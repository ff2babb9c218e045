"""Locked dependencies: requirements/*.txt are generated from pyproject.toml (`make lock`), hashed,
installed as they are, and the production ones hold nothing that only tests use.

scripts/lock.py writes them; each records a digest of what it was generated from, so a
dependency changed in pyproject.toml without `make lock` fails here, offline.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"

# Packages that exist to test code; none may reach the Lambda function or the web service.
TEST_ONLY = {"freezegun", "pytest", "hypothesis", "mock", "coverage", "responses", "moto"}


def _load_lock_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_script", ROOT / "scripts" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


lock_script = _load_lock_script()


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: frozenset[str]

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str:
        (spec,) = self.requirement.specifier
        return spec.version


def read_pins(path: Path) -> list[Pin]:
    """A lock file's entries: a requirement, then its hashes, over continuation lines."""
    logical = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for line in logical.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        hashes = frozenset(w.removeprefix("--hash=") for w in words if w.startswith("--hash="))
        spec = " ".join(w for w in words if not w.startswith("--hash="))
        pins.append(Pin(Requirement(spec), hashes))
    return pins


def applies_here(pin: Pin) -> bool:
    return pin.requirement.marker is None or pin.requirement.marker.evaluate()


@pytest.fixture(scope="module")
def pins() -> dict[str, dict[str, Pin]]:
    found: dict[str, dict[str, Pin]] = {}
    for lock in lock_script.LOCKS:
        by_name: dict[str, Pin] = {}
        for pin in read_pins(lock.path):
            # A universal lock may pin one package twice, under exclusive markers.
            if applies_here(pin) or pin.name not in by_name:
                by_name[pin.name] = pin
        found[lock.name] = by_name
    return found


def direct_requirements(extras: tuple[str, ...]) -> list[Requirement]:
    """What pyproject.toml asks for, for the given extras (self-references followed)."""
    project = lock_script.read_pyproject()["project"]
    own = canonicalize_name(project["name"])
    wanted, seen, todo = [], set(), list(extras)
    wanted += [Requirement(r) for r in project["dependencies"]]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == own:
                todo += sorted(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


def test_locks_are_generated_from_pyproject_as_it_stands() -> None:
    assert lock_script.check() == [], "pyproject.toml changed since the locks: run `make lock`"


def test_a_dependency_changed_without_make_lock_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    source = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert source.count('"tzdata>=2024.1"') == 1
    (tmp_path / "pyproject.toml").write_text(
        source.replace('"tzdata>=2024.1"', '"tzdata>=2024.1",\n    "six>=1.16"'), encoding="utf-8"
    )
    problems = lock_script.check(tmp_path)
    assert sorted(problems) == sorted(
        f"requirements/{lock.name}.txt was not generated from pyproject.toml as it is"
        for lock in lock_script.LOCKS
    )
    (tmp_path / "requirements" / "web.txt").unlink()
    assert "requirements/web.txt is missing" in lock_script.check(tmp_path)


@pytest.mark.parametrize("lock", lock_script.LOCKS, ids=lambda lock: lock.name)
def test_every_entry_is_pinned_with_hashes(lock: object) -> None:
    entries = read_pins(lock.path)
    assert entries
    for pin in entries:
        assert [s.operator for s in pin.requirement.specifier] == ["=="], pin.requirement
        assert pin.hashes and all(h.startswith("sha256:") for h in pin.hashes), pin.name


@pytest.mark.parametrize("lock", lock_script.LOCKS, ids=lambda lock: lock.name)
def test_every_direct_dependency_is_locked_within_its_bounds(
    lock: object, pins: dict[str, dict[str, Pin]]
) -> None:
    locked = pins[lock.name]
    for requirement in direct_requirements(lock.extras):
        name = canonicalize_name(requirement.name)
        if name in lock.omit:
            assert name not in locked, f"{name} is provided where {lock.name} runs"
            continue
        assert name in locked, f"{name} (pyproject.toml) is not in {lock.path.name}"
        assert requirement.specifier.contains(locked[name].version, prereleases=True), (
            f"{lock.path.name} pins {name}=={locked[name].version}, pyproject asks {requirement}"
        )


def test_production_locks_pin_exactly_what_the_tests_run(pins: dict[str, dict[str, Pin]]) -> None:
    """Same versions and the same files as the development venv: the dev install checks these
    hashes, and the tests exercise the very packages that ship."""
    dev = pins["dev"]
    for name in ("lambda", "web"):
        for pin in pins[name].values():
            assert pin.name in dev, f"{pin.name} ({name}) is not in the development lock"
            assert (pin.version, pin.hashes) == (dev[pin.name].version, dev[pin.name].hashes)


def test_no_test_only_package_in_production(pins: dict[str, dict[str, Pin]]) -> None:
    assert "freezegun" in pins["dev"], "the web extra's freezegun is expected in the dev venv"
    for name in ("lambda", "web"):
        assert not set(pins[name]) & TEST_ONLY, name
        assert not set(pins[name]) & {"uv", "pip-audit", "ruff", "aws-sam-cli", "cfn-lint"}, name
    assert not set(pins["lambda"]) & set(lock_script.LAMBDA_RUNTIME_PROVIDED)


@pytest.mark.slow
def test_web_service_starts_and_answers_without_freezegun(tmp_path: Path) -> None:
    """ask-sdk-webservice-support declares freezegun but never imports it: the web service,
    installed from requirements/web.txt without it, still builds and serves."""
    program = """
import sys
sys.modules["freezegun"] = None  # from here on, importing it raises ImportError
from webservice.app import create_app
print(create_app().test_client().get("/health").status_code)
"""
    env = {**os.environ, "SKILL_ID": SKILL_ID, "SKILL_DB": str(tmp_path / "skill.db")}
    env.pop("SKILL_TABLE", None)
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "200", proc.stdout


def test_the_venv_holds_the_locked_versions(pins: dict[str, dict[str, Pin]]) -> None:
    """`make setup` installs the lock as it is, pip and setuptools included (the ones Python
    bundles into a new venv, 23.2 and 65.5 for 3.11, have known advisories)."""
    wrong = {}
    for pin in pins["dev"].values():
        if not applies_here(pin):
            continue
        try:
            installed = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pin.version:
            wrong[pin.name] = (installed, pin.version)
    assert not wrong, f"installed vs locked (run `make setup`): {wrong}"
    assert {"pip", "setuptools"} <= set(pins["dev"])
