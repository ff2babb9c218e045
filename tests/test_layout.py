"""The layout shows the architecture: imports only point inward, and the Lambda artifact is
defined by what it imports.

    skill/core/    the functional core: the standard library, itself, and its runtime libraries
    skill/alexa/   the ask-sdk shell: the core, ask-sdk, boto3 (lazily)
    webservice/    the web service: the skill, flask-ask-sdk and its HTTPS stack
    tools/         what people and CI run: anything of ours
    lambda/        the entry point: the Alexa shell only

Every .py file is read with ``ast`` (imports inside functions count too: a lazy import still
ships), so a rule is broken the moment the import is written, not when it first runs.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.support import REPO_ROOT

OURS = ("skill", "webservice", "tools", "tests", "bench", "scripts", "lambda_function")
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
#: Third-party libraries the functional core may import (each a runtime dependency).
CORE_LIBRARIES = ("snowballstemmer",)
#: Where the function runs (template.yaml: python3.13, x86_64), for requirement markers.
LAMBDA_ENVIRONMENT = {
    "python_version": "3.13", "python_full_version": "3.13.0", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix", "extra": "",
}


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    relative = path.relative_to(REPO_ROOT).with_suffix("")
    parts = relative.parts[1:] if relative.parts[0] == "lambda" else relative.parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
            # "from skill.core import content" imports the module skill.core.content.
            for alias in node.names:
                yield node.lineno, f"{name}.{alias.name}"


def top(name: str) -> str:
    return name.split(".")[0]


def is_ours(name: str) -> bool:
    return top(name) in OURS


@cache
def runtime_dependencies() -> frozenset[str]:
    """pyproject's runtime dependencies (what the Lambda function needs), canonical names."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    return frozenset(canonical(Requirement(r).name) for r in project["dependencies"])


@cache
def core_libraries() -> frozenset[str]:
    """Import names of the libraries the core may use: its own runtime dependencies, never the
    ask-sdk that the shell adds (tzdata is data for zoneinfo, never imported)."""
    names: set[str] = set()
    for distribution in CORE_LIBRARIES:
        names |= import_names(distribution)
    return frozenset(names)


@cache
def distributions_of_imports() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def import_names(distribution: str) -> set[str]:
    wanted = canonical(distribution)
    return {name for name, dists in distributions_of_imports().items()
            if any(canonical(d) == wanted for d in dists)}


def canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def allowed_for(folder: str, name: str) -> bool:
    """May a module under ``folder`` import ``name``?"""
    first = top(name)
    if folder == "skill/core":
        if is_ours(name):
            return name == "skill" or name.startswith("skill.core")
        return first in STDLIB or first in core_libraries()
    if folder == "skill/alexa":
        if is_ours(name):
            return name == "skill" or name.startswith(("skill.core", "skill.alexa"))
        return True  # ask_sdk*, boto3 and botocore, the standard library
    if folder == "webservice":
        return not is_ours(name) or first in ("skill", "webservice")
    if folder == "lambda":
        return first in STDLIB or name == "skill" or name.startswith("skill.alexa")
    return True


def offences(folder: str) -> list[str]:
    return [f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
            for path in python_files(folder) for line, name in imports(path)
            if not allowed_for(folder, name)]


def test_the_core_imports_only_the_standard_library_itself_and_its_runtime_libraries() -> None:
    assert set(CORE_LIBRARIES) <= runtime_dependencies()
    assert "snowballstemmer" in core_libraries()
    assert offences("skill/core") == []


def test_the_alexa_shell_imports_the_core_and_ask_sdk_never_the_web_service_or_tools() -> None:
    assert offences("skill/alexa") == []


def test_the_web_service_imports_the_skill_never_the_tools() -> None:
    assert offences("webservice") == []


def test_the_lambda_entry_point_imports_only_the_alexa_shell() -> None:
    assert offences("lambda") == []


def test_the_rules_name_every_offending_import(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Not vacuous: each kind of outward import, lazy ones too, is named with file and line."""
    for folder, source in (("skill/core", "import json\n\ndef f():\n    import ask_sdk_core\n"),
                           ("skill/core/deep", "from skill.alexa import app\nimport boto3\n"),
                           ("skill/alexa", "from tools import validate\n"),
                           ("webservice", "import tools.chat\n"),
                           ("lambda", "from skill.core import speech\n")):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "bad.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    found = [*offences("skill/core"), *offences("skill/alexa"), *offences("webservice"),
             *offences("lambda")]
    assert found == [
        "skill/core/bad.py:4 imports ask_sdk_core",
        "skill/core/deep/bad.py:1 imports skill.alexa",
        "skill/core/deep/bad.py:1 imports skill.alexa.app",
        "skill/core/deep/bad.py:2 imports boto3",
        "skill/alexa/bad.py:1 imports tools",
        "skill/alexa/bad.py:1 imports tools.validate",
        "webservice/bad.py:1 imports tools.chat",
        "lambda/bad.py:1 imports skill.core",
        "lambda/bad.py:1 imports skill.core.speech",
    ]


# --- the Lambda artifact --------------------------------------------------------------------


def build_recipe() -> list[str]:
    """The commands of the Makefile's build-SkillFunction target (what `sam build` runs)."""
    lines = (REPO_ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = lines.index("build-SkillFunction:")
    recipe: list[str] = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        if recipe and recipe[-1].endswith("\\"):
            recipe[-1] = recipe[-1][:-1] + " " + line.strip()
        else:
            recipe.append(line.strip())
    return recipe


def test_the_artifact_takes_the_skill_package_whole() -> None:
    recipe = build_recipe()
    copies = [c for c in recipe if re.search(r"(^|\s)skill(\s|$)", c)]
    assert len(copies) == 1, recipe
    [copy] = copies
    # Compiled files are left behind (they are compiled again for the target); nothing else.
    excluded = re.findall(r"--exclude[= ]'?([^\s']+)", copy)
    assert set(excluded) <= {"__pycache__", "*.pyc"}, excluded


@cache
def lambda_closure() -> tuple[frozenset[str], frozenset[str]]:
    """(our modules, third-party top-level names) that lambda_function imports, transitively,
    following every import in our own files (lazy ones too)."""
    seen: set[str] = set()
    external: set[str] = set()
    todo = [REPO_ROOT / "lambda" / "lambda_function.py"]
    while todo:
        path = todo.pop()
        for _, name in imports(path):
            if not is_ours(name):
                if top(name) not in STDLIB:
                    external.add(top(name))
                continue
            found = own_file(name)
            if found is not None and name not in seen:
                seen.add(name)
                todo.append(found)
    return frozenset(seen), frozenset(external)


def own_file(name: str) -> Path | None:
    base = REPO_ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None  # a name imported from a module ("from skill.core import content" -> function)


def locked(lock: str) -> set[str]:
    text = (REPO_ROOT / "requirements" / f"{lock}.txt").read_text(encoding="utf-8")
    return {canonical(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", text, re.M)}


def lambda_runtime_provided() -> set[str]:
    """scripts/lock.py's LAMBDA_RUNTIME_PROVIDED (read, not run: the script is no module)."""
    tree = ast.parse((REPO_ROOT / "scripts" / "lock.py").read_text(encoding="utf-8"))
    [value] = [node.value for node in tree.body if isinstance(node, ast.AnnAssign | ast.Assign)
               and "LAMBDA_RUNTIME_PROVIDED" in ast.unparse(node).split("=")[0]]
    return {canonical(d) for d in ast.literal_eval(value)}


def requirements_of(distribution: str) -> set[str]:
    """The distribution and everything it requires unconditionally, transitively."""
    found: set[str] = set()
    todo = [canonical(distribution)]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            # Extras are installed only when asked for; markers as on Lambda's python3.13.
            if requirement.marker is None or requirement.marker.evaluate(LAMBDA_ENVIRONMENT):
                todo.append(canonical(requirement.name))
    return found


def test_everything_the_lambda_function_imports_is_the_skill_or_a_locked_dependency() -> None:
    ours, external = lambda_closure()
    assert {"skill.alexa.app", "skill.core.conversation.coach", "skill.core.answers",
            "skill.alexa.storage"} <= ours, sorted(ours)
    outside = sorted(m for m in ours if not m.startswith("skill"))
    assert outside == [], f"the Lambda function imports modules outside skill/: {outside}"
    assert {"ask_sdk_core", "ask_sdk_model", "boto3", "snowballstemmer"} <= external
    shipped = locked("lambda") | lambda_runtime_provided()
    distributions = distributions_of_imports()
    missing = []
    for name in sorted(external):
        for distribution in distributions.get(name, [name]):
            for needed in sorted(requirements_of(distribution)):
                if needed not in shipped:
                    missing.append(f"{name} needs {needed}")
    assert missing == [], "imported by the Lambda function but not in requirements/lambda.txt" \
        f" nor provided by the runtime: {missing}"
