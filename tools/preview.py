"""`python -m tools preview <routine> [--json]`: a routine's holds as the skill speaks them.

Content authors read it to hear a routine's pacing; the pacing tests and benchmark measure its
output. The holds are the coach's own (skill.core.conversation.render.step, the one place holds
are rendered), each wrapped as a whole reply is: in ``<speak>``, and in the soft voice when the
routine (bedtime) or the person asks for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skill.core import content, pacing, routine, speech
from skill.core.conversation import render
from skill.core.conversation.words import Words


def holds(routine_id: str, *, counting: str = "auto", scale: float = 1.0,
          locale: str = content.DEFAULT_LOCALE, soft: bool = False) -> list[dict[str, Any]]:
    """Each step of the routine: its name, its movement and its holds, each as ``seconds`` and
    ``ssml`` (a reply of that hold alone) and ``body`` (the hold as it sits in the step's
    speech). ``soft``: the soft voice, which the bedtime routine always has."""
    chosen = routine.get(routine_id)
    soft = soft or chosen.soft
    rate = render.SOFT_RATE if soft else 100
    pace = render.Pace(scale, counting, rate)
    words = Words(locale, 0, {})
    steps = []
    for index, item in enumerate(chosen.steps):
        rendered = render.step(chosen, index, words, pace, locale=locale)
        steps.append({
            "name": render.words_for(locale, item.movement)["name"],
            "movement": item.movement,
            "holds": [{"seconds": hold.seconds, "body": hold.ssml,
                       "ssml": speech.speak(speech.soft(hold.ssml, rate) if soft else hold.ssml)}
                      for hold in rendered.holds],
        })
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools preview", description=__doc__)
    parser.add_argument("routine", choices=routine.ids())
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--counting", choices=pacing.STYLES, default="auto")
    parser.add_argument("--scale", type=float, default=1.0, help="hold length scale")
    parser.add_argument("--soft", action="store_true", help="the soft voice")
    args = parser.parse_args(argv)
    steps = holds(args.routine, counting=args.counting, scale=args.scale, soft=args.soft)
    if args.json:
        json.dump(steps, sys.stdout, indent=2)
        print()
        return 0
    for i, step in enumerate(steps, 1):
        first = step["holds"][0]
        print(f"{i}. {step['name']}: {len(step['holds'])} x {first['seconds']} s "
              f"(estimated {speech.estimate_seconds(first['ssml']):.1f} s)")
        print(f"   {speech.plain_text(first['ssml'])}")
    return 0
