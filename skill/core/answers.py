"""Answers to spoken questions about morning back pain, drawn from the knowledge base.

Pure Python, no ask-sdk. Retrieval is BM25 over each item's question phrasings and topic, with
the answer text at a lower weight, after light stemming and synonym folding (both defined in
content/<lang>/knowledge.toml so they can be tuned without touching code). A confidence gate
rejects questions whose important words the best item does not cover, so the skill says it does
not know rather than guessing.

Nothing is read at import. The knowledge file is parsed on first use and the index is built on
the first `match`, so a Lambda cold start that never answers a question pays for neither.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.core import content

# The term every off-topic word is folded into; no word can produce it, so no item contains it.
OFF_TOPIC = "<off topic>"

_log = logging.getLogger(__name__)
_unanswered_log = logging.getLogger("skill.core.answers.unanswered")

# BM25 parameters; the usual defaults suit short documents like these.
_K1 = 1.2
_B = 0.75
# How much an item's spoken answer counts against its questions and topic when matching.
_ANSWER_WEIGHT = 0.3
# How much the single closest stored phrasing adds to the item's own score.
_PHRASING_WEIGHT = 0.5
# An answer is given only if the best item covers at least this share of the question's
# information (IDF-weighted; a word the knowledge base never uses counts as rare) ...
_MIN_COVERAGE = 0.5
# ... and its BM25 score clears this floor, so one common word ("back") is not enough.
_MIN_SCORE = 1.4
# Longest question we look at: Alexa's slot values stop at 140 characters anyway.
_MAX_QUESTION_CHARS = 300


@dataclass(frozen=True)
class Answer:
    id: str
    topic: str
    short: str
    more: str
    score: float
    step: str | None


@dataclass(frozen=True)
class Match:
    """What `AnswerBook.explain` found: the answer (its score is the coverage) and why."""

    answer: Answer
    bm25: float
    coverage: float
    confident: bool


def log_unanswered(question: str) -> None:
    """Record a question the knowledge base could not answer, only if an operator turned it on
    (SKILL_LOG_UNANSWERED=1), and then minimised: no names, numbers, addresses, emails or phone
    numbers (skill.core.redact), never who asked. Off, nothing a person says reaches any log."""
    from skill.core import redact  # here, so this hunk stays in this function

    if redact.logging_enabled():
        _unanswered_log.info("%s", redact.minimise(question[: 4 * _MAX_QUESTION_CHARS]))


# ---------------------------------------------------------------------------------------------
# Text normalisation


_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case words; apostrophes vanish so "don't" and "dont" (as Alexa may hear it) agree."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    return _WORD.findall(text)


# Words whose ending only looks like a suffix ("news" is not the plural of "new").
_UNSTEMMED = frozenset({"news", "always", "series", "species", "lens", "yes"})


def stem(word: str) -> str:
    """A light English suffix stripper: enough to make "stretches" and "stretching" meet.

    Deliberately conservative (no "-er", no "-al"): an over-eager stemmer merges words that a
    back-pain question must keep apart, such as "shoulder" and "should".
    """
    if len(word) <= 3 or not word.isalpha() or word in _UNSTEMMED:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ness", "ment", "ful", "ing", "ed", "ly"):
        if not word.endswith(suffix):
            continue
        root = word[: -len(suffix)]
        if len(root) >= (4 if suffix == "ly" else 3) and any(v in root for v in "aeiouy"):
            word = root
            # "sitting" -> "sitt" -> "sit"; keep the double in "rolled", "pressed", "stiffed".
            if suffix in ("ing", "ed") and word[-1] == word[-2] and word[-1] not in "lsfz":
                word = word[:-1]
        break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


class _Normaliser:
    """Words -> stems, with synonym phrases folded to one term and stop words dropped.

    Phrases are matched on the full word sequence, stop words included, so "on my side" stays a
    phrase while "my" alone carries no weight.
    """

    def __init__(
        self,
        stopwords: Iterable[str],
        synonym_groups: Iterable[Sequence[str]],
        off_topic: Sequence[str] = (),
    ):
        self._stop = {w for s in stopwords for w in words(s)}
        self._phrases: dict[tuple[str, ...], str] = {}
        for group in [[OFF_TOPIC, *off_topic], *synonym_groups]:
            canonical = group[0] if group[0] == OFF_TOPIC else "_".join(map(stem, words(group[0])))
            for variant in group:
                key = tuple(stem(w) for w in words(variant))
                if self._phrases.get(key, canonical) != canonical:
                    # Two groups claiming one word would make matching depend on file order.
                    raise ValueError(f"synonym {variant!r} is in two groups")
                if key:
                    self._phrases[key] = canonical
        self._longest = max((len(k) for k in self._phrases), default=1)

    def terms(self, text: str) -> list[str]:
        raw = words(text[: _MAX_QUESTION_CHARS * 4])
        stems = [stem(w) for w in raw]
        out: list[str] = []
        i = 0
        while i < len(stems):
            for n in range(min(self._longest, len(stems) - i), 0, -1):
                canonical = self._phrases.get(tuple(stems[i : i + n]))
                if canonical is not None and not (n == 1 and raw[i] in self._stop):
                    out.append(canonical)
                    i += n
                    break
            else:
                if raw[i] not in self._stop:
                    out.append(stems[i])
                i += 1
        return out


# ---------------------------------------------------------------------------------------------
# The index


class _BM25:
    """Okapi BM25 over documents given as weighted term counts."""

    def __init__(self, docs: Sequence[dict[str, float]]):
        self.tf = list(docs)
        lengths = [sum(tf.values()) for tf in self.tf]
        avg = sum(lengths) / max(len(lengths), 1)
        self.norm = [_K1 * (1 - _B + _B * length / avg) for length in lengths]
        df: Counter[str] = Counter(t for tf in self.tf for t in tf)
        n = len(self.tf)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1) for t, f in df.items()}
        self.postings: dict[str, list[int]] = {}
        for doc_id, tf in enumerate(self.tf):
            for term in tf:
                self.postings.setdefault(term, []).append(doc_id)

    def scores(self, terms: Iterable[str]) -> dict[int, float]:
        out: dict[int, float] = {}
        for term in terms:
            idf = self.idf.get(term)
            if idf is None:
                continue
            for doc_id in self.postings[term]:
                f = self.tf[doc_id][term]
                out[doc_id] = out.get(doc_id, 0.0) + idf * f * (_K1 + 1) / (f + self.norm[doc_id])
        return out


def _counts(phrases: Iterable[list[str]], weight: float = 1.0) -> dict[str, float]:
    tf: dict[str, float] = {}
    for phrase in phrases:
        for term in phrase:
            tf[term] = tf.get(term, 0.0) + weight
    return tf


class _Index:
    """Two BM25 views of the same items, added together.

    The item view (all phrasings, topic and, lightly, the answer) rewards a question that shares
    the item's vocabulary; the phrasing view (each stored question on its own) rewards a question
    that closely paraphrases one way of asking it.
    """

    def __init__(self, docs: Sequence[tuple[list[list[str]], list[str]]]):
        """docs: per item, (terms of the topic and of each question, answer terms), normalised."""
        items = []
        phrasings = []
        self.owner: list[int] = []
        for item_id, (asked, answered) in enumerate(docs):
            tf = _counts(asked)
            for term, f in _counts([answered], _ANSWER_WEIGHT).items():
                tf[term] = tf.get(term, 0.0) + f
            items.append(tf)
            for phrase in asked:
                phrasings.append(_counts([phrase]))
                self.owner.append(item_id)
        self.items = _BM25(items)
        self.phrasings = _BM25(phrasings)
        # The words people use to ask about any item define what the knowledge base is about;
        # an item's own answer adds the words it can speak to. A question is covered by these.
        asked_anywhere = frozenset(t for tf in phrasings for t in tf)
        self.vocab = [asked_anywhere | frozenset(answered) for _, answered in docs]
        # A word no item uses is as informative as the rarest possible one.
        self.unseen_idf = math.log((len(items) + 0.5) / 0.5 + 1)

    def best(self, terms: list[str]) -> tuple[int, float, float] | None:
        """(item index, score, coverage) of the best item, or None when nothing overlaps."""
        unique = list(dict.fromkeys(terms))
        scores = self.items.scores(unique)
        if not scores:
            return None
        closest: dict[int, float] = {}
        for doc_id, score in self.phrasings.scores(unique).items():
            item = self.owner[doc_id]
            closest[item] = max(closest.get(item, 0.0), score)
        for item, score in closest.items():
            scores[item] = scores.get(item, 0.0) + _PHRASING_WEIGHT * score
        doc_id = max(scores, key=lambda d: (scores[d], -d))
        weights = {t: self.items.idf.get(t, self.unseen_idf) for t in unique}
        if OFF_TOPIC in weights:
            weights[OFF_TOPIC] = 2 * self.unseen_idf
        total = sum(weights.values())
        covered = sum(w for t, w in weights.items() if t in self.vocab[doc_id])
        return doc_id, scores[doc_id], covered / total if total else 0.0


# ---------------------------------------------------------------------------------------------
# The public face


class AnswerBook:
    """The knowledge base of one language: look answers up by question, by step, or by id."""

    _cache: dict[str, AnswerBook] = {}
    _cache_lock = threading.Lock()

    def __init__(self, read: Callable[[], dict[str, Any]], name: str = "knowledge"):
        """``read`` returns the parsed knowledge file; it is called on first use."""
        self._read = read
        self._name = name
        self._lock = threading.Lock()
        self._items: dict[str, Answer] | None = None
        self._by_step: dict[str, Answer] = {}
        self._questions: dict[str, list[str]] = {}
        self._matching: dict = {}
        self._normaliser: _Normaliser | None = None
        self._index: _Index | None = None
        self._order: list[str] = []

    @classmethod
    def for_locale(cls, locale: str) -> AnswerBook:
        """The book for a locale such as "en-US": every English locale shares content/en."""
        language = content.language(locale)
        with cls._cache_lock:
            book = cls._cache.get(language)
            if book is None:
                relative = f"{language}/knowledge.toml"
                book = cls._cache[language] = cls(lambda: content.load(relative), relative)
            return book

    @classmethod
    def from_file(cls, path: Path) -> AnswerBook:
        """A book straight from a knowledge TOML file (tools and tests; the skill reads the
        bundle). The file is read on first use."""

        def read() -> dict[str, Any]:
            import tomllib

            with path.open("rb") as handle:
                return tomllib.load(handle)

        return cls(read, str(path))

    # -- lookups ----------------------------------------------------------------------------

    def match(self, question: str) -> Answer | None:
        """The best answer to a question or a SearchQuery fragment, or None when unsure.

        Pure: a miss is not logged here; the caller decides, with `log_unanswered`, so that a
        question is logged once however many books or retries it went through.
        """
        found = self.explain(question)
        if found is None or not found.confident:
            return None
        return found.answer

    def explain(self, question: str) -> Match | None:
        """The top-ranked item and the numbers behind the confidence gate (for eval and tuning)."""
        index, normaliser = self._ensure_index()
        terms = normaliser.terms(question)
        found = index.best(terms) if terms else None
        if found is None:
            return None
        doc_id, score, coverage = found
        item = self._items_map()[self._order[doc_id]]
        return Match(
            answer=_with_score(item, coverage),
            bm25=score,
            coverage=coverage,
            confident=coverage >= _MIN_COVERAGE and score >= _MIN_SCORE,
        )

    def for_step(self, movement_id: str) -> Answer | None:
        """Why a routine step is there, for "why am I doing this?" during that step."""
        self._items_map()
        return self._by_step.get(movement_id)

    def get(self, item_id: str) -> Answer | None:
        return self._items_map().get(item_id)

    def ids(self) -> list[str]:
        return list(self._items_map())

    def questions(self, item_id: str) -> list[str]:
        """The stored phrasings of an item (the eval uses them to spot verbatim test questions)."""
        self._items_map()
        return list(self._questions.get(item_id, []))

    # -- loading ----------------------------------------------------------------------------

    def _items_map(self) -> dict[str, Answer]:
        if self._items is None:
            with self._lock:
                if self._items is None:
                    self._load()
        assert self._items is not None
        return self._items

    def _load(self) -> None:
        data = self._read()
        items: dict[str, Answer] = {}
        for raw in data["item"]:
            answer = Answer(
                id=raw["id"],
                topic=raw["topic"],
                short=" ".join(raw["short"].split()),
                more=" ".join(raw["more"].split()),
                score=1.0,
                step=raw.get("step"),
            )
            if answer.id in items:
                raise ValueError(f"{self._name}: duplicate item id {answer.id!r}")
            items[answer.id] = answer
            self._questions[answer.id] = list(raw["questions"])
            if answer.step:
                self._by_step[answer.step] = answer
        self._matching = data.get("matching", {})
        self._order = list(items)
        self._items = items

    def _ensure_index(self) -> tuple[_Index, _Normaliser]:
        items = self._items_map()
        if self._index is None or self._normaliser is None:
            with self._lock:
                if self._index is None:
                    normaliser = _Normaliser(
                        self._matching.get("stopwords", []),
                        self._matching.get("synonyms", []),
                        self._matching.get("off_topic", []),
                    )
                    docs = []
                    for item_id in self._order:
                        item = items[item_id]
                        asked = [
                            normaliser.terms(text)
                            for text in (item.topic, *self._questions[item_id])
                        ]
                        # An answer may mention the neck in passing; that must not make it
                        # an answer to questions about the neck.
                        answered = [
                            t
                            for t in normaliser.terms(f"{item.short} {item.more}")
                            if t != OFF_TOPIC
                        ]
                        docs.append((asked, answered))
                    self._normaliser = normaliser
                    self._index = _Index(docs)
        assert self._index is not None and self._normaliser is not None
        return self._index, self._normaliser


def _with_score(item: Answer, score: float) -> Answer:
    return Answer(item.id, item.topic, item.short, item.more, round(score, 4), item.step)
