"""Build: train the red-flag screen's learned model (skill/bundle/redflag_model.<language>.json).

What it learns from, each phrasing labelled none, mention, urgent or emergency:

* every tunable real-world set (tests/eval/sets/: `tools.eval.real.TUNABLE`, never the frozen
  split): red flags at their level; harmless remarks, answerable questions and out-of-scope
  requests as none;
* the answer book's own questions and statements (content/<language>/knowledge.toml) and every
  command sample of the interaction model (content/<language>/model.toml), as none: what else
  people say to the skill is not a red flag;
* the kept question set (tests/eval/questions.toml): its questions as none;
* the project's own phrasings in tests/test_safety.py and tests/test_safety_phrasings.py (the
  lists at module level and in `parametrize`) and the kept set's red flags, at the level the
  rules give them, which is what those tests hold the rules to.

The model is multinomial logistic regression (skill/core/redflag_model.py has the features),
fitted with AdaGrad from a fixed seed, so the same data gives the same file. The file carries a
fingerprint of its data and settings: `make model` retrains only when it changed, and
`python -m tools validate` fails when the committed file is not the one this data gives.

    python -m tools redflag           # retrain if the data changed
    python -m tools redflag --force   # retrain anyway
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import json
import math
import random
import sys
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from skill.core import content, redflag_model, safety, stems
from tools.eval import DEFAULT_QUESTIONS

REPO_ROOT = Path(__file__).resolve().parents[1]
OWN_PHRASINGS = (REPO_ROOT / "tests" / "test_safety.py",
                 REPO_ROOT / "tests" / "test_safety_phrasings.py")
class Settings(NamedTuple):
    """How the model is fitted; part of the fingerprint."""

    epochs: int = 40
    rate: float = 0.3
    l2: float = 1e-4
    seed: int = 1
    #: A missed red flag costs more than a needless alarm: its examples count thrice.
    class_weights: tuple[float, ...] = (1.0, 3.0, 3.0, 3.0)
    #: Weights this small change no decision; dropping them keeps the file small.
    keep_above: float = 0.02
    #: A pair of words seen in fewer examples than this is left out: it cannot generalise, and
    #: half the file would be such pairs.
    min_count: int = 2
    digits: int = 4


SETTINGS = Settings()


def _texts(value: ast.expr | None) -> list[str]:
    """The texts of a list of texts, or of tuples whose first item is the text."""
    if not isinstance(value, ast.List | ast.Tuple):
        return []
    found = []
    for item in value.elts:
        if isinstance(item, ast.Tuple) and item.elts:
            item = item.elts[0]
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and "{" not in item.value:
            found.append(item.value)  # (a template such as "no {}" is not a phrasing)
    return found


def own_phrasings(paths: Iterable[Path] = OWN_PHRASINGS) -> list[str]:
    """The phrasings of the safety tests: the lists at module level and in `parametrize`."""
    found: list[str] = []
    for file in paths:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                found += _texts(node.value)
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if (isinstance(decorator, ast.Call)
                            and getattr(decorator.func, "attr", "") == "parametrize"
                            and len(decorator.args) > 1):
                        found += _texts(decorator.args[1])
    return found


def _locale(language: str) -> str:
    return next(loc for loc in content.LANGUAGES if content.language(loc) == language)


def _key(text: str) -> str:
    return " ".join(safety.words(text))


def examples(language: str = "en", leave_out: str | None = None) -> list[tuple[str, str]]:
    """(text, level) for every phrasing the model learns from, sorted, one per text
    (`leave_out`: without that tunable split, and without any text it holds)."""
    from tools.eval import real

    locale = _locale(language)
    labelled: dict[str, tuple[str, str]] = {}
    for split in real.TUNABLE:
        if split == leave_out:
            continue
        if split == "frozen":
            raise ValueError("the held-out split is never learned")
        sets = real.load(split)
        for name in real.NAMES:
            for entry in sets[name]:
                level = entry.level if name == "red_flags" else "none"
                labelled.setdefault(_key(entry.text), (entry.text, level))
    book = content.load(f"{language}/knowledge.toml")
    for item in book["item"]:
        for text in item.get("questions", []) + item.get("statements", []):
            labelled.setdefault(_key(text), (text, "none"))
    with DEFAULT_QUESTIONS.open("rb") as handle:
        kept = tomllib.load(handle)
    questions = [q for qs in kept["in_scope"].values() for q in qs]
    for text in questions + kept["out_of_scope"]["questions"]:
        labelled.setdefault(_key(text), (text, "none"))
    red_flags = [text for texts in kept["red_flags"].values() for text in texts]
    for text in own_phrasings() + red_flags:
        # ... and each as the screen hears it end to end, when the interaction model's carrier
        # takes its first word ("I didn't fall" arrives as "didn't fall"), labelled the same way
        heard = real.free_text(text, locale)
        for said in dict.fromkeys([text] + ([heard] if heard else [])):
            level = _level(safety.screen_rules(said, locale)) or "none"
            labelled.setdefault(_key(said), (said, level))
    from tools import model

    for intent in model.source(language)["intents"]:
        for text in model.samples_of(intent):
            if "{" not in text:
                labelled.setdefault(_key(text), (text, "none"))
    labelled.pop("", None)
    if leave_out is not None:
        held = real.load(leave_out)
        for entry in (e for group in held.values() for e in group):
            labelled.pop(_key(entry.text), None)
    return sorted(labelled.values())


class Inputs(NamedTuple):
    """What one fit learns from, read once: the examples, each one's level and features (its
    words as the rules' scopes mark them, then stemmed), and the fingerprint of it all."""

    data: list[tuple[str, str]]
    read: list[tuple[str, list[str]]]
    fingerprint: str


def inputs(language: str = "en", leave_out: str | None = None) -> Inputs:
    data = examples(language, leave_out)
    locale = _locale(language)
    read = [(level, sorted(set(redflag_model.features(safety.model_words(text, locale)))))
            for text, level in data]
    return Inputs(data, read, fingerprint(read))


def fingerprint(read: Sequence[tuple[str, list[str]]]) -> str:
    """Of everything the fitted file depends on: each example's level and features (a rule
    that moves a scope, or another stemmer, retrains it), the settings, and the code that fits
    and packs."""
    code = "".join(inspect.getsource(f) for f in (fit, build, redflag_model.pack))
    blob = json.dumps({"format": redflag_model.FORMAT, "settings": SETTINGS._asdict(),
                       "code": code, "examples": read}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def fit(read: Sequence[tuple[str, list[str]]]) -> tuple[list[float], dict[str, list[float]]]:
    """(bias, weights per feature) of the model fitted to (level, features) examples."""
    levels = redflag_model.LEVELS
    seen: dict[str, int] = {}
    for _, found in read:
        for f in found:
            seen[f] = seen.get(f, 0) + 1
    rows = [([f for f in found if seen[f] >= SETTINGS.min_count or f.startswith("u:")],
             levels.index(level)) for level, found in read]
    n = len(levels)
    weights: dict[str, list[float]] = {}
    squares: dict[str, list[float]] = {}
    bias, bias_squares = [0.0] * n, [0.0] * n
    rate, l2, class_weights = SETTINGS.rate, SETTINGS.l2, SETTINGS.class_weights
    order = list(range(len(rows)))
    shuffle = random.Random(SETTINGS.seed)
    for _ in range(SETTINGS.epochs):
        shuffle.shuffle(order)
        for i in order:
            feats, label = rows[i]
            scores = list(bias)
            for f in feats:
                row = weights.get(f)
                if row is not None:
                    for k in range(n):
                        scores[k] += row[k]
            odds = redflag_model.softmax(scores)
            for k in range(n):
                g0 = (odds[k] - (1.0 if k == label else 0.0)) * class_weights[label]
                bias_squares[k] += g0 * g0
                bias[k] -= rate * g0 / (math.sqrt(bias_squares[k]) + 1e-8)
                for f in feats:
                    row = weights.setdefault(f, [0.0] * n)
                    sq = squares.setdefault(f, [0.0] * n)
                    g = g0 + l2 * row[k]
                    sq[k] += g * g
                    row[k] -= rate * g / (math.sqrt(sq[k]) + 1e-8)
    return bias, weights


def build(language: str = "en", leave_out: str | None = None,
          given: Inputs | None = None) -> dict[str, Any]:
    """The model file's data (`given`: the inputs, when they were already read)."""
    data, read, stamp = given or inputs(language, leave_out)
    bias, weights = fit(read)
    digits, floor = SETTINGS.digits, SETTINGS.keep_above
    kept = {f: row for f, row in weights.items() if max(abs(w) for w in row) >= floor}
    counts = {level: sum(1 for _, lv in data if lv == level) for level in redflag_model.LEVELS}
    words = {w for text, _ in data for w in safety.words(text) if w.isalnum()}
    return {"format": redflag_model.FORMAT, "fingerprint": stamp,
            "levels": list(redflag_model.LEVELS), "examples": counts,
            "bias": [round(b, digits) for b in bias], **redflag_model.pack(kept),
            "stems": {w: stems.stem(w) for w in sorted(words)}}


def stored_fingerprint(language: str = "en") -> str | None:
    file = redflag_model.path(language)
    if not file.exists():
        return None
    found = json.loads(file.read_text(encoding="utf-8")).get("fingerprint")
    return found if isinstance(found, str) else None


def stale(language: str = "en") -> bool:
    return stored_fingerprint(language) != inputs(language).fingerprint


def write(language: str = "en", given: Inputs | None = None) -> Path:
    file = redflag_model.path(language)
    data = build(language, given=given)
    file.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    redflag_model.forget()
    return file


def holdout(split: str, language: str = "en") -> str:
    """How the screen does on one tunable split when the model never learned it: the rules
    alone, the model alone, and both as the screen uses them ([learned] in safety.toml). The
    rules may have been tuned on that split; a split they were not tuned on says more."""
    from tools.eval import real

    if split not in real.TUNABLE:
        raise SystemExit(f"--holdout takes a tunable split ({', '.join(real.TUNABLE)}): the"
                         " frozen one is scored by `python -m tools eval` only")
    locale = _locale(language)
    fitted = redflag_model.Model(build(language, leave_out=split))
    sets = real.load(split)
    settings = safety.learned(language)
    if settings is None:
        raise SystemExit("safety.toml has no [learned] section: the screen takes no model")
    rows = []
    for name in ("red_flags", "harmless"):
        for entry in sets[name]:
            ruled = safety.screen_rules(entry.text, locale)
            odds = fitted.probabilities(safety.model_words(entry.text, locale))
            alone = max(safety.LEVELS, key=odds.__getitem__)
            rows.append((name, entry.level, _level(ruled),
                         alone if odds[alone] >= settings.add else None,
                         _level(safety.second_opinion(ruled, odds, language, locale))))
    out = [f"held out: {split} (the model trained without it)"]
    for k, label in ((2, "rules alone"), (3, "model alone"), (4, "rules and model")):
        flags = [r for r in rows if r[0] == "red_flags"]
        harmless = [r for r in rows if r[0] == "harmless"]
        right = sum(1 for r in flags if r[k] == r[1])
        alarmed = sum(1 for r in harmless if r[k] is not None)
        out.append(f"  {label:<16} red flags at the right level {right}/{len(flags)} "
                   f"({100 * right / len(flags):.1f}%), harmless flagged {alarmed}/"
                   f"{len(harmless)} ({100 * alarmed / len(harmless):.1f}%)")
    return "\n".join(out)


def _level(found: safety.Finding | None) -> str | None:
    return found.level if found is not None and found.level in safety.LEVELS else None


def languages() -> list[str]:
    return sorted({content.language(locale) for locale in content.LANGUAGES})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools redflag", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    parser.add_argument("--holdout", metavar="SPLIT",
                        help="train without one tunable split and score the screen on it")
    args = parser.parse_args(argv)
    if args.holdout:
        print(holdout(args.holdout))
        return 0
    for language in languages():
        read = inputs(language)
        if args.force or stored_fingerprint(language) != read.fingerprint:
            file = write(language, read)
            print(f"wrote {file.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
