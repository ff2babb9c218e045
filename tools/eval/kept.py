"""Score the question answering and the red-flag check on the project's question set.

`python -m tools eval` (or `python -m tools.eval`) prints top-1 accuracy, out-of-scope rejection
and red-flag recall, side by side with a baseline: plain BM25 (no stemming, no synonyms, no stop
words, no threshold) over the source article's paragraphs. It lists every failing question and
exits non-zero when a threshold is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skill.core.answers import AnswerBook, words
from skill.core.safety import is_urgent, red_flag

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_QUESTIONS = REPO_ROOT / "tests" / "eval" / "questions.toml"
# The source article is kept in the shared folder beside the repository, not in it.
ARTICLE_ENV = "SKILL_ARTICLE"
ARTICLE_CANDIDATES = (
    REPO_ROOT.parent / "shared" / "source" / "morning-back-pain-article.txt",
    Path("/work/shared/source/morning-back-pain-article.txt"),
)

MIN_TOP1 = 0.90
MIN_RED_FLAG_RECALL = 1.0
MIN_OUT_OF_SCOPE_REJECTION = 0.95


@dataclass
class Score:
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def add(self, ok: bool, failure: str) -> None:
        self.total += 1
        self.passed += ok
        if not ok:
            self.failures.append(failure)


@dataclass
class Report:
    top1: Score
    rejection: Score
    red_flags: Score
    false_alarms: list[str]
    verbatim: int
    baseline_top1: Score | None
    baseline_rejection: Score | None
    baseline_paragraphs: int

    @property
    def ok(self) -> bool:
        return (
            self.top1.rate >= MIN_TOP1
            and self.red_flags.rate >= MIN_RED_FLAG_RECALL
            and self.rejection.rate >= MIN_OUT_OF_SCOPE_REJECTION
        )


# ---------------------------------------------------------------------------------------------
# The baseline: what a plain search over the article would do


def paragraphs(article: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", article) if p.strip()]


class PlainBM25:
    """Textbook BM25 over whitespace-and-punctuation words: no stemming, synonyms or stop words."""

    def __init__(self, docs: Sequence[str], k1: float = 1.2, b: float = 0.75):
        self.tf = [Counter(words(d)) for d in docs]
        lengths = [sum(tf.values()) for tf in self.tf]
        avg = sum(lengths) / len(lengths)
        self.norm = [k1 * (1 - b + b * n / avg) for n in lengths]
        self.k1 = k1
        df = Counter(t for tf in self.tf for t in tf)
        n = len(docs)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1) for t, f in df.items()}

    def top(self, query: str) -> int | None:
        """Index of the best paragraph; None only when no paragraph shares a word."""
        scores = [0.0] * len(self.tf)
        for term in words(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in enumerate(self.tf):
                f = tf.get(term, 0)
                if f:
                    scores[i] += idf * f * (self.k1 + 1) / (f + self.norm[i])
        best = max(range(len(scores)), key=lambda i: scores[i])
        return best if scores[best] > 0 else None


def _support(paras: Sequence[str], keys: Sequence[str]) -> set[int]:
    found = set()
    for key in keys:
        hits = {i for i, p in enumerate(paras) if " ".join(key.split()) in p}
        if not hits:
            raise ValueError(f"baseline support text not found in the article: {key!r}")
        found |= hits
    return found


def _find_article(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    if os.environ.get(ARTICLE_ENV):
        return Path(os.environ[ARTICLE_ENV])
    return next((p for p in ARTICLE_CANDIDATES if p.is_file()), None)


# ---------------------------------------------------------------------------------------------
# The run


def run(
    questions: Path = DEFAULT_QUESTIONS, locale: str = "en-US", article: Path | None = None
) -> Report:
    with questions.open("rb") as f:
        data = tomllib.load(f)
    book = AnswerBook.for_locale(locale)
    known = {" ".join(words(q)) for item_id in book.ids() for q in book.questions(item_id)}

    top1, rejection, flags = Score(), Score(), Score()
    false_alarms: list[str] = []
    verbatim = 0
    for expected, asked in data["in_scope"].items():
        if book.get(expected) is None:
            raise ValueError(f"{questions}: no knowledge item {expected!r}")
        for q in asked:
            verbatim += " ".join(words(q)) in known
            found = book.explain(q)
            got = found.answer.id if found and found.confident else None
            guess = (
                f"best guess {found.answer.id} at {found.coverage:.2f}, below threshold"
                if found and not found.confident
                else f"got {got}"
            )
            top1.add(got == expected, f"{q!r}: expected {expected}, {guess}")
    for q in data["out_of_scope"]["questions"]:
        answered = book.match(q)
        rejection.add(answered is None,
                      f"{q!r}: should be rejected, answered {answered and answered.id}")
    for expected, said in data["red_flags"].items():
        for q in said:
            flag = red_flag(q, locale)
            ok = flag is not None and is_urgent(flag, locale)
            flags.add(ok, f"{q!r}: expected red flag {expected}, got {flag}")
    everyday = [q for qs in data["in_scope"].values() for q in qs]
    everyday += data["out_of_scope"]["questions"]
    for q in everyday:
        flag = red_flag(q, locale)
        if flag is not None and is_urgent(flag, locale):
            false_alarms.append(f"{q!r}: raised {flag}")

    base_top1 = base_reject = None
    n_paras = 0
    article_path = article if article is not None else _find_article(None)
    if article_path is not None and article_path.is_file():
        paras = paragraphs(article_path.read_text(encoding="utf-8"))
        n_paras = len(paras)
        bm25 = PlainBM25(paras)
        support = {k: _support(paras, v) for k, v in data["baseline"].items()}
        base_top1, base_reject = Score(), Score()
        for expected, asked in data["in_scope"].items():
            for q in asked:
                top = bm25.top(q)
                base_top1.add(top in support.get(expected, set()), f"{q!r}: paragraph {top}")
        for q in data["out_of_scope"]["questions"]:
            base_reject.add(bm25.top(q) is None, f"{q!r}: answered")
    return Report(top1, rejection, flags, false_alarms, verbatim, base_top1, base_reject, n_paras)


def _pct(score: Score | None) -> str:
    return "n/a" if score is None else f"{100 * score.rate:.1f}% ({score.passed}/{score.total})"


def format_report(report: Report) -> str:
    rows = [
        ("top-1 accuracy, in scope", _pct(report.top1), _pct(report.baseline_top1)),
        ("out-of-scope rejection", _pct(report.rejection), _pct(report.baseline_rejection)),
        ("red-flag recall", _pct(report.red_flags), "n/a, no red-flag check"),
    ]
    base_title = (
        f"plain BM25, {report.baseline_paragraphs} article paragraphs"
        if report.baseline_top1
        else "baseline skipped: article not found"
    )
    header = ("metric", "this skill", base_title)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    out.append("")
    out.append(
        f"Thresholds: top-1 >= {MIN_TOP1:.0%}, out-of-scope rejection >= "
        f"{MIN_OUT_OF_SCOPE_REJECTION:.0%}, red-flag recall >= {MIN_RED_FLAG_RECALL:.0%}."
    )
    out.append(
        "The baseline has no threshold, so it answers every question that shares a word with "
        "some paragraph; it counts as rejecting only when none does."
    )
    out.append(
        f"{report.verbatim} of {report.top1.total} in-scope questions appear verbatim "
        "in the knowledge base."
    )
    out.append(
        f"Red flags raised by in-scope and out-of-scope questions: {len(report.false_alarms)}"
    )
    for title, items in (
        ("Failing in-scope questions", report.top1.failures),
        ("Out-of-scope questions answered", report.rejection.failures),
        ("Missed red flags", report.red_flags.failures),
        ("Red flags raised by everyday questions", report.false_alarms),
    ):
        if items:
            out.append(f"\n{title}:")
            out += [f"  - {item}" for item in items]
    out.append("\nPASS" if report.ok else "\nFAIL: a threshold was missed")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="skill eval", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--locale", default="en-US")
    parser.add_argument(
        "--article", type=Path, default=None, help=f"source article (or set {ARTICLE_ENV})"
    )
    args = parser.parse_args(argv)
    article = _find_article(str(args.article) if args.article else None)
    report = run(args.questions, args.locale, article)
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
