"""The one content loader: what the skill says and does, read from the compiled bundle.

People edit TOML and JSON under the repository's ``content/`` folder; ``make model``
(tools/model.py) compiles exactly what the runtime reads into ``skill/bundle/``, and a test fails
if the two drift.
The bundle is split by when it is needed, each part read once per process on first use:

* ``core.json``: routines, movements, prompts and slot values (every session);
* ``answers.json``: the knowledge base and the red-flag rules (the first free-text utterance);
* ``screens.json``: the APL documents and their labels (the first Echo Show request).

Keys are the source paths ("en/prompts.toml"), so a line in the bundle leads straight back to the
file that holds it. JSON, not TOML: parsing TOML costs the Lambda cold start tens of ms.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from skill.core.speech import escape

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "bundle"
#: Locales the skill ships; each maps to the folder holding its words.
LANGUAGES = {"en-US": "en", "en-GB": "en", "en-CA": "en", "en-AU": "en", "en-IN": "en"}
DEFAULT_LOCALE = "en-US"
#: Which bundle part holds a source file, by its name (or its folder, for apl/).
PARTS = {"knowledge.toml": "answers", "safety.toml": "answers", "screen.json": "screens",
         "apl": "screens"}
DEFAULT_PART = "core"


def language(locale: str | None) -> str:
    """The content folder for a locale; unknown locales get the default's words."""
    if locale in LANGUAGES:
        return LANGUAGES[locale]
    prefix = (locale or "").replace("_", "-").split("-")[0].lower()
    return prefix if prefix in set(LANGUAGES.values()) else LANGUAGES[DEFAULT_LOCALE]


def part_of(relative: str) -> str:
    """The bundle part that holds a source path such as "en/knowledge.toml" or "apl/steps.json"."""
    head, _, name = relative.rpartition("/")
    return PARTS.get(name) or PARTS.get(head.split("/")[0]) or DEFAULT_PART


@cache
def _part(name: str) -> dict[str, Any]:
    with open(BUNDLE_DIR / f"{name}.json", encoding="utf-8") as handle:
        part: dict[str, Any] = json.load(handle)
    return part


def load(relative: str) -> Any:
    """One content file ("en/prompts.toml", "apl/steps.json") as data."""
    return _part(part_of(relative))[relative]


def forget() -> None:
    """Drop everything loaded, after the bundle was rewritten (``make model``, tests)."""
    for cached in (_part, prompts, movements, _slot_values):
        cached.cache_clear()


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
    return load(f"{language(locale)}/movements.toml")  # type: ignore[no-any-return]


def structure() -> dict[str, Any]:
    return load("routines.toml")  # type: ignore[no-any-return]


def invocation_name(locale: str | None) -> str:
    return str(load(f"{language(locale)}/slots")["invocation"])


@cache
def _slot_values(language_name: str) -> dict[str, dict[str, str]]:
    return load(f"{language_name}/slots")["values"]  # type: ignore[no-any-return]


#: The intent that carries free text (statements and questions) to the red-flag screen.
FREE_TEXT_INTENT = "QuestionIntent"


def free_text(intent_name: str, query: str | None, locale: str | None = None) -> str | None:
    """The words the free-text intent stands for, or None for any other intent: the query, with
    an opening intent's words put back in front (see :func:`opening`)."""
    if intent_name == FREE_TEXT_INTENT:
        return (query or "").strip()
    opened = opening(intent_name, locale)
    return None if opened is None else f"{opened} {query or ''}".strip()


def opening(intent_name: str, locale: str | None = None) -> str | None:
    """The words an opening intent stands for ("QuestionIntent_back_pain" -> "back pain"): free
    text whose first words the interaction model kept as the intent's name, to be put back."""
    found = load(f"{language(locale)}/slots").get("openings", {}).get(intent_name)
    return str(found) if found is not None else None


def slot_value_id(slot_name: str, spoken: str, locale: str | None = None) -> str:
    """The value id for a custom slot's words, or the words themselves (free-form slots)."""
    words = _slot_values(language(locale)).get(slot_name)
    if words is None:
        return spoken
    return words.get(spoken.strip().lower(), spoken)
