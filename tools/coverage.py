"""Statement coverage of the interaction model: the share of real utterances that reach the
free-text intent (QuestionIntent), where the coach screens them for red flags and answers them.

    from tools.coverage import coverage
    found = coverage(["my legs are numb", "I fell down the stairs"])
    found.virtual_alexa, found.resolver, found.total      # 2, 2, 2

Each utterance is said as a speech recogniser would hand it over (tools.resolver.spoken) and
routed twice: by virtual-alexa (one node process for the whole batch, its own matcher on the
generated model, nothing sent to a skill) and by tools/resolver.py; the two must agree. Text
that virtual-alexa's utter() would send as a LaunchRequest because it contains ask, tell, open,
launch or "talk to" is counted as routed by its words: inside an open session Alexa does not
launch on them.

`python -m tools coverage FILE.toml ...` reads the ``[[tuning]]`` entries' ``text`` of each file
(``--part frozen`` for the held-out ones) and prints one line per file; ``--misses`` lists what
did not reach the intent (never use it on a frozen part you have not scored yet).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skill.core import content
from tools import resolver

FREE_TEXT = content.FREE_TEXT_INTENT
#: Where evaluation sets of real utterances (TOML with [[tuning]] and [[frozen]] entries) are
#: kept: $SKILL_EVALSETS, the repository's tests/eval, or beside the repository.
EVALSETS_ENV = "SKILL_EVALSETS"
EVALSET_DIRS = (resolver.REPO_ROOT / "tests" / "eval", resolver.REPO_ROOT.parent / "evalsets",
                Path("/work/evalsets"))
#: What makes virtual-alexa's utter() send a LaunchRequest (VirtualAlexa.parseLaunchRequest).
_LAUNCH_WORDS = re.compile(r"(ask|open|launch|talk to|tell)", re.IGNORECASE)


@dataclass(frozen=True)
class Coverage:
    total: int
    #: utterances each router sent to the free-text intent (virtual_alexa None: not run)
    resolver: int
    virtual_alexa: int | None
    #: (text as said, intent virtual-alexa chose, intent the resolver chose) where they differ
    disagreements: list[tuple[str, str, str]] = field(default_factory=list)
    #: (text as said, the intent it reached instead) for what did not reach the free text
    misses: list[tuple[str, str]] = field(default_factory=list)
    #: how many hold a word that makes virtual-alexa's utter() launch instead
    launch_words: int = 0

    @property
    def share(self) -> float:
        """virtual-alexa's share when it ran, else the resolver's."""
        routed = self.virtual_alexa if self.virtual_alexa is not None else self.resolver
        return routed / self.total if self.total else 0.0


def matcher(locale: str = "en-US") -> Any:
    """A virtual-alexa matcher on the generated model (a context manager): pass it to
    :func:`coverage` to route several sets through one node process."""
    from tests.support.virtual_alexa import VirtualAlexa

    return VirtualAlexa.matcher(resolver.MODELS / f"{locale}.json", locale)


def coverage(utterances: Sequence[str], locale: str = "en-US", *, intent: str = FREE_TEXT,
             use_virtual_alexa: bool = True, alexa: Any = None) -> Coverage:
    """How many of ``utterances`` reach ``intent``, by virtual-alexa and by the resolver.
    ``alexa`` is an open :func:`matcher`; without one, one is started for this batch."""
    said = [resolver.spoken(u) for u in utterances]
    heard = resolver.Resolver.for_locale(locale)
    def family(name: str) -> str:  # an opening intent is the free text, its words kept
        return FREE_TEXT if content.opening(name, locale) is not None else name

    ours = [family(heard.resolve(s).intent) for s in said]
    theirs: list[str] | None = None
    if use_virtual_alexa:
        with ExitStack() as stack:
            if alexa is None:
                alexa = stack.enter_context(matcher(locale))
            theirs = [family(m["intent"]) if m else resolver.FALLBACK for m in alexa.match(said)]
    chosen = theirs if theirs is not None else ours
    return Coverage(
        total=len(said),
        resolver=sum(i == intent for i in ours),
        virtual_alexa=None if theirs is None else sum(i == intent for i in theirs),
        disagreements=[] if theirs is None else
        [(s, t, o) for s, t, o in zip(said, theirs, ours, strict=True) if t != o],
        misses=[(s, c) for s, c in zip(said, chosen, strict=True) if c != intent],
        launch_words=sum(bool(_LAUNCH_WORDS.search(s)) for s in said),
    )


def evaluation_sets() -> list[Path]:
    """Every evaluation set found (files with ``[[tuning]]`` entries), first folder that has
    any."""
    folders = [Path(os.environ[EVALSETS_ENV])] if os.environ.get(EVALSETS_ENV) else []
    for folder in [*folders, *EVALSET_DIRS]:
        found = sorted(p for p in folder.glob("*.toml") if texts(p, "tuning"))
        if found:
            return found
    return []


def texts(path: Path, part: str = "tuning") -> list[str]:
    """The ``text`` of every ``[[part]]`` entry of an evaluation set."""
    with open(path, "rb") as handle:
        return [entry["text"] for entry in tomllib.load(handle).get(part) or []]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools coverage", description=__doc__.split(
        "\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="evaluation sets (TOML)")
    parser.add_argument("--part", default="tuning", help="which entries: tuning or frozen")
    parser.add_argument("--locale", default="en-US")
    parser.add_argument("--misses", action="store_true", help="list what missed the intent")
    parser.add_argument("--no-virtual-alexa", action="store_true",
                        help="the resolver only (no node)")
    args = parser.parse_args(argv)
    failed = False
    with ExitStack() as stack:
        alexa = None if args.no_virtual_alexa else stack.enter_context(matcher(args.locale))
        found_per_file = [(path, coverage(texts(path, args.part), args.locale, alexa=alexa,
                                          use_virtual_alexa=alexa is not None))
                          for path in args.files]
    for path, found in found_per_file:
        va = "-" if found.virtual_alexa is None else f"{found.virtual_alexa}/{found.total}"
        print(f"{path.stem} [{args.part}]: {found.share:.0%} reach {FREE_TEXT}"
              f" (virtual-alexa {va}, resolver {found.resolver}/{found.total})")
        for text, theirs, ours in found.disagreements:
            failed = True
            print(f"  DISAGREE {text!r}: virtual-alexa {theirs}, resolver {ours}")
        if args.misses:
            for text, reached in found.misses:
                print(f"  missed {text!r} -> {reached}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
