"""Paced holds: every hold in every routine lasts its target seconds within 10%.

The holds are the skill's own: `tools.preview` (what content authors and the benchmark see)
renders them with the coach's render.step, and the first test checks the coach really speaks
them, in order, through every routine. They are measured in each counting style, in the normal
voice and the soft, slow one (prosody rate 90%, as in the bedtime routine), each timed twice: by
a real synthesiser (espeak-ng, tests/support/espeak.py) and by the skill's own estimate for
Alexa's voice (skill.core.speech.estimate_seconds).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from skill.core import content, conversation, pacing, routine, speech
from skill.core.conversation import SOFT_RATE
from tests.support import REPO_ROOT, espeak
from tests.support.ssml import break_ms, platform_errors_many, spoken_text
from tools import preview as previewing

TOLERANCE = 0.10
STYLES = ("auto", "every_second", "sparse")
WORDS = pacing.CountWords.from_prompts(content.prompts("en-US").table)
_BREAK = re.compile(r'<break time="([^"]+)"/>')


@cache
def preview(routine_id: str, counting: str, soft: bool = False,
            scale: float = 1.0) -> list[dict[str, Any]]:
    """The routine's steps as `python -m tools preview <routine> --json` prints them."""
    return previewing.holds(routine_id, counting=counting, soft=soft, scale=scale)


def spoken_by_the_coach(routine_id: str, counting: str, soft: bool) -> str:
    """Everything the coach says, guided, from "start the <routine>" to its end."""
    now = datetime(2024, 3, 5, 7, 0, tzinfo=UTC)
    profile = conversation.Profile.from_dict({
        "version": 1, "disclaimer_heard": True,
        "body_asked": (now.date() - timedelta(days=1)).isoformat(),
        "prefs": {"counting": counting, "soft_voice": soft}})
    session = conversation.Session()
    ctx = conversation.Context("en-US", now)
    said = []
    event = conversation.Event("StartRoutineIntent", {"routine": routine_id})
    for _ in range(40):
        reply = conversation.respond(event, session, profile, ctx)
        said.append(reply.speech)
        if reply.end_session:
            return " ".join(said)
        event = conversation.Event("AMAZON.NextIntent")
    raise AssertionError(f"{routine_id} did not end in 40 turns")


def holds() -> list[tuple[str, str, int, int, str, str]]:
    """(routine, step name, seconds, rate, counting style, ssml) for every distinct hold of every
    step in both voices (bedtime is always soft)."""
    found: dict[tuple[str, str, str], tuple[str, str, int, int, str, str]] = {}
    for rid in routine.ids():
        for counting in STYLES:
            for soft in (False, True):
                rate = SOFT_RATE if soft or routine.get(rid).soft else 100
                steps = preview(rid, counting, soft)
                assert len(steps) == len(routine.get(rid).steps)
                for step in steps:
                    assert step["holds"], f"{rid}: {step['name']} has no holds"
                    for hold in step["holds"]:
                        seconds, ssml = hold["seconds"], hold["ssml"]
                        found.setdefault((rid, step["name"], ssml), (
                            rid, step["name"], seconds, rate,
                            pacing.style_for(seconds, counting), ssml))
    return list(found.values())


def test_the_holds_measured_are_the_ones_the_coach_speaks() -> None:
    """Every hold of the preview, in order, in what the coach says through the routine: same
    seconds, same words, same breaks, in each counting style and voice."""
    for rid in routine.ids():
        for counting in STYLES:
            for soft in (False, True):
                said, at = spoken_by_the_coach(rid, counting, soft), 0
                steps = preview(rid, counting, soft)
                for step, shown in zip(routine.get(rid).steps, steps, strict=True):
                    assert {h["seconds"] for h in shown["holds"]} == {step.hold}
                    assert len(shown["holds"]) == step.reps * (2 if step.sides else 1)
                    for hold in shown["holds"]:
                        found = said.find(hold["body"], at)
                        assert found >= 0, (rid, counting, soft, step.movement, said[at:])
                        at = found + len(hold["body"])
                    if soft or routine.get(rid).soft:
                        assert all(SOFT_RATE_TAG in h["ssml"] for h in shown["holds"])


def test_the_preview_prints_the_same_holds() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tools", "preview", "morning", "--json", "--counting", "sparse"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert json.loads(out) == preview("morning", "sparse")


SOFT_RATE_TAG = f'<prosody rate="{SOFT_RATE}%" volume="soft">'


def test_every_hold_takes_its_target_seconds_by_estimate() -> None:
    off = []
    for rid, name, seconds, rate, _, ssml in holds():
        estimated = speech.estimate_seconds(ssml)
        if abs(estimated - seconds) > TOLERANCE * seconds:
            off.append(f"{rid} {name} {seconds} s at {rate}%: estimated {estimated:.2f} s")
    assert not off, "\n".join(off)


@pytest.mark.slow
def test_every_hold_takes_its_target_seconds_in_espeak(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    espeak.ensure_available()
    rows, off = [], []
    measured: dict[str, float] = {}
    for rid, name, seconds, rate, style, ssml in holds():
        if ssml not in measured:
            measured[ssml] = espeak.spoken_seconds(ssml)
        heard, estimated = measured[ssml], speech.estimate_seconds(ssml)
        rows.append(f"{rid:8} {name:24} {seconds:>3} s {style:12} {rate:>3}%"
                    f"  espeak {heard:6.2f} s  estimate {estimated:6.2f} s")
        if abs(heard - seconds) > TOLERANCE * seconds:
            off.append(f"{rid} {name} {seconds} s {style} at {rate}%: espeak-ng took"
                       f" {heard:.2f} s")
    with capsys.disabled():
        print("\npacing: routine, step, target, counting, rate, espeak-ng, estimate")
        print("\n".join(dict.fromkeys(rows)))
    assert not off, "\n".join(off)
    assert len(measured) >= 10, "too few holds measured to mean anything"


def test_holds_stay_on_time_at_the_shortest_and_longest_scales() -> None:
    for rid in routine.ids():
        for scale in (routine.MIN_SCALE, routine.MAX_SCALE):
            for counting in STYLES:
                for soft in (False, True):
                    steps = preview(rid, counting, soft, scale)
                    for step, shown in zip(routine.get(rid).steps, steps, strict=True):
                        for hold in shown["holds"]:
                            seconds = hold["seconds"]
                            assert seconds == step.hold_for(scale)
                            assert step.min_hold <= seconds <= step.max_hold
                            estimated = speech.estimate_seconds(hold["ssml"])
                            assert abs(estimated - seconds) <= TOLERANCE * seconds, (
                                rid, step.movement, seconds, counting, soft, estimated)


def test_no_break_is_over_ten_seconds_and_every_hold_is_valid_ssml() -> None:
    all_holds = holds()
    for *_, ssml in all_holds:
        for time in _BREAK.findall(ssml):
            ms = break_ms(time)
            assert ms is not None and 0 < ms <= 10_000, time
    errors = platform_errors_many([h[-1] for h in all_holds])
    assert not any(errors), [e for e in errors if e]


def test_counting_suits_the_length_of_the_hold() -> None:
    for rid in routine.ids():
        for step in preview(rid, "auto"):
            for hold in step["holds"]:
                seconds, said = hold["seconds"], spoken_text(hold["ssml"])
                if seconds <= pacing.EVERY_SECOND_MAX:
                    # A short hold: every second counted, one to N, in order.
                    assert said.split() == list(WORDS.numbers[:seconds]), (rid, said)
                else:
                    assert WORDS.halfway in said and said.endswith("five four three two one")
    for seconds in range(11, 41):
        cues = dict(pacing.timeline(seconds, "sparse", WORDS))
        # A long hold: a few counts, "halfway" near the middle, the last five counted down.
        assert [cues.get(seconds - 5 + i) for i in range(5)] == list(WORDS.numbers[4::-1])
        halfway = [t for t, text in cues.items() if text == WORDS.halfway]
        assert len(halfway) == 1 and abs(halfway[0] - seconds / 2) <= 1, (seconds, cues)
        assert len(cues) <= seconds / 2 + 3, f"a {seconds} s hold is counted too often: {cues}"


def test_breathing_is_cued_in_every_step_and_in_every_long_hold() -> None:
    moves = content.movements("en-US")
    for rid in routine.ids():
        for step in routine.get(rid).steps:
            for wording in moves[step.movement]["hold"]:
                assert "breath" in wording.lower(), (rid, step.movement, wording)
    for rid, name, seconds, _, _, ssml in holds():
        if seconds > pacing.EVERY_SECOND_MAX:
            assert "breathe" in spoken_text(ssml), (rid, name, seconds, ssml)
    for seconds in range(11, 41):
        said = [text for _, text in pacing.timeline(seconds, "sparse", WORDS)]
        assert said[0] == WORDS.breathe_in, "a long hold opens with a breath, never silence"
        if seconds >= 20:
            assert WORDS.breathe_out in said


# -- pacing.timeline ------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", range(1, 41))
@pytest.mark.parametrize("style", ["every_second", "sparse"])
def test_timeline_cues_are_sorted_distinct_and_inside_the_hold(seconds: int, style: str) -> None:
    cues = pacing.timeline(seconds, style, WORDS)
    times = [t for t, _ in cues]
    assert times == sorted(set(times)), cues
    assert times[0] == 0, "a hold starts with a cue, never silence"
    assert all(0 <= t < seconds for t in times), cues
    assert cues[-1][1] == WORDS.numbers[0 if style == "sparse" and seconds > 5 else seconds - 1]
    ssml = pacing.hold_ssml(seconds, style, WORDS)
    assert abs(speech.estimate_seconds(ssml) - seconds) <= max(0.5, TOLERANCE * seconds)


def test_timeline_every_second_lands_each_number_on_its_second() -> None:
    cues = pacing.timeline(8, "every_second", WORDS)
    assert cues == [(t, WORDS.numbers[t]) for t in range(8)]


def test_timeline_rejects_holds_it_cannot_count() -> None:
    with pytest.raises(ValueError):
        pacing.timeline(0, "every_second", WORDS)
    with pytest.raises(ValueError):
        pacing.timeline(len(WORDS.numbers) + 1, "sparse", WORDS)


def test_style_for_follows_the_person_only_where_it_makes_sense() -> None:
    assert pacing.style_for(8) == "every_second"
    assert pacing.style_for(10) == "every_second"
    assert pacing.style_for(11) == "sparse"
    assert pacing.style_for(30, "every_second") == "every_second"
    assert pacing.style_for(8, "sparse") == "sparse"
    assert pacing.style_for(4, "sparse") == "every_second"  # too short to count sparsely


def test_a_slow_voice_keeps_the_hold_on_time() -> None:
    """At 90% the words take longer, so the breaks shrink: the hold as a whole keeps its length."""
    normal = pacing.hold_ssml(20, "sparse", WORDS, 100)
    slow = pacing.hold_ssml(20, "sparse", WORDS, SOFT_RATE)
    assert normal != slow
    breaks = [sum(break_ms(t) or 0 for t in _BREAK.findall(s)) for s in (normal, slow)]
    assert breaks[1] < breaks[0]
    assert abs(speech.estimate_seconds(speech.soft(slow, SOFT_RATE)) - 20) <= 2
