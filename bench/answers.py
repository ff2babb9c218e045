"""Question-answering speed: the cost of building the index once, then per-question latency.

`measure()` is what `make bench` prints; run `python -m bench.answers` for this part alone.
The index is built lazily on the first `match`, so a Lambda cold start that never hears a
question pays nothing; the first question of a process pays `build_index_ms`. The red-flag
screen is the same: its rules are compiled on the first free-text utterance
(`red_flag_build_ms`), then every utterance is screened (`red_flag_p50_ms`, `red_flag_p99_ms`,
over the kept questions and red-flag phrasings).
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from itertools import cycle, islice

from skill.core import content, safety
from skill.core.answers import AnswerBook
from tools.eval import DEFAULT_QUESTIONS
from tools.model import CONTENT_DIR


def _questions() -> list[str]:
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    asked = [q for qs in data["in_scope"].values() for q in qs]
    return asked + list(data["out_of_scope"]["questions"])


def _said() -> list[str]:
    """What the screen hears: every question, and the red-flag phrasings too."""
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    return _questions() + [q for qs in data["red_flags"].values() for q in qs]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def measure(n: int = 2000) -> dict[str, float | int]:
    questions = _questions()
    path = CONTENT_DIR / "en" / "knowledge.toml"

    # Cold: a fresh book (not the cached one) for each round, timing what the first match costs.
    loads, builds = [], []
    for _ in range(5):
        book = AnswerBook.from_file(path)
        start = time.perf_counter()
        book.get("symptoms")  # parses the TOML, nothing more
        loaded = time.perf_counter()
        book.match(questions[0])  # builds the index, then answers
        loads.append(loaded - start)
        builds.append(time.perf_counter() - loaded)

    # The screen's rules, compiled from the (already read) bundle, as the first utterance does.
    rules = content.load("en/safety.toml")
    compiles = []
    for _ in range(5):
        safety.forget()  # nothing left over from the round before
        start = time.perf_counter()
        safety.compile_lexicon(rules)
        compiles.append(time.perf_counter() - start)

    # Warm: the same book answering a mix of in-scope and out-of-scope questions. Best of three
    # rounds, because on a shared machine another process can stall any single round.
    said = _said()
    rounds = [{**_round(book, questions, n), **_screen_round(said, n)} for _ in range(3)]
    best = min(rounds, key=lambda r: r["p99_ms"])
    return {
        "questions": n,
        "load_toml_ms": _ms(statistics.median(loads)),
        "build_index_ms": _ms(statistics.median(builds)),
        "red_flag_build_ms": _ms(statistics.median(compiles)),
        **best,
    }


def _p50_p99(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    n = len(latencies)
    return _ms(latencies[n // 2]), _ms(latencies[max(int(n * 0.99) - 1, 0)])


def _round(book: AnswerBook, questions: list[str], n: int) -> dict[str, float]:
    latencies = []
    for q in islice(cycle(questions), n):
        start = time.perf_counter()
        book.match(q)
        latencies.append(time.perf_counter() - start)
    p50, p99 = _p50_p99(latencies)
    return {"p50_ms": p50, "p99_ms": p99}


def _screen_round(said: list[str], n: int) -> dict[str, float]:
    safety.screen(said[0])  # compiled once per process, as on the first utterance
    latencies = []
    for text in islice(cycle(said), n):
        start = time.perf_counter()
        safety.screen(text)
        latencies.append(time.perf_counter() - start)
    p50, p99 = _p50_p99(latencies)
    return {"red_flag_p50_ms": p50, "red_flag_p99_ms": p99}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
