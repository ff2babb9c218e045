"""What must never be said to a person with each variant, checked on spoken text.

The rules live in ``content/<language>/never_say.toml``. ``breaches(spoken, variants)`` lists the
phrases in ``spoken`` that the rules forbid for any of ``variants``; the variant test runs it over
every movement text of every assembled routine, and conversation tests can run it over the
skill's real speech (``spoken_text`` of each response).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache
from typing import NamedTuple

from tests.support import REPO_ROOT


class Rule(NamedTuple):
    phrase: str
    unless_followed_by: tuple[str, ...]
    unless_after: tuple[str, ...]


def words(text: str) -> str:
    """Lower-case words separated by single spaces, padded, so phrases match whole words."""
    return " " + " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower().replace("’", "'")).split()) + " "


@cache
def rules(language: str = "en") -> dict[str, tuple[Rule, ...]]:
    with open(REPO_ROOT / "content" / language / "never_say.toml", "rb") as handle:
        table = tomllib.load(handle)

    def allowed(spec: dict, key: str, phrase: str) -> tuple[str, ...]:
        return tuple(words(w).strip() for w in spec.get(key, {}).get(phrase, []))

    return {
        variant: tuple(Rule(words(phrase).strip(), allowed(spec, "unless_followed_by", phrase),
                            allowed(spec, "unless_after", phrase)) for phrase in spec["never"])
        for variant, spec in table.items()
    }


def breaches(spoken: str, variants: Iterable[str], language: str = "en") -> list[str]:
    """"<variant>: <phrase>" for each forbidden phrase in ``spoken``."""
    text = words(spoken)
    found = []
    for variant in sorted(variants):
        for rule in rules(language)[variant]:
            for match in re.finditer(re.escape(f" {rule.phrase} "), text):
                after = text[match.end() - 1:]
                before = text[:match.start() + 1]
                if any(after.startswith(f" {w} ") for w in rule.unless_followed_by):
                    continue
                if any(before.endswith(f" {w} ") for w in rule.unless_after):
                    continue
                found.append(f"{variant}: {rule.phrase!r}")
    return found
