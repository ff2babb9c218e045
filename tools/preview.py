"""`python -m tools preview <routine> [--json]`: a routine's holds as the skill would speak them.

Content authors read it to hear a routine's pacing; the pacing benchmark measures its output.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skill.core import content, pacing, routine, speech
from skill.core.conversation import SOFT_RATE


def holds(routine_id: str, *, counting: str = "auto", scale: float = 1.0,
          locale: str = content.DEFAULT_LOCALE) -> list[dict[str, Any]]:
    chosen = routine.get(routine_id)
    words = pacing.CountWords.from_prompts(content.prompts(locale).table)
    names = content.movements(locale)
    rate = SOFT_RATE if chosen.soft else 100
    steps = []
    for step in chosen.steps:
        seconds = step.hold_for(scale)
        body = pacing.hold_ssml(seconds, pacing.style_for(seconds, counting), words, rate)
        ssml = speech.speak(speech.soft(body, rate) if chosen.soft else body)
        count = step.reps * (2 if step.sides else 1)
        steps.append({
            "name": names[step.movement]["name"],
            "movement": step.movement,
            "holds": [{"seconds": seconds, "ssml": ssml} for _ in range(count)],
        })
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools preview", description=__doc__)
    parser.add_argument("routine", choices=routine.ids())
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--counting", choices=pacing.STYLES, default="auto")
    parser.add_argument("--scale", type=float, default=1.0, help="hold length scale")
    args = parser.parse_args(argv)
    steps = holds(args.routine, counting=args.counting, scale=args.scale)
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
