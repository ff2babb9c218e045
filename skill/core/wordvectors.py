"""Static word vectors: what a sentence means, from a table, without numpy or a model at run time.

The table is distilled at build time (``python -m tools wordvectors``, see tools/wordvectors.py)
from a sentence-transformer, the way Model2Vec does it: every WordPiece token of the model's
vocabulary is run through the model once, and its output vector is kept. A sentence is then the
sum of its tokens' vectors, which lands close to where the full model would put it, at the cost
of a few additions per word.

The file (skill/bundle/wordvectors.bin) holds, after one JSON header line: the vocabulary, one
token a line, tokens with a vector first; one float32 scale per vector; and the vectors as int8
(vector = scale * int8 row). Tokens without a vector are kept so that a rare word splits into
pieces exactly as the model's tokenizer would split it, and then counts for nothing rather than
for the wrong pieces.

Nothing is read at import: the file is read on the first call to `WordVectors.embed`.
"""

from __future__ import annotations

import json
import math
import mmap
import sys
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from operator import add, mul
from pathlib import Path

FORMAT = 1
#: How many tokens' float vectors are kept once used (4096 x 1 KB).
_ROWS_KEPT = 4096
#: Longest word the tokenizer looks into; longer ones are unknown (as in BERT's WordPiece).
_MAX_WORD = 100
_SUBWORD = "##"


class WordVectors:
    """One vector table, read from ``path`` on first use and shared by every caller."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._ids: dict[str, int] | None = None
        self._rows = 0
        self.dims = 0
        self._mapped: mmap.mmap | None = None
        self._scale: Sequence[float] = ()
        self._table: Sequence[int] = ()
        self._rows_seen: dict[int, array[float]] = {}
        self.header: dict[str, object] = {}

    def _load(self) -> None:
        # Mapped, not read: the vectors are paged in as tokens are used (a few hundred of them),
        # so the first question neither copies five megabytes nor keeps them in memory.
        with self.path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        data = memoryview(mapped)
        end = mapped.find(b"\n")
        header = json.loads(bytes(data[:end]))
        if header.get("format") != FORMAT or header.get("byteorder") != sys.byteorder:
            raise ValueError(f"{self.path}: not a word vector table for this machine")
        dims, rows, vocab_bytes = int(header["dims"]), int(header["rows"]), int(header["vocab"])
        start = end + 1
        vocab = bytes(data[start : start + vocab_bytes]).decode("utf-8").split("\n")
        start += vocab_bytes
        scale = data[start : start + 4 * rows].cast("f")
        start += 4 * rows
        table = data[start : start + rows * dims].cast("b")
        if len(table) != rows * dims or len(vocab) < rows:
            raise ValueError(f"{self.path}: truncated word vector table")
        self.header, self.dims, self._rows = header, dims, rows
        self._mapped, self._scale, self._table = mapped, scale, table
        self._ids = dict(zip(vocab, range(len(vocab)), strict=True))

    def _vocab(self) -> dict[str, int]:
        if self._ids is None:
            with self._lock:
                if self._ids is None:
                    self._load()
        assert self._ids is not None
        return self._ids

    def pieces(self, word: str) -> list[int]:
        """The token ids of one lower-case word, as the model's tokenizer splits it."""
        return wordpiece(word, self._vocab())

    def tokens(self, words: Iterable[str]) -> list[int]:
        """The tokens of these words that have a vector, in order, repeats kept."""
        self._vocab()
        rows = self._rows
        return [t for word in words for t in self.pieces(word) if t < rows]

    def embed(self, words: Iterable[str]) -> list[float] | None:
        """The sum of the words' token vectors, or None when no word has one."""
        return self.sum(self.tokens(words))

    def sum(self, tokens: Iterable[int]) -> list[float] | None:
        total: list[float] | None = None
        for token in tokens:
            row = self.row(token)
            total = list(row) if total is None else list(map(add, total, row))
        return total

    def row(self, token: int) -> array[float]:
        """A token's vector as floats (``token`` from `tokens`). The few hundred tokens people
        actually say are kept, so a warm question adds rows in C instead of scaling int8."""
        row = self._rows_seen.get(token)
        if row is None:
            dims, s = self.dims, self._scale[token]
            row = array("f", [s * v for v in self._table[token * dims : (token + 1) * dims]])
            if len(self._rows_seen) < _ROWS_KEPT:
                self._rows_seen[token] = row
        return row


def wordpiece(word: str, vocab: dict[str, int]) -> list[int]:
    """WordPiece, greedy longest match first, as BERT's tokenizer does it; [] if unknown."""
    if len(word) > _MAX_WORD:
        return []
    out: list[int] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else _SUBWORD + word[start:end]
            found = vocab.get(piece)
            if found is not None:
                break
            end -= 1
        if found is None:
            return []
        out.append(found)
        start = end
    return out


def normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(dot(vector, vector))
    return [v / norm for v in vector] if norm else list(vector)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    total: float = sum(map(mul, a, b))
    return total


#: math.sumprod (Python 3.12+, the Lambda runtime's 3.13) is several times faster.
dot: Callable[[Sequence[float], Sequence[float]], float] = getattr(math, "sumprod", _dot)


def write(path: Path, tokens: Sequence[str], vectors: Sequence[Sequence[float]],
          tokenize_only: Sequence[str], source: dict[str, object]) -> None:
    """Write a table: ``vectors[i]`` belongs to ``tokens[i]``; ``tokenize_only`` tokens have
    none. Each vector is stored as int8 with its own scale, so its length (which carries the
    token's weight) survives quantisation."""
    dims = len(vectors[0])
    scales = array("f")
    table = array("b")
    for vector in vectors:
        if len(vector) != dims:
            raise ValueError("every vector must have the same length")
        peak = max(abs(v) for v in vector) or 1.0
        scales.append(peak / 127)
        table.extend(max(-127, min(127, round(v * 127 / peak))) for v in vector)
    vocab = "\n".join([*tokens, *tokenize_only]).encode("utf-8")
    header = {"format": FORMAT, "byteorder": sys.byteorder, "dims": dims, "rows": len(tokens),
              "vocab": len(vocab), **source}
    with path.open("wb") as handle:
        handle.write(json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
        handle.write(vocab)
        handle.write(scales.tobytes())
        handle.write(table.tobytes())
