"""The red-flag screen's second opinion: a small model learned from labelled phrasings.

The rules in content/<language>/safety.toml catch what they were written for and read scope
well (denied, over, someone else's, asked about); on phrasings from pages they were never tuned
on they miss about a third of the red flags and alarm on about one everyday remark in ten
(tests/eval/sets/README.md). This model is trained at build time (``python -m tools redflag``,
run by ``make model`` when its data changed) on every tunable real-world phrasing, the project's
own test phrasings and the answer book's, each labelled none, mention, urgent or emergency. It
is multinomial logistic regression over Snowball stems and pairs of neighbouring stems, read
the way the rules read them: each word carries the ConText scopes that reach it ("neg:numb" in
"no numbness", "exp:fever" in "my husband has a fever") and a phrase in another sense is one
token ("hay fever" is SENSE). So the model learns which words matter and the rules' reading of
scope comes with them. The run-time part is a few dictionary look-ups and four sums.

`skill.core.safety.screen` asks it after the rules, when they raised no alarm: it may raise a
red flag they were not written for, or stand down a mention it is very sure is nothing. An
alarm the rules raise always stands.

The file (skill/bundle/redflag_model.<language>.json) is read on the first free-text words that
need it, not at import; a missing or unreadable one leaves the rules screening alone.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from skill.core import content
from skill.core.stems import learn_stems, stem

#: The classes, least serious first (the order of each weight row).
LEVELS = ("none", "mention", "urgent", "emergency")
#: The shape of the features and of the file; a file of another format is not read.
FORMAT = 4
START, END, SENSE = "<s>", "</s>", "<sense>"


def path(language: str) -> Path:
    return content.BUNDLE_DIR / f"redflag_model.{language}.json"


def features(words: Iterable[tuple[str, str]]) -> list[str]:
    """Stems ("u:numb", "u:neg:numb") and pairs of neighbouring stems ("b:my_bum"), with the
    edges of the utterance: from (scopes, word) pairs as `skill.core.safety.model_words` reads
    them (scopes "" for none, the word SENSE for a phrase in another sense)."""
    stems = [START]
    for scopes, word in words:
        base = word if word == SENSE else stem(word)
        stems.append(f"{scopes}:{base}" if scopes else base)
    stems.append(END)
    found = [f"u:{s}" for s in stems]
    found += [f"b:{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]
    return found


def softmax(scores: Sequence[float]) -> tuple[float, ...]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return tuple(e / total for e in exps)


def pack(weights: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """The file's form of the weights: the features, one a line, and one little-endian int16
    per weight (a row of len(LEVELS) per feature) times `scale`. JSON of fourteen thousand
    rows of floats takes some 20 ms to read; this takes about two."""
    names = sorted(weights)
    top = max((abs(w) for row in weights.values() for w in row), default=1.0) or 1.0
    scale = top / 32767
    packed = array("h", (round(w / scale) for name in names for w in weights[name]))
    if sys.byteorder != "little":
        packed.byteswap()
    return {"features": "\n".join(names), "scale": scale,
            "weights": base64.b64encode(packed.tobytes()).decode("ascii")}


class Model:
    """Weights per feature, one per level, and a bias row."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Raises ValueError (or KeyError, TypeError) for a file that is not a whole model."""
        names = data["features"].split("\n") if data["features"] else []
        self._index = {name: i * len(LEVELS) for i, name in enumerate(names)}
        self._weights = array("h", base64.b64decode(data["weights"], validate=True))
        if sys.byteorder != "little":
            self._weights.byteswap()
        self._scale = float(data["scale"])
        self.bias = [float(b) for b in data["bias"]]
        self.fingerprint = str(data["fingerprint"])
        if len(self._weights) != len(names) * len(LEVELS) or len(self.bias) != len(LEVELS):
            raise ValueError("a red-flag model whose weights do not fit its features")
        # The stems of every word the model learned from: no Snowball for those at run time.
        learn_stems(dict(data.get("stems", {})))

    def probabilities(self, words: Iterable[tuple[str, str]]) -> dict[str, float]:
        scores = list(self.bias)
        for feature in set(features(words)):
            at = self._index.get(feature)
            if at is not None:
                for k in range(len(LEVELS)):
                    scores[k] += self._weights[at + k] * self._scale
        return dict(zip(LEVELS, softmax(scores), strict=True))


_lock = threading.Lock()
_models: dict[str, Model | None] = {}


def model(language: str) -> Model | None:
    """The language's model, read once; None when the bundle has none, or one that cannot be
    read: the rules still screen, and an emergency never waits on this file."""
    found = _models.get(language)
    if found is not None or language in _models:
        return found
    with _lock:
        if language not in _models:
            _models[language] = _read(path(language))
        return _models[language]


def _read(file: Path) -> Model | None:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return Model(data) if data.get("format") == FORMAT else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def forget() -> None:
    """Read the file again on next use (after ``python -m tools redflag`` rewrote it)."""
    with _lock:
        _models.clear()
