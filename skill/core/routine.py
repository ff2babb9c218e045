"""Routines as data: the steps of each routine, for the body doing it, at the level it has reached.

``assemble`` builds a routine from ``content/routines.toml``: its level 0 steps (or its gentlest
ones), what its progression levels add and lengthen, and, for each variant the person chose, the
movement that replaces any movement that variant rules out (the file's comments explain the
declarations). It is pure: the same arguments always give the same Routine. ``problems`` checks
the declarations themselves, for ``python -m tools validate``.

Variants are ids such as "side_lying", never the condition that led to them (docs/privacy.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from skill.core import content

#: How far "longer" and "shorter" may move holds from a routine's default.
MIN_SCALE = 0.6
MAX_SCALE = 1.6
SCALE_STEP = 1.25
#: What a variant with ``routine = "gentlest"`` swaps the routine for.
GENTLEST = "gentlest"
#: The words every movement needs in <language>/movements.toml (what the coach speaks and shows).
WORD_FIELDS = ("name", "position", "movement", "hold", "release", "helps", "safety", "easier")


class Step(NamedTuple):
    movement: str
    hold: int
    reps: int
    rest: int
    sides: bool
    min_hold: int
    max_hold: int
    #: Speak the movement's easier version (the person found this one too much before).
    easier: bool = False

    def hold_for(self, scale: float) -> int:
        """Seconds per hold at a person's scale, always inside the movement's safe bounds."""
        return max(self.min_hold, min(self.max_hold, round(self.hold * scale)))


class Routine(NamedTuple):
    id: str
    kind: str
    soft: bool
    steps: tuple[Step, ...]
    variants: frozenset[str] = frozenset()
    #: The progression level the steps are at (0 for the gentlest steps, which have no levels).
    level: int = 0
    gentlest: bool = False


class Change(NamedTuple):
    """What differs between two assemblies of a routine, by movement id, for telling the person."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    longer: tuple[str, ...]
    shorter: tuple[str, ...]

    def __bool__(self) -> bool:
        return any((self.added, self.removed, self.longer, self.shorter))


class NoSafeMovement(ValueError):
    """The declarations leave a movement with no replacement that suits every chosen variant."""


# --- the declarations, read from the bundle --------------------------------------------------

def ids() -> list[str]:
    return list(content.structure()["routines"])


def variant_ids() -> tuple[str, ...]:
    """Every variant a person can choose, in the order replacements are applied."""
    return tuple(content.structure()["variants"])


def variant_for(condition: str) -> str:
    """The variant id for a body question's condition ("pregnancy" gives "side_lying")."""
    variants: dict[str, dict[str, str]] = content.structure()["variants"]
    for variant_id, spec in variants.items():
        if spec["condition"] == condition:
            return variant_id
    raise KeyError(condition)


def known_variants(candidates: Iterable[Any]) -> frozenset[str]:
    """The candidates that are variant ids today (for reading a stored profile)."""
    known = set(variant_ids())
    return frozenset(c for c in candidates if isinstance(c, str) and c in known)


def max_level(routine_id: str) -> int:
    return len(content.structure()["routines"][routine_id].get("levels", []))


def unsuitable(movement_id: str, variants: frozenset[str]) -> frozenset[str]:
    """The variants among ``variants`` that rule this movement out."""
    return _unsuitable(content.structure(), movement_id, variants)


@lru_cache(maxsize=512)  # bounded: `easier` sets are per person
def assemble(routine_id: str, variants: frozenset[str] = frozenset(), level: int = 0,
             easier: frozenset[str] = frozenset(), gentlest: bool = False) -> Routine:
    """A routine for one person.

    ``variants`` are variant ids (unknown ones raise ValueError: dropping one silently could
    bring back a movement the person must not do); ``level`` is kept within the routine's
    levels; ``easier`` names movements (as they appear in the result) to speak in their easier
    version; ``gentlest`` (pain is high) uses the gentlest steps, as the gentle_only variant
    does.
    """
    return _assemble(content.structure(), routine_id, variants, level, easier, gentlest)


def get(routine_id: str) -> Routine:
    """The routine as written: no variants, level 0."""
    return assemble(routine_id)


def changes(before: Routine, after: Routine) -> Change:
    """What the person will notice going from ``before`` to ``after``."""
    old = {s.movement: s.hold for s in before.steps}
    new = {s.movement: s.hold for s in after.steps}
    return Change(
        added=tuple(m for m in new if m not in old),
        removed=tuple(m for m in old if m not in new),
        longer=tuple(m for m in new if m in old and new[m] > old[m]),
        shorter=tuple(m for m in new if m in old and new[m] < old[m]),
    )


def rescale(scale: float, longer: bool) -> float:
    """The next hold scale after "longer" or "shorter", kept within safe bounds."""
    new = scale * SCALE_STEP if longer else scale / SCALE_STEP
    return round(max(MIN_SCALE, min(MAX_SCALE, new)), 3)


# --- assembly, on any routines.toml data ---------------------------------------------------------

def _unsuitable(data: Mapping[str, Any], movement_id: str, variants: Iterable[str]
                ) -> frozenset[str]:
    does = set(data["movements"][movement_id].get("does", []))
    return frozenset(v for v in variants if does & set(data["variants"][v]["avoids"]))


def _replacement(data: Mapping[str, Any], movement_id: str, variants: frozenset[str]) -> str:
    """Follow ``instead`` in the variants' declared order until a movement suits them all.

    ``problems`` proves that every order ends at the same movement, so this order is as good as
    any; the loop bound only guards against a cycle in data that was never validated."""
    current = movement_id
    for _ in range(len(data["movements"]) + 1):
        ruled_out = _unsuitable(data, current, variants)
        if not ruled_out:
            return current
        instead = data["movements"][current].get("instead", {})
        for variant_id in data["variants"]:
            if variant_id in ruled_out and variant_id in instead:
                current = instead[variant_id]
                break
        else:
            raise NoSafeMovement(f"{movement_id}: nothing replaces {current} for"
                                 f" {', '.join(sorted(ruled_out))}")
    raise NoSafeMovement(f"{movement_id}: the replacements for {sorted(variants)} go round in"
                         " a circle")


def _assemble(data: Mapping[str, Any], routine_id: str, variants: frozenset[str], level: int,
              easier: frozenset[str], gentlest: bool) -> Routine:
    unknown = set(variants) - set(data["variants"])
    if unknown:
        raise ValueError(f"unknown variants: {', '.join(sorted(unknown))}")
    spec = data["routines"][routine_id]
    gentlest = gentlest or any(data["variants"][v].get("routine") == GENTLEST for v in variants)
    levels = spec.get("levels", [])
    level = 0 if gentlest else max(0, min(level, len(levels)))
    written = list(spec[GENTLEST] if gentlest else spec["steps"])
    scale = 1.0
    for change in levels[:level]:
        scale = change.get("hold", scale)
        for added in change.get("add", []):
            after = max(i for i, s in enumerate(written) if s["movement"] == added["after"])
            written.insert(after + 1, added)
    steps: list[Step] = []
    for item in written:
        movement_id = _replacement(data, item["movement"], variants)
        if any(s.movement == movement_id for s in steps):
            continue  # a movement is done once, even when two steps lead to it
        movement = data["movements"][movement_id]
        low, high = movement["min_hold"], movement["max_hold"]
        steps.append(Step(
            movement=movement_id,
            hold=max(low, min(high, round(item["hold"] * scale))),
            reps=item.get("reps", 1),
            rest=item.get("rest", 0),
            sides=movement["sides"],
            min_hold=low,
            max_hold=high,
            easier=movement_id in easier,
        ))
    return Routine(routine_id, spec["kind"], spec["soft"], tuple(steps), frozenset(variants),
                   level, gentlest)


# --- checking the declarations -----------------------------------------------------------------

def problems(data: Mapping[str, Any], words: Mapping[str, Any] | None = None
             ) -> list[tuple[str, str, str]]:
    """(where, rule, why) for everything in routines.toml (and a language's movements.toml)
    that would let a routine reach a person it does not suit, or fail to assemble."""
    found: list[tuple[str, str, str]] = []
    variants = data.get("variants") or {}
    movements = data.get("movements") or {}
    routines = data.get("routines") or {}
    facts = {fact for spec in variants.values() for fact in spec.get("avoids", [])}
    conditions = [spec.get("condition") for spec in variants.values()]
    for variant_id, spec in variants.items():
        where = f"variants.{variant_id}"
        if not spec.get("avoids") or not isinstance(spec.get("condition"), str):
            found.append((where, "variant-declaration", "a variant needs `condition` and what it"
                                                        " `avoids`"))
        elif conditions.count(spec["condition"]) > 1:
            found.append((where, "variant-declaration",
                          f"condition {spec['condition']!r} leads to more than one variant"))
        if spec.get("routine") not in (None, GENTLEST):
            found.append((where, "variant-declaration", f"routine = {spec['routine']!r}: only"
                                                        f" {GENTLEST!r} is known"))
    per_movement = [v for v, s in variants.items() if s.get("routine") is None]
    for movement_id, spec in movements.items():
        where = f"movements.{movement_id}"
        strange = set(spec.get("does", [])) - facts
        if strange:
            found.append((where, "movement-does", f"no variant avoids {sorted(strange)}: a"
                                                  " misspelt fact would never rule it out"))
        ruled_out = _unsuitable(data, movement_id, variants) if not strange else frozenset()
        for variant_id, target in (spec.get("instead") or {}).items():
            if target not in movements:
                found.append((where, "variant-missing", f"instead.{variant_id} = {target!r} is"
                                                        " not a movement"))
            elif variant_id not in ruled_out or variant_id not in per_movement:
                found.append((where, "variant-instead", f"instead.{variant_id}: the movement"
                              " suits that variant, or the variant replaces whole routines"))
        for variant_id in sorted(set(ruled_out) & set(per_movement)):
            if variant_id not in (spec.get("instead") or {}):
                found.append((where, "variant-missing",
                              f"unsuitable for {variant_id}, but nothing replaces it"))
    if found:
        return found  # the combinations below assume sound declarations
    for movement_id in movements:
        for chosen in _subsets(per_movement):
            ends = _ends(data, movement_id, chosen)
            label = f"movements.{movement_id} with {', '.join(chosen) or 'no variant'}"
            if len(ends) != 1 or ends & {DEAD_END, CIRCLE}:
                found.append((label, "variant-composition",
                              "no single safe movement: depending on which variant is applied"
                              f" first it ends at {', '.join(sorted(ends))}"))
    for routine_id, spec in routines.items():
        found += _routine_problems(data, routine_id, spec)
    if words is not None:
        for movement_id in movements:
            missing = [f for f in WORD_FIELDS if not (words.get(movement_id) or {}).get(f)]
            if missing:
                found.append((f"movements.{movement_id}", "movement-words",
                              f"movements.toml has no {', '.join(missing)} for it"))
        for movement_id in set(words) - set(movements):
            found.append((movement_id, "movement-words", "words for a movement routines.toml"
                                                         " does not define"))
    return found


def _subsets(items: list[str]) -> Iterable[tuple[str, ...]]:
    return itertools.chain.from_iterable(
        itertools.combinations(items, n) for n in range(len(items) + 1))


DEAD_END, CIRCLE = "(nothing replaces it)", "(the replacements go round in a circle)"


def _ends(data: Mapping[str, Any], movement_id: str, chosen: tuple[str, ...]) -> set[str]:
    """Where applying the chosen variants' replacements, in every possible order, ends: the
    movements no chosen variant rules out, or DEAD_END / CIRCLE."""
    ends: set[str] = set()

    def walk(current: str, path: frozenset[str]) -> None:
        ruled_out = _unsuitable(data, current, chosen)
        if not ruled_out:
            ends.add(current)
        for variant_id in ruled_out:
            target = (data["movements"][current].get("instead") or {}).get(variant_id)
            if target is None:
                ends.add(DEAD_END)
            elif target in path:
                ends.add(CIRCLE)
            else:
                walk(target, path | {target})

    walk(movement_id, frozenset({movement_id}))
    return ends


def _routine_problems(data: Mapping[str, Any], routine_id: str, spec: Mapping[str, Any]
                      ) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    where = f"routines.{routine_id}"
    movements = data["movements"]
    for part in ("steps", GENTLEST):
        items = spec.get(part) or []
        if not items:
            found.append((where, "routine-steps", f"every routine needs {part!r}"))
        for n, item in enumerate(items):
            if item.get("movement") not in movements:
                found.append((f"{where}.{part}[{n}]", "routine-movement",
                              f"{item.get('movement')!r} is not defined in [movements]"))
        written = [item.get("movement") for item in items]
        if len(set(written)) < len(written):
            found.append((f"{where}.{part}", "routine-steps", "a movement is written twice"))
    base = {item.get("movement") for item in spec.get("steps") or []}
    for n, change in enumerate(spec.get("levels") or [], start=1):
        if not change.get("add") and not change.get("hold"):
            found.append((f"{where}.levels[{n - 1}]", "routine-level",
                          "a level must lengthen holds or add a step"))
        for added in change.get("add", []):
            if added.get("movement") not in movements or added.get("after") not in base:
                found.append((f"{where}.levels[{n - 1}]", "routine-level",
                              "an added step needs a known movement, placed `after` one of the"
                              " level 0 steps"))
    if found:
        return found
    every = list(data["variants"])
    for level in range(len(spec.get("levels") or []) + 1):
        plain = [_assemble(data, routine_id, frozenset(), n, frozenset(), False).steps
                 for n in (level - 1, level)]
        if level and plain[0] == plain[1]:
            found.append((f"{where}.levels[{level - 1}]", "routine-level",
                          "this level changes nothing: the person would hear of no change"))
        for chosen in _subsets(every):
            for gentlest in (False, True):
                label = f"{where} level {level}, {', '.join(chosen) or 'no variant'}" + (
                    ", gentlest" if gentlest else "")
                try:
                    built = _assemble(data, routine_id, frozenset(chosen), level, frozenset(),
                                      gentlest)
                except NoSafeMovement as error:
                    found.append((label, "variant-composition", str(error)))
                    continue
                for step in built.steps:
                    if _unsuitable(data, step.movement, chosen):
                        found.append((label, "variant-composition", f"{step.movement} does not"
                                      f" suit {sorted(_unsuitable(data, step.movement, chosen))}"))
                if not built.steps:
                    found.append((label, "routine-steps", "nothing is left to do"))
    return found
