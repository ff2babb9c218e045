"""A routine step as speech: the one place holds are rendered.

The coach speaks what :func:`step` returns; ``python -m tools preview`` and the pacing tests read
its ``holds``, so what is measured is what the skill says.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from skill.core import content, pacing, routine, speech
from skill.core.conversation.records import StepScreen
from skill.core.conversation.words import Words

SOFT_RATE = 90
#: A hold made easier is this much shorter.
EASIER_SCALE = 0.7


class Hold(NamedTuple):
    seconds: int
    ssml: str  # the counted hold alone, at the step's rate, without the <speak> wrapper


class RenderedStep(NamedTuple):
    ssml: str  # the whole step, without the closing question
    holds: tuple[Hold, ...]
    screen: StepScreen
    seconds: float  # estimated speaking time


class Pace(NamedTuple):
    """How this person's holds are counted and spoken."""

    scale: float = 1.0
    counting: str = "auto"
    rate: int = 100


@cache
def count_words(locale: str) -> pacing.CountWords:
    return pacing.CountWords.from_prompts(content.prompts(locale).table)


def words_for(locale: str, movement: str) -> dict[str, Any]:
    return content.movements(locale)[movement]


def step(chosen: routine.Routine, index: int, words: Words, pace: Pace, *,
         locale: str, easier: bool = False, short: bool = False) -> RenderedStep:
    """Step ``index`` of a routine. ``short``: the person knows this movement, so a brief cue
    replaces the full setup (position, movement, safety); ``easier``: its gentler version."""
    item = chosen.steps[index]
    easier = easier or item.easier  # a movement this person found too much before
    text = words_for(locale, item.movement)
    seconds = item.hold_for(pace.scale * (EASIER_SCALE if easier else 1.0))
    hold = pacing.hold_ssml(seconds, pacing.style_for(seconds, pace.counting),
                            count_words(locale), pace.rate)
    name = speech.escape(text["name"])
    m = item.movement
    if short and not easier and "cue" in text:
        parts = [words.say("routine.step_intro_short", n=index + 1, name=name),
                 words.pick(f"{m}.cue", text["cue"])]
    else:
        parts = [words.say("routine.step_intro", n=index + 1, total=len(chosen.steps), name=name)]
        if easier:
            parts.append(words.say("hurt.easier_intro"))
        parts += [words.pick(f"{m}.position", text["position"]),
                  words.pick(f"{m}.easier" if easier else f"{m}.movement",
                             text["easier" if easier else "movement"]),
                  words.pick(f"{m}.safety", text["safety"])]
    # When each hold begins, in estimated seconds from the start of the step: the screen counts
    # each hold down from there.
    rate = pace.rate
    elapsed = speech.estimate_seconds(" ".join(parts), rate)
    hold_seconds = speech.estimate_seconds(hold, rate)
    starts: list[float] = []

    def add(piece: str, length: float | None = None) -> None:
        nonlocal elapsed
        parts.append(piece)
        elapsed += speech.estimate_seconds(piece, rate) if length is None else length

    sides = [words.say("routine.first_side"), words.say("routine.second_side")]
    for side in sides if item.sides else [""]:
        if side:
            add(side)
        for rep in range(item.reps):
            if rep:
                add(words.say("routine.rep_again"))
            add(words.pick(f"{m}.hold", text["hold"]))
            starts.append(round(elapsed, 2))
            add(hold, hold_seconds)
            add(words.pick(f"{m}.release", text["release"]))
            if item.rest and rep < item.reps - 1:
                add(speech.pause(item.rest * 1000))
    instruction = text["easier" if easier else "movement"]
    screen = StepScreen(
        index=index + 1, total=len(chosen.steps), name=text["name"], movement=item.movement,
        instruction=instruction if isinstance(instruction, str) else instruction[0],
        seconds=seconds, holds=len(starts), hold_starts=tuple(starts))
    holds = tuple(Hold(seconds, hold) for _ in starts)
    return RenderedStep(" ".join(parts), holds, screen, elapsed)


def minutes(chosen: routine.Routine, locale: str, pace: Pace) -> int:
    """About how long a routine takes, in whole minutes (at least two), as the start says."""
    words = Words(locale, 0, {})
    total = sum(step(chosen, i, words, pace, locale=locale).seconds
                for i in range(len(chosen.steps)))
    return max(2, round(total / 60))
