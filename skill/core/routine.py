"""Routines as data: the steps of each routine and how long each hold lasts for a person."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from skill.core import content

#: How far "longer" and "shorter" may move holds from a routine's default.
MIN_SCALE = 0.6
MAX_SCALE = 1.6
SCALE_STEP = 1.25


class Step(NamedTuple):
    movement: str
    hold: int
    reps: int
    rest: int
    sides: bool
    min_hold: int
    max_hold: int

    def hold_for(self, scale: float) -> int:
        """Seconds per hold at a person's scale, always inside the movement's safe bounds."""
        return max(self.min_hold, min(self.max_hold, round(self.hold * scale)))


class Routine(NamedTuple):
    id: str
    kind: str
    soft: bool
    steps: tuple[Step, ...]


@cache
def get(routine_id: str) -> Routine:
    data = content.structure()
    spec = data["routines"][routine_id]
    steps = []
    for item in spec["steps"]:
        movement = data["movements"][item["movement"]]
        steps.append(
            Step(
                movement=item["movement"],
                hold=item["hold"],
                reps=item.get("reps", 1),
                rest=item.get("rest", 0),
                sides=movement["sides"],
                min_hold=movement["min_hold"],
                max_hold=movement["max_hold"],
            )
        )
    return Routine(routine_id, spec["kind"], spec["soft"], tuple(steps))


def ids() -> list[str]:
    return list(content.structure()["routines"])


def rescale(scale: float, longer: bool) -> float:
    """The next hold scale after "longer" or "shorter", kept within safe bounds."""
    new = scale * SCALE_STEP if longer else scale / SCALE_STEP
    return round(max(MIN_SCALE, min(MAX_SCALE, new)), 3)
