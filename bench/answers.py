"""Question-answering and red-flag speed: what the first free-text utterance of a process costs,
then per-utterance latency.

`measure()` is what `make bench` prints; run `python -m bench.answers` for this part alone.
Nothing is loaded until the first `match`, so a Lambda cold start that never hears a question
pays nothing; the first question of a process pays `read_bundle_ms` (the knowledge part of the
bundle), `read_vectors_ms` (the word-vector table) and `build_index_ms` (BM25 over the phrasings,
the first Snowball stems, then the answer). bench/__main__.py measures the same in a new process.
The red-flag screen is the same: its rules are compiled on the first free-text utterance
(`red_flag_build_ms`), then every utterance is screened (`red_flag_p50_ms`, `red_flag_p99_ms`,
over the questions and the kept red-flag phrasings).
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from itertools import cycle, islice

from skill.core import answers, content, safety, wordvectors
from skill.core.answers import AnswerBook
from tools.eval import DEFAULT_QUESTIONS
from tools.eval.real import load as load_set


def _questions() -> list[str]:
    """The kept set and the tuning split of the real-world sets (long statements included):
    what the skill is asked, in and out of scope."""
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    asked = [q for qs in data["in_scope"].values() for q in qs]
    tuning = load_set("tuning")
    real = [e.text for name in ("answerable", "out_of_scope") for e in tuning[name]]
    return asked + list(data["out_of_scope"]["questions"]) + real


def _said() -> list[str]:
    """What the screen hears: every question, and the red-flag phrasings too."""
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    return _questions() + [q for qs in data["red_flags"].values() for q in qs]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def measure(n: int = 2000) -> dict[str, float | int]:
    questions = _questions()
    relative = "en/knowledge.toml"

    # Cold: a fresh book and a fresh vector table (not the cached ones) for each round, timing
    # what the first question costs, part by part, as the skill pays it.
    reads, tables, builds = [], [], []
    for _ in range(5):
        content.forget()
        start = time.perf_counter()
        data = content.load(relative)
        read = time.perf_counter()
        answers.AnswerBook._tables.clear()
        table = AnswerBook._table(answers.VECTORS_PATH)
        table.embed(["back"])  # reads the table
        loaded = time.perf_counter()
        book = AnswerBook(lambda data=data: data, relative)
        book.match(questions[0])  # parses the items, builds the index, then answers
        reads.append(read - start)
        tables.append(loaded - read)
        builds.append(time.perf_counter() - loaded)
    size = answers.VECTORS_PATH.stat().st_size
    header = wordvectors.WordVectors(answers.VECTORS_PATH)
    header.embed(["back"])

    # The screen's rules, compiled from the (already read) bundle, as the first utterance does.
    rules = content.load("en/safety.toml")
    compiles = []
    for _ in range(5):
        safety.forget()  # nothing left over from the round before
        start = time.perf_counter()
        safety.compile_lexicon(rules)
        compiles.append(time.perf_counter() - start)

    # Warm: the same book answering a mix of in-scope and out-of-scope questions and
    # statements, and the screen hearing them and the red-flag phrasings. Best of three rounds,
    # because on a shared machine another process can stall any single round.
    said = _said()
    rounds = [{**_round(book, questions, n), **_screen_round(said, n)} for _ in range(3)]
    best = min(rounds, key=lambda r: r["p99_ms"])
    return {
        "questions": n,
        "read_bundle_ms": _ms(statistics.median(reads)),
        "read_vectors_ms": _ms(statistics.median(tables)),
        "build_index_ms": _ms(statistics.median(builds)),
        "red_flag_build_ms": _ms(statistics.median(compiles)),
        "vectors_mb": round(size / 1e6, 2),
        "vector_rows": int(header.header["rows"]),  # type: ignore[call-overload]
        **best,
    }


def _p50_p99(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    n = len(latencies)
    return _ms(latencies[n // 2]), _ms(latencies[max(int(n * 0.99) - 1, 0)])


def _round(book: AnswerBook, questions: list[str], n: int) -> dict[str, float]:
    """Wall time per question, and the CPU time the question itself used (thread_time): on a
    shared machine the wall p99 is mostly other processes taking the core; both are shown."""
    latencies, cpu = [], []
    for q in islice(cycle(questions), n):
        start, start_cpu = time.perf_counter(), time.thread_time()
        # What the skill does with free text: offer a choice when unsure, else the answer.
        if book.choose(q) is None:
            book.match(q)
        latencies.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    p50, p99 = _p50_p99(latencies)
    return {"p50_ms": p50, "p99_ms": p99, "cpu_p99_ms": _p50_p99(cpu)[1]}


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
