"""Content as data: routines, movements and prompts loaded from TOML once per process."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from skill.speech import escape

CONTENT_DIR = Path(__file__).parent / "content"
#: Locales the skill ships; each maps to the folder holding its words.
LANGUAGES = {"en-US": "en", "en-GB": "en", "en-CA": "en", "en-AU": "en", "en-IN": "en"}
DEFAULT_LOCALE = "en-US"


def language(locale: str | None) -> str:
    """The content folder for a locale; unknown locales get the default's words."""
    if locale in LANGUAGES:
        return LANGUAGES[locale]
    prefix = (locale or "").split("-")[0].lower()
    return prefix if prefix in set(LANGUAGES.values()) else LANGUAGES[DEFAULT_LOCALE]


@cache
def load_toml(relative: str) -> dict[str, Any]:
    with open(CONTENT_DIR / relative, "rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class Prompts:
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
    return Prompts(load_toml(f"{language(locale)}/prompts.toml"))


@cache
def movements(locale: str | None) -> dict[str, dict[str, str]]:
    return load_toml(f"{language(locale)}/movements.toml")


def structure() -> dict[str, Any]:
    return load_toml("routines.toml")
