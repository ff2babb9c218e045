"""Content as data: routines, movements, prompts and answers, written in TOML.

People edit the TOML files under ``content/``. The skill reads them from ``content/compiled.json``,
which ``python -m skill model`` writes from the TOML (a test fails if the two drift): parsing
TOML at run time would cost the Lambda cold start tens of milliseconds, JSON costs about one.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from skill.speech import escape

CONTENT_DIR = Path(__file__).parent / "content"
COMPILED = CONTENT_DIR / "compiled.json"
#: Locales the skill ships; each maps to the folder holding its words.
LANGUAGES = {"en-US": "en", "en-GB": "en", "en-CA": "en", "en-AU": "en", "en-IN": "en"}
DEFAULT_LOCALE = "en-US"


def language(locale: str | None) -> str:
    """The content folder for a locale; unknown locales get the default's words."""
    if locale in LANGUAGES:
        return LANGUAGES[locale]
    prefix = (locale or "").split("-")[0].lower()
    return prefix if prefix in set(LANGUAGES.values()) else LANGUAGES[DEFAULT_LOCALE]


def compile_sources(content_dir: Path = CONTENT_DIR) -> dict[str, Any]:
    """Every TOML file under the content folder, parsed, keyed by its relative path."""
    import tomllib  # only `make model` parses TOML; the skill reads the compiled JSON

    compiled = {}
    for path in sorted(content_dir.rglob("*.toml")):
        with open(path, "rb") as handle:
            compiled[path.relative_to(content_dir).as_posix()] = tomllib.load(handle)
    return compiled


@cache
def _bundle() -> dict[str, Any]:
    with open(COMPILED, encoding="utf-8") as handle:
        return json.load(handle)


def write_compiled() -> None:
    """Compile the TOML into the bundle the skill reads, and forget what was loaded before."""
    text = json.dumps(compile_sources(), ensure_ascii=False, sort_keys=True) + "\n"
    COMPILED.write_text(text, encoding="utf-8")
    for cached in (_bundle, prompts, movements):
        cached.cache_clear()


def load(relative: str) -> dict[str, Any]:
    """One content file (``"en/prompts.toml"``) as data."""
    return _bundle()[relative]


class Prompts(NamedTuple):
    """Spoken lines for one language. Every line comes back escaped, ready for SSML."""

    table: dict[str, Any]

    def raw(self, key: str) -> Any:
        node: Any = self.table
        for part in key.split("."):
            node = node[part]
        return node

    def say(self, key: str, seed: int = 0, **fields: object) -> str:
        variants = self.raw(key)
        if isinstance(variants, str):
            variants = [variants]
        line = variants[seed % len(variants)]
        return escape(line.format(**{k: str(v) for k, v in fields.items()}))


@cache
def prompts(locale: str | None) -> Prompts:
    return Prompts(load(f"{language(locale)}/prompts.toml"))


@cache
def movements(locale: str | None) -> dict[str, dict[str, str]]:
    return load(f"{language(locale)}/movements.toml")


def structure() -> dict[str, Any]:
    return load("routines.toml")
