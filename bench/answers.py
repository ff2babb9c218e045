"""Question-answering speed: the cost of building the index once, then per-question latency.

`measure()` is what `make bench` prints; run `python -m bench.answers` for this part alone.
The index is built lazily on the first `match`, so a Lambda cold start that never hears a
question pays nothing; the first question of a process pays `first_match_ms`.
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from itertools import cycle, islice

from skill.core.answers import AnswerBook
from skill.core.safety import red_flag
from tools.eval import DEFAULT_QUESTIONS
from tools.model import CONTENT_DIR


def _questions() -> list[str]:
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    asked = [q for qs in data["in_scope"].values() for q in qs]
    return asked + list(data["out_of_scope"]["questions"])


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

    # Warm: the same book answering a mix of in-scope and out-of-scope questions. Best of three
    # rounds, because on a shared machine another process can stall any single round.
    rounds = [_round(book, questions, n) for _ in range(3)]
    best = min(rounds, key=lambda r: r["p99_ms"])
    return {
        "questions": n,
        "load_toml_ms": _ms(statistics.median(loads)),
        "build_index_ms": _ms(statistics.median(builds)),
        **best,
    }


def _round(book: AnswerBook, questions: list[str], n: int) -> dict[str, float]:
    latencies, safety = [], []
    for q in islice(cycle(questions), n):
        start = time.perf_counter()
        book.match(q)
        latencies.append(time.perf_counter() - start)
        start = time.perf_counter()
        red_flag(q)
        safety.append(time.perf_counter() - start)
    latencies.sort()
    safety.sort()
    p99 = max(int(n * 0.99) - 1, 0)
    return {
        "p50_ms": _ms(latencies[n // 2]),
        "p99_ms": _ms(latencies[p99]),
        "red_flag_p50_ms": _ms(safety[n // 2]),
        "red_flag_p99_ms": _ms(safety[p99]),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
