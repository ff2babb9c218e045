"""Stems: Snowball's English stemmer (Porter2), shared by the answer book and the red-flag model.

Imported on first use, with a memo the bundles fill at build time, so a word they know costs a
dictionary look-up and a first question does not pay for importing Snowball.
"""

from __future__ import annotations

import threading
from typing import Any


class _Stemmer:
    """Snowball's English stemmer (Porter2), imported on first use, with a memo: the same few
    hundred words come up again and again, and the stemmer object is not thread-safe."""

    _MEMO_LIMIT = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stemmer: Any = None
        self._memo: dict[str, str] = {}

    def learn(self, stems: dict[str, str]) -> None:
        """Stems worked out in advance (`make model` stores the knowledge file's in the bundle):
        Snowball in pure Python takes about a tenth of a millisecond a word, and building the
        index stems some two thousand of them."""
        with self._lock:
            self._memo.update(stems)

    def __call__(self, word: str) -> str:
        found = self._memo.get(word)
        if found is not None:
            return found
        with self._lock:
            if self._stemmer is None:
                import snowballstemmer

                self._stemmer = snowballstemmer.stemmer("english")
            stem: str = self._stemmer.stemWord(word)
            if len(self._memo) < self._MEMO_LIMIT:
                self._memo[word] = stem
        return stem


_stemmer = _Stemmer()


def stem(word: str) -> str:
    """The Snowball (Porter2) stem of one lower-case word: "stretches" and "stretching" meet,
    "shoulder" and "should" stay apart."""
    return _stemmer(word)


def learn_stems(stems: dict[str, str]) -> None:
    """Stems worked out at build time (a bundle's table: the answer book's, the red-flag
    model's), so the words it knows never wait for Snowball, whose import alone costs a first
    question some 20 ms."""
    _stemmer.learn(stems)
