"""Score the skill on the real-world sets in tests/eval/sets/, end to end and direct.

End to end: each utterance goes through the project's resolver (exact matching on the
interaction model's samples, as virtual-alexa does), then the red-flag screen and the answer book
see what the free-text intent would carry. Direct: the text is handed straight to the screen and
the book, skipping the model. Both splits are scored; only the tuning split's misses are listed,
so the frozen split stays a held-out test.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from skill.core import answers, content, safety

REPO_ROOT = Path(__file__).resolve().parents[2]
SETS_DIR = REPO_ROOT / "tests" / "eval" / "sets"
SPLITS = ("tuning", "round1", "round2", "round3", "round4", "round5", "training", "frozen")
#: The splits matching may be tuned on, and the screen's model trained on: each round's held-out
#: part was released once scored; `training` (red flags and harmless remarks only) was gathered
#: for training from the start.
TUNABLE = ("tuning", "round1", "round2", "round3", "round4", "round5", "training")
NAMES = ("answerable", "red_flags", "harmless", "out_of_scope")
#: The levels that close the session and send the person to care.
ALARMS = frozenset({"emergency", "urgent"})
#: Any level the screen can report except "absent" is the skill treating a remark as a red flag.
FLAGGED = frozenset({"emergency", "urgent", "mention"})

#: The targets of issue 10, on the frozen split (None: reported, not a target).
TARGETS = {
    "answers right first time, end to end": 0.90,
    "answers right with the choice question, end to end": 0.95,
    "red flags at the right level, end to end": 1.0,
    "harmless remarks treated as red flags, end to end": 0.02,
    "out of scope declined, end to end": 0.95,
}
#: Figures where lower is better.
LOWER_IS_BETTER = frozenset({"harmless remarks treated as red flags, end to end",
                             "harmless remarks treated as red flags, direct",
                             "harmless remarks flagged by keywords (baseline)"})


class Entry(NamedTuple):
    text: str
    ids: tuple[str, ...] = ()
    level: str = ""
    sign: str = ""
    kind: str = ""
    form: str = ""


def load(split: str, sets_dir: Path = SETS_DIR) -> dict[str, list[Entry]]:
    found: dict[str, list[Entry]] = {}
    for name in NAMES:
        path = sets_dir / split / f"{name}.toml"
        if not path.exists() and split != "frozen":
            found[name] = []  # a training split holds only what it trains
            continue
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)["entry"]
        found[name] = [Entry(e["text"], tuple(e.get("ids", ())), e.get("level", ""),
                             e.get("sign", ""), e.get("kind", ""), e.get("form", ""))
                       for e in raw]
    return found


def free_text(text: str, locale: str = "en-US") -> str | None:
    """What the free-text intent would carry for this utterance, or None if the interaction
    model sends it elsewhere (another intent, or nowhere: FallbackIntent)."""
    from tools.resolver import Resolver

    found = Resolver.for_locale(locale).resolve(text)  # the slot words as heard
    return content.free_text(found.intent, found.heard.get("query"), locale)


def level(text: str, locale: str = "en-US") -> str | None:
    """The red-flag screen's verdict: emergency, urgent, mention, absent, or None."""
    screen = getattr(safety, "screen", None)
    if screen is not None:
        found = screen(text, locale)
        return found.level if found is not None else None
    flag = safety.red_flag(text, locale)  # before levels existed: urgent or a gentle pointer
    if flag is None:
        return None
    return "urgent" if safety.is_urgent(flag, locale) else "absent"


def answer(text: str, locale: str = "en-US") -> tuple[str | None, tuple[str, ...]]:
    """(the answer given first time, the two ids of a choice question) for a question."""
    book = answers.AnswerBook.for_locale(locale)
    choose = getattr(book, "choose", None)
    pair = choose(text) if choose is not None else None
    if pair:
        return None, tuple(a.id for a in pair)
    found = book.match(text)
    return (found.id if found else None), ()


_KEYWORDS = ("numb", "tingl", "bladder", "bowel", "pee", "wee", "incontinen", "fever", "fell",
             "fall", "accident", "cancer", "tumo", "chest", "breath", "weight", "lump", "weak",
             "sneez", "cough", "erection", "wipe", "night", "shoulder blade")


def keyword_flag(text: str) -> bool:
    """The plain baseline: any red-flag word anywhere, the way a keyword list works."""
    lowered = text.lower()
    return any(k in lowered for k in _KEYWORDS)


class Figure(NamedTuple):
    name: str
    passed: int
    total: int
    misses: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def _figure(name: str, entries: Iterable[Entry], counts: Callable[[Entry], bool],
            why: Callable[[Entry], str]) -> Figure:
    """The share of ``entries`` that ``counts``; the problems listed are the entries that do
    not count, or, for a lower-is-better figure, those that do."""
    items = list(entries)
    counted = [counts(e) for e in items]
    lower = name in LOWER_IS_BETTER
    problems = tuple(f"{e.text!r}: {why(e)}" for e, c in zip(items, counted, strict=True)
                     if c == lower)
    return Figure(name, sum(counted), len(items), problems)


def score(sets: dict[str, list[Entry]], locale: str = "en-US") -> list[Figure]:
    routed = {e.text: free_text(e.text, locale) for group in sets.values() for e in group}
    levels: dict[str, str | None] = {}
    found: dict[str, tuple[str | None, tuple[str, ...]]] = {}

    def lvl(text: str | None) -> str | None:
        if text is None:
            return None
        if text not in levels:
            levels[text] = level(text, locale)
        return levels[text]

    def ans(text: str | None) -> tuple[str | None, tuple[str, ...]]:
        if text is None:
            return None, ()
        if text not in found:
            found[text] = answer(text, locale)
        return found[text]

    def reply(text: str | None) -> tuple[str | None, tuple[str, ...], str | None]:
        """What the skill does with the free text: (answer, choice, alarm level)."""
        if text is None:
            return None, (), None
        verdict = lvl(text)
        if verdict in ALARMS:
            return None, (), verdict
        first, pair = ans(text)
        return first, pair, None

    a, r, h, o = (sets[n] for n in NAMES)
    statements = [e for e in a if e.form == "statement"]

    def show(e: Entry, direct: bool = False) -> str:
        q = e.text if direct else routed[e.text]
        if q is None:
            return "not routed to the free-text intent"
        first, pair, alarm = reply(q)
        return f"alarm {alarm}" if alarm else f"answer {first}, choice {pair or '-'}"

    figures = [
        _figure("answers right first time, end to end", a,
                lambda e: reply(routed[e.text])[0] in e.ids, show),
        _figure("answers right with the choice question, end to end", a,
                lambda e: reply(routed[e.text])[0] in e.ids
                or bool(set(reply(routed[e.text])[1]) & set(e.ids)), show),
        _figure("answers right first time, direct", a,
                lambda e: reply(e.text)[0] in e.ids, lambda e: show(e, True)),
        _figure("red flags at the right level, end to end", r,
                lambda e: lvl(routed[e.text]) == e.level,
                lambda e: f"{e.level}/{e.sign}: got {lvl(routed[e.text])}"
                if routed[e.text] is not None else "not routed"),
        _figure("red flags sent to care (any alarm level), end to end",
                [e for e in r if e.level in ALARMS],
                lambda e: lvl(routed[e.text]) in ALARMS,
                lambda e: f"{e.level}/{e.sign}: got {lvl(routed[e.text])}"),
        _figure("red flags at the right level, direct", r,
                lambda e: lvl(e.text) == e.level,
                lambda e: f"{e.level}/{e.sign}: got {lvl(e.text)}"),
        _figure("harmless remarks treated as red flags, end to end", h,
                lambda e: lvl(routed[e.text]) in FLAGGED,
                lambda e: f"{e.kind}: {lvl(routed[e.text])}"),
        _figure("harmless remarks treated as red flags, direct", h,
                lambda e: lvl(e.text) in FLAGGED, lambda e: f"{e.kind}: {lvl(e.text)}"),
        _figure("out of scope declined, end to end", o,
                lambda e: reply(routed[e.text])[0] is None and not reply(routed[e.text])[1]
                and reply(routed[e.text])[2] is None, show),
        _figure("statements routed to the free-text intent", statements,
                lambda e: routed[e.text] is not None, lambda e: "not routed"),
        _figure("all utterances routed to the free-text intent", [e for g in sets.values()
                                                                   for e in g],
                lambda e: routed[e.text] is not None, lambda e: "not routed"),
        _figure("red flags found by keywords (baseline)", r,
                lambda e: keyword_flag(e.text), lambda e: "no keyword"),
        _figure("harmless remarks flagged by keywords (baseline)", h,
                lambda e: keyword_flag(e.text), lambda e: "keyword"),
    ]
    return figures


def run(locale: str = "en-US", sets_dir: Path = SETS_DIR) -> dict[str, list[Figure]]:
    return {split: score(load(split, sets_dir), locale) for split in SPLITS}


def met(figure: Figure) -> bool | None:
    target = TARGETS.get(figure.name)
    if target is None:
        return None
    return figure.rate <= target if figure.name in LOWER_IS_BETTER else figure.rate >= target


def format_report(results: dict[str, list[Figure]], show_misses: bool = True) -> str:
    names = [f.name for f in results[SPLITS[0]]]
    by = {split: {f.name: f for f in figures} for split, figures in results.items()}
    header = ["real-world sets", *SPLITS, "target (frozen)"]
    rows = []
    for name in names:
        cells = [name]
        for split in SPLITS:
            f = by[split][name]
            cells.append(f"{100 * f.rate:.1f}% ({f.passed}/{f.total})" if f.total else "-")
        target = TARGETS.get(name)
        verdict = met(by["frozen"][name])
        cells.append("" if target is None else
                     f"{'<=' if name in LOWER_IS_BETTER else '>='} {target:.0%} "
                     f"{'met' if verdict else 'MISSED'}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    out.append("Harmless rows count the remarks that WERE flagged (lower is better). Frozen "
               "texts are never printed; misses below are from the tunable splits only.")
    if show_misses:
        for split in TUNABLE:
            for f in results[split]:
                if f.misses and not f.name.endswith("(baseline)"):
                    out.append(f"\n{f.name} ({split}, {len(f.misses)}):")
                    out += [f"  - {m}" for m in f.misses]
    return "\n".join(out)


def ok(results: dict[str, list[Figure]]) -> bool:
    """Whether every target is met on the frozen split."""
    return all(met(f) is not False for f in results["frozen"])


def summary(results: dict[str, list[Figure]]) -> dict[str, Any]:
    return {split: {f.name: round(f.rate, 4) for f in figures}
            for split, figures in results.items()}


def format_tuning(figures: list[Figure], show_misses: bool = True) -> str:
    """The tuning split alone, with its misses: what a person tuning the matching looks at."""
    out = [f"{f.name}: {100 * f.rate:.1f}% ({f.passed}/{f.total})" for f in figures]
    if show_misses:
        for f in figures:
            if f.misses and not f.name.endswith("(baseline)"):
                out.append(f"\n{f.name} ({len(f.misses)}):")
                out += [f"  - {m}" for m in f.misses]
    return "\n".join(out)
