"""Red flags: what a person says that means "see a doctor now, don't stretch".

Pure Python, no ask-sdk. The phrasings and the spoken advice live in content/<lang>/safety.toml;
this module only knows how to match them. Matching is deliberately plain (whole words, prefixes,
negation within a few words) so that a reviewer can predict from the file what will fire.
A missed red flag costs far more than a needless pointer to a doctor, so the rules err that way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from skill.core import content

# What `red_flag` returns when the only mentions were negated ("no numbness"): not urgent, but
# worth a gentle pointer. Its advice is in the [mentioned_absent] table.
MENTIONED_ABSENT = "mentioned_absent"

# A break in the sentence: a negation before it does not reach past it.
_BARRIER = "|"
_TOKEN = re.compile(r"[a-z0-9]+|[,.;:!?]")
_MAX_CHARS = 1000


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]

    def starts(self, tokens: Sequence[str], where: dict[str, list[int]]) -> list[int]:
        """Where the phrase starts in tokens; `where` maps each token to its positions."""
        first = self.words[0]
        if first == "*":
            candidates: Iterable[int] = range(len(tokens))
        elif first.endswith("*"):
            stem = first[:-1]
            candidates = [i for token, at in where.items() if token.startswith(stem) for i in at]
        else:
            candidates = where.get(first, ())
        last = len(tokens) - len(self.words)
        return [i for i in candidates if i <= last and self._at(tokens, i)]

    def _at(self, tokens: Sequence[str], i: int) -> bool:
        for pattern, token in zip(self.words, tokens[i : i + len(self.words)], strict=True):
            if token in ("", _BARRIER):
                return False
            if pattern == "*":
                continue
            if pattern.endswith("*"):
                if not token.startswith(pattern[:-1]):
                    return False
            elif token != pattern:
                return False
        return True


@dataclass(frozen=True)
class _Flag:
    id: str
    urgent: bool
    advice: str
    phrases: tuple[_Phrase, ...]
    any_: tuple[_Phrase, ...]
    with_: tuple[_Phrase, ...]
    unless: tuple[_Phrase, ...]
    check_negation: bool


@dataclass(frozen=True)
class _Rules:
    flags: tuple[_Flag, ...]
    negations: frozenset[str]
    window: int
    absent_advice: str


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("'", "")[:_MAX_CHARS]
    return [_BARRIER if t in ",.;:!?" or t == "but" else t for t in _TOKEN.findall(text)]


def _parse_phrase(text: str) -> _Phrase:
    words: list[str] = []
    for part in text.lower().replace("'", "").split():
        if part == "*":
            words.append("*")
            continue
        prefix = part.endswith("*")
        core = [t for t in _tokens(part.rstrip("*")) if t != _BARRIER]
        if prefix and core:
            core[-1] += "*"
        words.extend(core)
    return _Phrase(tuple(words))


@cache
def _rules(language: str) -> _Rules:
    data = content.load(f"{language}/safety.toml")

    def phrases(raw: Sequence[str]) -> tuple[_Phrase, ...]:
        return tuple(_parse_phrase(p) for p in raw)

    flags = tuple(
        _Flag(
            id=raw["id"],
            urgent=bool(raw.get("urgent", True)),
            advice=" ".join(raw["advice"].split()),
            phrases=phrases(raw.get("phrases", [])),
            any_=phrases(raw.get("any", [])),
            with_=phrases(raw.get("with", [])),
            unless=phrases(raw.get("unless", [])),
            check_negation=bool(raw.get("check_negation", True)),
        )
        for raw in data["flag"]
    )
    settings = data.get("settings", {})
    return _Rules(
        flags=flags,
        negations=frozenset(settings.get("negations", [])),
        window=int(settings.get("negation_window", 3)),
        absent_advice=" ".join(data[MENTIONED_ABSENT]["advice"].split()),
    )


def _language(locale: str) -> str:
    return content.language(locale)


def _negated(tokens: Sequence[str], start: int, rules: _Rules) -> bool:
    for token in reversed(tokens[max(0, start - rules.window) : start]):
        if token == _BARRIER:
            return False
        if token in rules.negations:
            return True
    return False


def _occurrences(
    phrases: Sequence[_Phrase],
    tokens: Sequence[str],
    where: dict[str, list[int]],
    rules: _Rules,
    check: bool,
) -> tuple[bool, bool]:
    """(some plain mention, some negated mention) of any of the phrases."""
    plain = negated = False
    for phrase in phrases:
        for start in phrase.starts(tokens, where):
            if check and _negated(tokens, start, rules):
                negated = True
            else:
                plain = True
    return plain, negated


def red_flag(text: str, locale: str = "en-US") -> str | None:
    """The id of the first red flag the text raises, `MENTIONED_ABSENT`, or None.

    `MENTIONED_ABSENT` means a red-flag symptom was mentioned only to deny it ("no numbness"):
    not urgent, but worth the gentle pointer from `advice`.
    """
    rules = _rules(_language(locale))
    base = _tokens(text)
    where: dict[str, list[int]] = {}
    for i, token in enumerate(base):
        where.setdefault(token, []).append(i)
    absent = False
    for flag in rules.flags:
        tokens = list(base)
        for phrase in flag.unless:
            for start in phrase.starts(base, where):
                tokens[start : start + len(phrase.words)] = [""] * len(phrase.words)
        plain, negated = _occurrences(flag.phrases, tokens, where, rules, flag.check_negation)
        if plain:
            return flag.id
        absent = absent or negated
        if flag.any_ and flag.with_:
            any_plain, any_negated = _occurrences(
                flag.any_, tokens, where, rules, flag.check_negation
            )
            if any_plain:
                with_plain, with_negated = _occurrences(
                    flag.with_, tokens, where, rules, flag.check_negation
                )
                if with_plain:
                    return flag.id
                absent = absent or with_negated
            absent = absent or any_negated
    return MENTIONED_ABSENT if absent else None


def advice(flag_id: str, locale: str = "en-US") -> str:
    """What the skill says for a flag id from `red_flag` (plain text; escape it for SSML)."""
    rules = _rules(_language(locale))
    if flag_id == MENTIONED_ABSENT:
        return rules.absent_advice
    for flag in rules.flags:
        if flag.id == flag_id:
            return flag.advice
    raise KeyError(flag_id)


def is_urgent(flag_id: str, locale: str = "en-US") -> bool:
    """True when the skill should stop and send the person to a doctor rather than stretch."""
    if flag_id == MENTIONED_ABSENT:
        return False
    rules = _rules(_language(locale))
    return any(flag.urgent for flag in rules.flags if flag.id == flag_id)


def flag_ids(locale: str = "en-US") -> list[str]:
    return [flag.id for flag in _rules(_language(locale)).flags]
