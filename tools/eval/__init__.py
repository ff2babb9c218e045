"""`make eval`: question answering and the red-flag screen, scored on two kinds of set.

* the real-world sets (tests/eval/sets/, :mod:`tools.eval.real`): phrasings gathered from public
  sources, split once into tuning and frozen parts before any matching was tuned; the frozen
  figures are the evidence, beside a plain keyword baseline for red flags;
* the project's own kept set (tests/eval/questions.toml, :mod:`tools.eval.kept`), beside plain
  BM25 over the article's paragraphs.

It exits non-zero when a target is missed.
"""

from tools.eval.kept import ARTICLE_CANDIDATES, DEFAULT_QUESTIONS

__all__ = ["ARTICLE_CANDIDATES", "DEFAULT_QUESTIONS"]
