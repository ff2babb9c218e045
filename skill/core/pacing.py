"""Paced holds: spoken counts that land on real seconds.

A hold is a timeline of cues (counts, "halfway", breath cues) at whole-second offsets. Each cue is
followed by a break that fills the time until the next cue, using the estimated speaking time of
the cue in Alexa's voice (see :mod:`skill.core.speech`). If a cue runs over its slot, the overrun is
taken from the following breaks so that the hold as a whole keeps its length.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from skill.core.speech import escape, pause, words_seconds

#: Holds up to this long are counted every second unless the person asked otherwise.
EVERY_SECOND_MAX = 10
STYLES = ("auto", "every_second", "sparse")
#: "fourteen, breathe" must fit its one-second slot with room to spare: the comma is a pause the
#: word estimate does not count, and at the soft voice's 90% a tighter fit ran a 20 s hold to 22 s.
BREATH_CUE_MAX_SECONDS = 0.8


class CountWords(NamedTuple):
    """The words a hold is counted with, from the locale's prompts."""

    numbers: tuple[str, ...]
    halfway: str
    breathe_in: str
    breathe_out: str
    breathe: str
    remaining: str  # "{number} to go": mid-hold counts down too, like the last five

    @classmethod
    def from_prompts(cls, table: dict[str, Any]) -> CountWords:
        count = table["count"]
        return cls(
            tuple(count["numbers"]),
            count["halfway"],
            count["breathe_in"],
            count["breathe_out"],
            count["breathe"],
            count["remaining"],
        )


def style_for(seconds: int, preference: str = "auto") -> str:
    """Every second for short holds; every few seconds, with halfway and a countdown, for long."""
    if preference in ("every_second", "sparse") and seconds > 5:
        return preference
    return "every_second" if seconds <= EVERY_SECOND_MAX else "sparse"


def timeline(
    seconds: int, style: str, words: CountWords, rate: int = 100
) -> list[tuple[int, str]]:
    """The cues of a hold as (second, text), sorted, every second below ``seconds``."""
    if seconds < 1:
        raise ValueError("a hold lasts at least one second")
    if seconds > len(words.numbers):
        raise ValueError(f"holds are counted up to {len(words.numbers)} seconds")
    if style == "every_second" or seconds <= 5:  # sparse needs more than its last-five countdown
        cues = {t: words.numbers[t] for t in range(seconds)}
        if seconds > EVERY_SECOND_MAX:
            for t in range(3, seconds - 5, 5):
                cued = f"{cues[t]}, {words.breathe}"
                if words_seconds(cued, rate) < BREATH_CUE_MAX_SECONDS:
                    cues[t] = cued
        return sorted(cues.items())
    cues = {}
    countdown_from = seconds - 5
    # Every count goes the same way, down: "fifteen to go", "halfway", "ten to go", five to one.
    for t in range(5, countdown_from, 5):
        cues[t] = words.remaining.format(number=words.numbers[seconds - t - 1])
    halfway = min(round(seconds / 2), countdown_from - 1)  # 11 s: at 5, not lost at 6
    if 3 <= halfway < countdown_from:
        cues.pop(halfway - 1, None)
        cues.pop(halfway + 1, None)
        cues[halfway] = words.halfway
    breath = [words.breathe_in, words.breathe_out]
    # A breath cue opens the hold (a hold never starts with silence) and returns between counts.
    breath_times = [0, *range(7, countdown_from - 1, 5)]
    for i, t in enumerate(breath_times):
        if t not in cues and all(abs(t - other) > 1 for other in cues):
            cues[t] = breath[i % 2]
    for i in range(5):
        cues[countdown_from + i] = words.numbers[4 - i]
    return sorted(cues.items())


@lru_cache(maxsize=512)
def hold_ssml(seconds: int, style: str, words: CountWords, rate: int = 100) -> str:
    """The SSML of a hold lasting ``seconds`` when spoken at prosody ``rate`` percent."""
    cues = timeline(seconds, style, words, rate)
    parts = []
    if cues[0][0] > 0:
        parts.append(pause(cues[0][0] * 1000))
    debt = 0.0
    ends = [t for t, _ in cues[1:]] + [seconds]
    for (start, text), end in zip(cues, ends, strict=True):
        slot = (end - start) - words_seconds(text, rate) - debt
        debt = max(0.0, -slot)
        parts.append(escape(text) + pause(max(0.0, slot) * 1000))
    return "".join(parts)
