"""Answers to what people ask or tell the skill about morning back pain, from the knowledge base.

Pure Python, no ask-sdk, no numpy. Each item of content/<lang>/knowledge.toml is found by what
people say about it: its questions, its first-person statements ("my new mattress is no help")
and its topic. Two measures are added together:

* lexical: BM25 over those phrasings (the answer text counts lightly), after Snowball stemming
  (snowballstemmer) and synonym folding defined in the knowledge file's [matching] table;
* semantic: the cosine between what was said and each item's centroid, in static word vectors
  distilled at build time from a sentence-transformer (skill/core/wordvectors.py), so "my mattress
  has a dip" finds the mattress even when the words are new.

A gate then decides whether the best item is an answer at all: what was said must be close enough
in meaning and share enough words, and a question about another part of the body (the neck, a
heel) is declined. When the two best items are close, `choose` offers both instead of guessing.

Nothing is read at import. The knowledge is parsed on first use and the index built on the first
`match`; the item centroids come precomputed in the bundle (tools/model.py), so the first question
of a process reads the vector table and adds up a few words, nothing more.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import add
from pathlib import Path
from typing import Any

from skill.core import content
from skill.core.stems import learn_stems, stem
from skill.core.wordvectors import WordVectors, dot, normalised

# The term every off-topic word is folded into; no word can produce it, so no item contains it.
OFF_TOPIC = "<off topic>"
# The same for what the article never covers even about the back (doses, surgery): naming the
# back does not bring these back on topic.
NOT_COVERED = "<not covered>"
_MARKERS = frozenset({OFF_TOPIC, NOT_COVERED})
#: The static word vectors, beside the compiled bundle.
VECTORS_PATH = content.BUNDLE_DIR / "wordvectors.bin"

_log = logging.getLogger(__name__)
_unanswered_log = logging.getLogger("skill.core.answers.unanswered")

# BM25 parameters; the usual defaults suit short documents like these.
_K1 = 1.2
_B = 0.75
# How much an item's spoken answer counts against its phrasings and topic when matching.
_ANSWER_WEIGHT = 0.3
# How much the single closest stored phrasing adds to the item's own score.
_PHRASING_WEIGHT = 0.5
# How much one point of BM25 counts against the cosine (which runs from -1 to 1) in the sum that
# ranks the items. Tuned on tests/eval/sets/tuning and the kept set (never the frozen split): on
# the tuning split the cosine alone put the right item first for 46%, BM25 alone 63%, the sum 71%.
_LEXICAL_WEIGHT = 0.04
# The gate: an item is an answer when its confidence, the cosine plus the IDF-weighted share of
# the words said that the item knows plus a little of its BM25 (capped, so a long ramble cannot
# buy its way in), reaches the floor. First fitted (a logistic regression, then rounded) on the
# tuning split and the kept set; refitted by a grid search on the tunable splits (tuning and
# round1) and the kept set, keeping at least 95% of each set's out-of-scope utterances declined.
_GATE_COVERAGE = 1.0
_GATE_LEXICAL = 0.1
_GATE_LEXICAL_CAP = 15.0
_MIN_CONFIDENCE = 1.8
# In the share of words known, a word the knowledge base never uses counts this much of the
# rarest possible word's weight, and a known word at least this much: people add words of their
# own ("why oh why", "a heavyweight boxer") and one such word must not outweigh "mattress".
_UNSEEN_SHARE = 0.7
_MIN_WORD_WEIGHT = 1.5
# Two answers whose ranking scores are this close are both offered ("did you mean X, or Y?"):
# wider, and more right answers given first time turn into questions than wrong ones are saved.
_CHOICE_MARGIN = 0.01
# ... or this close when the person named two things themselves ("my mattress or my pillows";
# widened from 0.1 when the facets spread the scores a little further apart).
_EITHER_OR_MARGIN = 0.12
# An item's phrasings cover several ways of putting it ("my mattress sags", "I sleep fine in a
# hotel"), and their single mean blurs them: each item also has this many facets, the centres of
# its phrasings grouped by k-means, and its similarity is the centroid's cosine and the closest
# facet's, half and half. On the tunable splits this put the right item first a few points more
# often (tools/model.py stores the facets in the bundle). Only the best few items by centroid
# and BM25 are compared with their facets: a handful of dot products per question, not a few
# hundred per new word.
_FACETS = 4
_FACET_WEIGHT = 0.5
_FACET_CANDIDATES = 6
# How many tokens' dot products with the item centroids are kept once computed (41 floats each).
_TOKENS_KEPT = 8192
# Longest question we look at: Alexa's slot values stop at 140 characters anyway.
_MAX_QUESTION_CHARS = 300
# Words that say the back is what the question is about, even when another body part is named
# ("lying on my back with a pillow under my head" is about the back; "a stiff neck" is not).
_BACK_WORDS = frozenset({"back", "backs", "backache", "spine", "spinal", "lumbar"})


@dataclass(frozen=True)
class Answer:
    id: str
    topic: str
    short: str
    more: str
    score: float
    step: str | None
    #: A few spoken words naming the item, for "Did you mean X, or Y?".
    label: str = ""


@dataclass(frozen=True)
class Match:
    """What `AnswerBook.explain` found: the best answer (its score is the cosine), the numbers
    behind the ranking (``score``) and the gate, and the runner-up if it too passes the gate."""

    answer: Answer
    bm25: float
    coverage: float
    confident: bool
    similarity: float = 0.0
    score: float = 0.0
    runner_up: Answer | None = None
    runner_up_score: float = 0.0
    off_topic: bool = False


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
        not_covered: Sequence[str] = (),
    ):
        self._stop = {w for s in stopwords for w in words(s)}
        self._phrases: dict[tuple[str, ...], str] = {}
        for group in [[OFF_TOPIC, *off_topic], [NOT_COVERED, *not_covered], *synonym_groups]:
            canonical = group[0] if group[0] in _MARKERS else "_".join(map(stem, words(group[0])))
            for variant in group:
                key = tuple(stem(w) for w in words(variant))
                if self._phrases.get(key, canonical) != canonical:
                    # Two groups claiming one word would make matching depend on file order.
                    raise ValueError(f"synonym {variant!r} is in two groups")
                if key:
                    self._phrases[key] = canonical
        # The longest phrase that starts with each stem: most words start none, and then one
        # lookup is enough.
        self._longest: dict[str, int] = {}
        for key in self._phrases:
            self._longest[key[0]] = max(self._longest.get(key[0], 0), len(key))

    def terms(self, text: str) -> list[str]:
        return self.split(words(text[: _MAX_QUESTION_CHARS * 4]))

    def split(self, raw: list[str]) -> list[str]:
        stems = [stem(w) for w in raw]
        out: list[str] = []
        i = 0
        while i < len(stems):
            for n in range(min(self._longest.get(stems[i], 0), len(stems) - i), 0, -1):
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


class _Ranked:
    """Every item's scores for one utterance, best first."""

    def __init__(self, order: list[int], total: list[float], lexical: list[float],
                 similarity: list[float], coverage: Callable[[int], float], off_topic: bool):
        self.order = order
        self.total = total
        self.lexical = lexical
        self.similarity = similarity
        self.coverage = coverage
        self.off_topic = off_topic

    def confidence(self, item: int) -> float:
        lexical = min(self.lexical[item], _GATE_LEXICAL_CAP)
        return self.similarity[item] + _GATE_COVERAGE * self.coverage(item) \
            + _GATE_LEXICAL * lexical

    def sure(self, item: int) -> bool:
        """Whether this item is an answer at all (the gate)."""
        return not self.off_topic and self.confidence(item) >= _MIN_CONFIDENCE


class _Index:
    """BM25 over the items (all phrasings, topic and, lightly, the answer) and over each
    phrasing on its own, plus each item's centroid in the word-vector space."""

    def __init__(self, docs: Sequence[tuple[list[list[str]], list[str]]],
                 centroids: Sequence[Sequence[float]], table: WordVectors,
                 facets: Sequence[Sequence[tuple[float, Sequence[float]]]] = ()):
        """docs: per item, (terms of the topic and of each phrasing, answer terms), normalised;
        centroids: per item, its unit vector; facets: per item, a few unit vectors, each as
        (scale, components) (none: the centroid alone)."""
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
        # The words people use about any item define what the knowledge base is about; an
        # item's own answer adds the words it can speak to. A question is covered by these.
        asked_anywhere = frozenset(t for tf in phrasings for t in tf)
        self.vocab = [asked_anywhere | frozenset(answered) for _, answered in docs]
        # A word no item uses is as informative as the rarest possible one.
        self.unseen_idf = math.log((len(items) + 0.5) / 0.5 + 1)
        self.centroids = [list(c) for c in centroids]
        self.facets = [list(item_facets) for item_facets in facets]
        # Each item's facets as plain floats, made on the item's first use: a float dot product
        # is twice as fast as one over int8, and most items are never a candidate.
        self._facet_floats: dict[int, list[list[float]]] = {}
        self.table = table
        self._token_dots: dict[int, array[float]] = {}

    def rank(self, raw: list[str], terms: list[str]) -> _Ranked | None:
        unique = list(dict.fromkeys(terms))
        n = len(self.centroids)
        lexical = [0.0] * n
        for doc_id, score in self.items.scores(unique).items():
            lexical[doc_id] += score
        closest = [0.0] * n
        for doc_id, score in self.phrasings.scores(unique).items():
            item = self.owner[doc_id]
            closest[item] = max(closest[item], score)
        lexical = [s + _PHRASING_WEIGHT * c for s, c in zip(lexical, closest, strict=True)]
        found = self._similarity(raw)
        if found is None and not any(lexical):
            return None
        similarity, said = found or ([0.0] * n, None)
        total = [s + _LEXICAL_WEIGHT * x for s, x in zip(similarity, lexical, strict=True)]
        order = sorted(range(n), key=lambda i: (-total[i], i))
        if said is not None and self.facets:
            for i in order[:_FACET_CANDIDATES]:
                facet = max(dot(said, f) for f in self._facets_of(i))
                similarity[i] = (1 - _FACET_WEIGHT) * similarity[i] + _FACET_WEIGHT * facet
                total[i] = similarity[i] + _LEXICAL_WEIGHT * lexical[i]
            order = sorted(range(n), key=lambda i: (-total[i], i))
        unseen = _UNSEEN_SHARE * self.unseen_idf
        weights = {t: max(self.items.idf.get(t, unseen), _MIN_WORD_WEIGHT) for t in unique}
        for marker in _MARKERS & weights.keys():
            weights[marker] = 2 * self.unseen_idf
        all_weight = sum(weights.values())

        def coverage(item: int) -> float:
            covered = sum(w for t, w in weights.items() if t in self.vocab[item])
            return covered / all_weight if all_weight else 0.0

        off_topic = NOT_COVERED in weights or (OFF_TOPIC in weights and not _BACK_WORDS & set(raw))
        return _Ranked(order, total, lexical, similarity, coverage, off_topic)


    def _facets_of(self, item: int) -> list[list[float]]:
        found = self._facet_floats.get(item)
        if found is None:
            found = [[scale * v for v in f] for scale, f in self.facets[item]]
            self._facet_floats[item] = found
        return found

    def _similarity(self, raw: list[str]) -> tuple[list[float], list[float]] | None:
        """The cosine between what was said and every item's centroid, and what was said as a
        unit vector. The sentence vector is a sum of token vectors, so each item's dot product
        is the sum of the tokens' dot products with it: those are computed once per token and
        kept, and a warm question costs a few additions per word and one norm instead of a dot
        product per item."""
        tokens = self.table.tokens(raw)
        said = self.table.sum(tokens)
        if said is None:
            return None
        norm = math.sqrt(dot(said, said))
        if not norm:
            return None
        total = [0.0] * len(self.centroids)
        for token in tokens:
            dots = self._token_dots.get(token)
            if dots is None:
                row = self.table.row(token)
                dots = array("d", (dot(row, c) for c in self.centroids))
                if len(self._token_dots) < _TOKENS_KEPT:
                    self._token_dots[token] = dots
            total = list(map(add, total, dots))
        return [t / norm for t in total], [v / norm for v in said]


def _normaliser(data: dict[str, Any]) -> _Normaliser:
    matching = data.get("matching", {})
    return _Normaliser(matching.get("stopwords", []), matching.get("synonyms", []),
                       matching.get("off_topic", []), matching.get("not_covered", []))


def index_terms(data: dict[str, Any], normaliser: _Normaliser | None = None
                ) -> dict[str, dict[str, list[Any]]]:
    """Per item, the normalised terms of its topic and each phrasing ("asked") and of its
    answers ("answered"): what the index is built from. `make model` stores them in the bundle,
    so a new process stems and folds none of the knowledge file's text."""
    normaliser = normaliser or _normaliser(data)
    out: dict[str, dict[str, list[Any]]] = {}
    for raw in data["item"]:
        phrasings = [raw["topic"], *raw["questions"], *raw.get("statements", [])]
        # An answer may mention the neck in passing; that must not make it an answer to
        # questions about the neck.
        answered = [t for t in normaliser.terms(f"{raw['short']} {raw['more']}")
                    if t not in _MARKERS]
        out[raw["id"]] = {"asked": [normaliser.terms(t) for t in phrasings],
                          "answered": answered}
    return out


def stem_table(data: dict[str, Any]) -> dict[str, str]:
    """The Snowball stem of every word the knowledge file uses, for the bundle."""
    matching = data.get("matching", {})
    texts: list[str] = [OFF_TOPIC, NOT_COVERED, *matching.get("stopwords", []),
                        *matching.get("off_topic", []), *matching.get("not_covered", [])]
    for group in matching.get("synonyms", []):
        texts += group
    for raw in data["item"]:
        texts += [raw["topic"], raw["short"], raw["more"], *raw["questions"],
                  *raw.get("statements", [])]
    return {w: stem(w) for w in sorted({w for t in texts for w in words(t)})}


def _phrasing_vectors(raw: dict[str, Any], table: WordVectors) -> list[list[float]]:
    texts = [raw["topic"], *raw["questions"], *raw.get("statements", [])]
    unit = [normalised(v) for v in (table.embed(words(t)) for t in texts) if v is not None]
    if not unit:
        raise ValueError(f"item {raw['id']!r}: no phrasing has a word vector")
    return unit


def _mean(unit: Sequence[Sequence[float]]) -> list[float]:
    return normalised([sum(column) / len(unit) for column in zip(*unit, strict=True)])


def item_vectors(data: dict[str, Any], table: WordVectors) -> dict[str, list[float]]:
    """Each item's centroid: the mean of its phrasings' unit vectors, made a unit vector again.
    `make model` stores these in the bundle so the skill never computes them."""
    return {raw["id"]: [round(v, 5) for v in _mean(_phrasing_vectors(raw, table))]
            for raw in data["item"]}


def item_facets(data: dict[str, Any], table: WordVectors, k: int = _FACETS,
                rounds: int = 10) -> dict[str, list[list[float]]]:
    """Each item's facets: its phrasings' unit vectors grouped by k-means (the first centre the
    topic, each next the phrasing least like any centre so far, so the result never depends on
    chance), each group's mean a unit vector. Built by `make model`, stored in the bundle."""
    out: dict[str, list[list[float]]] = {}
    for raw in data["item"]:
        unit = _phrasing_vectors(raw, table)
        centres = [unit[0]]
        while len(centres) < min(k, len(unit)):
            centres.append(min(unit, key=lambda v: max(dot(v, c) for c in centres)))
        for _ in range(rounds):
            groups: list[list[list[float]]] = [[] for _ in centres]
            for v in unit:
                groups[max(range(len(centres)), key=lambda j: dot(v, centres[j]))].append(v)
            centres = [_mean(g) if g else centres[j] for j, g in enumerate(groups)]
        out[raw["id"]] = centres
    return out


def pack_facets(facets: dict[str, list[list[float]]]) -> dict[str, list[list[Any]]]:
    """Facets for the bundle: each vector as int8 in base64 with its scale, a sixth of the JSON
    that floats would take, so a new process's first question does not parse 40,000 numbers."""
    import base64

    packed: dict[str, list[list[Any]]] = {}
    for item_id, vectors in facets.items():
        packed[item_id] = []
        for vector in vectors:
            scale = max(map(abs, vector)) / 127 or 1.0
            data = array("b", (round(v / scale) for v in vector)).tobytes()
            packed[item_id].append([scale, base64.b64encode(data).decode("ascii")])
    return packed


def _unpack_facets(packed: dict[str, list[list[Any]]]
                   ) -> dict[str, list[tuple[float, Sequence[float]]]]:
    import base64

    out: dict[str, list[tuple[float, Sequence[float]]]] = {}
    for item_id, vectors in packed.items():
        out[item_id] = []
        for scale, data in vectors:
            components = array("b")
            components.frombytes(base64.b64decode(data))
            out[item_id].append((float(scale), components))
    return out


# ---------------------------------------------------------------------------------------------
# The public face


class AnswerBook:
    """The knowledge base of one language: look answers up by question, by step, or by id."""

    _cache: dict[str, AnswerBook] = {}
    _cache_lock = threading.Lock()
    _tables: dict[Path, WordVectors] = {}

    def __init__(self, read: Callable[[], dict[str, Any]], name: str = "knowledge",
                 vectors: Path = VECTORS_PATH):
        """``read`` returns the parsed knowledge file; it is called on first use."""
        self._read = read
        self._name = name
        self._vectors = vectors
        self._lock = threading.Lock()
        self._items: dict[str, Answer] | None = None
        self._by_step: dict[str, Answer] = {}
        self._questions: dict[str, list[str]] = {}
        self._data: dict[str, Any] = {}
        self._normaliser: _Normaliser | None = None
        self._index: _Index | None = None
        self._order: list[str] = []
        # The last utterance explained: the conversation asks `choose`, then `match`, of the
        # same words, and one lookup should serve both.
        self._last: tuple[str, Match | None] | None = None

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
        bundle). The file is read on first use, and the item centroids computed then."""

        def read() -> dict[str, Any]:
            import tomllib

            with path.open("rb") as handle:
                return tomllib.load(handle)

        return cls(read, str(path))

    # -- lookups ----------------------------------------------------------------------------

    def match(self, question: str) -> Answer | None:
        """The best answer to a question, a statement or a SearchQuery fragment, or None when
        unsure.

        Pure: a miss is not logged here; the caller decides, with `log_unanswered`, so that a
        question is logged once however many books or retries it went through.
        """
        found = self.explain(question)
        if found is None or not found.confident:
            return None
        return found.answer

    def choose(self, question: str) -> tuple[Answer, Answer] | None:
        """The two answers to offer ("Did you mean X, or Y?") when the best two are too close to
        pick one, both are answers in their own right, and both have a label; otherwise None
        (then `match` has the answer, or there is none)."""
        found = self.explain(question)
        if found is None or not found.confident or found.runner_up is None:
            return None
        margin = _EITHER_OR_MARGIN if "or" in words(question) else _CHOICE_MARGIN
        if found.score - found.runner_up_score >= margin:
            return None
        if not (found.answer.label and found.runner_up.label):
            return None
        return found.answer, found.runner_up

    def explain(self, question: str) -> Match | None:
        """The top-ranked item, the numbers behind the gate, and the runner-up if it too would
        pass the gate (for `choose`, the eval and tuning)."""
        last = self._last
        if last is not None and last[0] == question:
            return last[1]
        found = self._explain(question)
        self._last = (question, found)
        return found

    def _explain(self, question: str) -> Match | None:
        index, normaliser = self._ensure_index()
        raw = words(question[: _MAX_QUESTION_CHARS * 4])
        terms = normaliser.split(raw)
        ranked = index.rank(raw, terms) if raw else None
        if ranked is None:
            return None
        items = self._items_map()
        best, second = ranked.order[0], ranked.order[1] if len(ranked.order) > 1 else None
        runner_up = None
        if second is not None and ranked.sure(second):
            runner_up = _with_score(items[self._order[second]], ranked.similarity[second])
        return Match(
            answer=_with_score(items[self._order[best]], ranked.similarity[best]),
            bm25=ranked.lexical[best],
            coverage=ranked.coverage(best),
            confident=ranked.sure(best),
            similarity=ranked.similarity[best],
            score=ranked.total[best],
            runner_up=runner_up,
            runner_up_score=ranked.total[second] if second is not None else 0.0,
            off_topic=ranked.off_topic,
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
        """Every stored phrasing of an item, questions and statements (the eval uses them to
        spot test phrasings copied into the knowledge base)."""
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
                label=" ".join(raw.get("label", "").split()),
            )
            if answer.id in items:
                raise ValueError(f"{self._name}: duplicate item id {answer.id!r}")
            items[answer.id] = answer
            self._questions[answer.id] = [*raw["questions"], *raw.get("statements", [])]
            if answer.step:
                self._by_step[answer.step] = answer
        self._data = data
        self._order = list(items)
        self._items = items

    @classmethod
    def _table(cls, path: Path) -> WordVectors:
        with cls._cache_lock:
            table = cls._tables.get(path)
            if table is None:
                table = cls._tables[path] = WordVectors(path)
            return table

    def _ensure_index(self) -> tuple[_Index, _Normaliser]:
        self._items_map()
        if self._index is None or self._normaliser is None:
            with self._lock:
                if self._index is None:
                    learn_stems(self._data.get("stems", {}))
                    normaliser = _normaliser(self._data)
                    terms = self._data.get("terms") or index_terms(self._data, normaliser)
                    docs = [(terms[i]["asked"], terms[i]["answered"]) for i in self._order]
                    table = self._table(self._vectors)
                    stored = self._data.get("vectors") or item_vectors(self._data, table)
                    centroids = [stored[item_id] for item_id in self._order]
                    # Packed as the bundle packs them, so a file and its bundle answer alike.
                    packed = self._data.get("facets") or pack_facets(
                        item_facets(self._data, table))
                    grouped = _unpack_facets(packed)
                    facets = [grouped[item_id] for item_id in self._order]
                    self._normaliser = normaliser
                    self._index = _Index(docs, centroids, table, facets)
        assert self._index is not None and self._normaliser is not None
        return self._index, self._normaliser


def _with_score(item: Answer, score: float) -> Answer:
    return Answer(item.id, item.topic, item.short, item.more, round(score, 4), item.step,
                  item.label)
