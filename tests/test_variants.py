"""Know who is stretching: every routine, assembled for every combination of body answers, at
every level, hold length, with and without the easier versions and the gentlest steps, never
brings a movement that person must avoid, and never says words that person must not hear.

Two independent nets: movement ids against the `does`/`avoids` declarations in routines.toml,
and the spoken text (built from the same movement fields the coach speaks) against the phrases in
content/en/never_say.toml.
"""

from __future__ import annotations

import itertools
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skill.core import content, routine, speech
from skill.core.conversation import render
from skill.core.conversation.words import Words
from tests.support import REPO_ROOT
from tests.support.speech_rules import breaches
from tools import validate

LOCALE = "en-US"
CONDITIONS = ("pregnancy", "hip_replacement", "osteoporosis", "recent_surgery")
SCALES = (routine.MIN_SCALE, 1.0, routine.MAX_SCALE)  # the shortest, default and longest holds
#: The coach shortens a hold it speaks in its easier version by this much (coach.render_step).
EASIER_HOLD = 0.7


def answer_sets() -> list[tuple[str, ...]]:
    """Every combination of yes answers to the body questions, none to all."""
    return [c for n in range(len(CONDITIONS) + 1) for c in itertools.combinations(CONDITIONS, n)]


def all_words(value: str | list[str]) -> str:
    """Every wording of a movement field (the coach says one a day)."""
    return " ".join(value) if isinstance(value, list) else value


def spoken_step(built: routine.Routine, index: int, easier: bool) -> str:
    """What the coach says for a step, as plain text, rendered by the coach's own renderer: on
    three days running (so every wording of every line), with the full setup and with the
    short cue a regular hears; plus why it is in the routine, which it says when asked."""
    said = []
    for day in range(3):
        for short in (False, True):
            words = Words(LOCALE, day, {})
            step = render.step(built, index, words, render.Pace(), locale=LOCALE,
                               easier=easier, short=short)
            said.append(speech.plain_text(step.ssml))
    said.append(content.movements(LOCALE)[built.steps[index].movement]["helps"])
    return " ".join(said)


@pytest.mark.slow
def test_every_combination_is_safe_in_ids_and_in_words() -> None:
    checked = 0
    problems: list[str] = []
    for answers in answer_sets():
        variants = frozenset(routine.variant_for(c) for c in answers)
        for routine_id in routine.ids():
            for level in range(routine.max_level(routine_id) + 1):
                for gentlest, all_easier, scale in itertools.product(
                        (False, True), (False, True), SCALES):
                    plain = routine.assemble(routine_id, variants, level, gentlest=gentlest)
                    easier = frozenset(s.movement for s in plain.steps) if all_easier \
                        else frozenset()
                    built = routine.assemble(routine_id, variants, level, easier, gentlest)
                    checked += 1
                    label = f"{routine_id} level {level} {answers} gentlest={gentlest}" \
                            f" easier={all_easier} scale={scale}"
                    problems += _check(built, variants | ({"gentle_only"} if gentlest else set()),
                                       scale, label)
    assert not problems, "\n".join(problems[:30])
    levels = sum(routine.max_level(r) + 1 for r in routine.ids())
    assert checked == len(answer_sets()) * levels * 2 * 2 * len(SCALES)
    print(f"\n{checked} combinations checked")  # shown with pytest -s: the count in the report


def _check(built: routine.Routine, variants: frozenset[str], scale: float, label: str
           ) -> list[str]:
    found = []
    if not built.steps:
        found.append(f"{label}: no steps")
    for n, step in enumerate(built.steps, 1):
        ruled_out = routine.unsuitable(step.movement, variants)
        if ruled_out:
            found.append(f"{label}: {step.movement} is ruled out by {sorted(ruled_out)}")
        said = spoken_step(built, n - 1, step.easier)
        found += [f"{label}: {step.movement} says {b}" for b in breaches(said, variants)]
        for seconds in (step.hold_for(scale), step.hold_for(scale * EASIER_HOLD)):
            if not step.min_hold <= seconds <= step.max_hold:
                found.append(f"{label}: {step.movement} held {seconds} s")
    return found


@pytest.mark.slow
def test_every_word_of_every_movement_a_person_can_get_is_checked() -> None:
    """Not only the text of one rendering: every field (a person can ask why, or for the easier
    version, at any step) of every movement reachable for them."""
    words = content.movements(LOCALE)
    for answers in answer_sets():
        variants = frozenset(routine.variant_for(c) for c in answers)
        for routine_id in routine.ids():
            for level, gentlest in itertools.product(
                    range(routine.max_level(routine_id) + 1), (False, True)):
                active = variants | ({"gentle_only"} if gentlest else set())
                for step in routine.assemble(routine_id, variants, level,
                                             gentlest=gentlest).steps:
                    for field in routine.WORD_FIELDS:
                        said = all_words(words[step.movement][field])
                        assert not breaches(said, active), (
                            answers, routine_id, step.movement, field)


def test_the_rules_catch_the_movements_they_are_for() -> None:
    """The phrase rules are not empty words: each one catches the movement as written that its
    variant replaces."""
    words = content.movements(LOCALE)

    def said(movement_id: str) -> str:
        return " ".join(all_words(words[movement_id][f]) for f in routine.WORD_FIELDS)

    assert breaches(said("settle_breath"), {"side_lying"})  # "On your back"
    assert breaches(said("figure_four"), {"hip_safe"})  # crossed legs
    assert breaches(said("knee_to_chest"), {"hip_safe"})  # hip past a right angle
    assert breaches(said("lower_trunk_rotation"), {"hip_safe"})  # the legs twist
    assert breaches(said("double_knee_hug"), {"small_range"})  # a full curl, rocking
    assert breaches(said("lower_trunk_rotation"), {"small_range"})
    assert breaches(said("pelvic_tilt"), {"gentle_only"})
    assert not breaches("Lie on your back or on your side, whichever is comfortable.",
                        {"side_lying"})
    assert breaches("Lie on your back, knees bent.", {"side_lying"})
    assert not breaches("Please do not cross your legs.", {"hip_safe"})
    assert breaches("Now cross your legs.", {"hip_safe"})


# --- assembly, as the conversation will use it -------------------------------------------------

def test_the_routines_as_written_are_unchanged() -> None:
    morning = routine.get("morning")
    assert [s.movement for s in morning.steps] == [
        "settle_breath", "pelvic_tilt", "knee_to_chest", "lower_trunk_rotation", "figure_four",
        "heel_slide", "double_knee_hug"]
    assert morning.steps[0].hold == 15 and morning.steps[1].reps == 4
    assert morning == routine.assemble("morning", frozenset(), 0)
    assert (morning.kind, morning.soft, morning.level, morning.gentlest) == (
        "morning", False, 0, False)


def test_each_body_answer_chooses_a_variant_not_a_condition() -> None:
    assert [routine.variant_for(c) for c in CONDITIONS] == [
        "side_lying", "hip_safe", "small_range", "gentle_only"]
    assert routine.known_variants(["side_lying", "pregnancy", 3, "hip_safe"]) == {
        "side_lying", "hip_safe"}
    with pytest.raises(ValueError, match="unknown variants: pregnancy"):
        routine.assemble("morning", frozenset({"pregnancy"}))


def test_pregnancy_gets_every_movement_on_the_side() -> None:
    built = routine.assemble("morning", frozenset({"side_lying"}))
    said = " ".join(all_words(content.movements(LOCALE)[s.movement]["position"])
                    for s in built.steps)
    assert "on your back" not in said.lower()
    assert all("side" in wording for s in built.steps
               for wording in content.movements(LOCALE)[s.movement]["position"])


def test_two_answers_together_get_a_movement_that_suits_both() -> None:
    """Pregnancy and a hip replacement: the knee to chest becomes the side knee glide whichever
    rule is applied first; the figure four is neither crossed nor on the back."""
    both = routine.assemble("morning", frozenset({"side_lying", "hip_safe"}))
    movements = [s.movement for s in both.steps]
    assert "side_knee_glide" in movements and "side_knee_opener" in movements
    assert not {"knee_to_chest", "half_knee_lift", "figure_four", "knee_fall_out"} & set(movements)
    assert len(movements) == len(set(movements))  # the knee hug's replacement is not done twice


def test_recent_surgery_gets_breathing_and_gentle_movement_only() -> None:
    built = routine.assemble("morning", frozenset({"gentle_only"}), level=3)
    assert [s.movement for s in built.steps] == ["settle_breath", "ankle_pumps",
                                                 "long_breath_out"]
    assert built.gentlest and built.level == 0  # no progression until the surgeon clears more
    assert built == routine.assemble("morning", frozenset(), gentlest=True)._replace(
        variants=frozenset({"gentle_only"}))


def test_high_pain_gets_the_gentlest_steps_on_the_side_when_pregnant() -> None:
    built = routine.assemble("bedtime", frozenset({"side_lying"}), gentlest=True)
    assert built.steps[0].movement == "settle_breath_side"


def test_levels_lengthen_holds_then_add_a_step_within_the_movements_bounds() -> None:
    zero, one, two, three = (routine.assemble("morning", frozenset(), n) for n in range(4))
    change = routine.changes(zero, one)
    assert change.longer == tuple(s.movement for s in zero.steps) and not change.added
    assert routine.changes(one, two).added == ("knee_fall_out",)
    assert routine.changes(two, three).longer and not routine.changes(two, three).added
    assert all(s.min_hold <= s.hold <= s.max_hold for s in three.steps)
    assert routine.assemble("morning", frozenset(), 99) == three  # a stale level is kept in range
    assert routine.assemble("morning", frozenset(), -1) == zero
    assert not routine.changes(zero, zero)


def test_regression_remembers_the_easier_version_of_one_movement() -> None:
    built = routine.assemble("morning", frozenset({"hip_safe"}), 2,
                             easier=frozenset({"half_knee_lift"}))
    assert [s.movement for s in built.steps if s.easier] == ["half_knee_lift"]
    assert routine.changes(routine.assemble("morning", frozenset({"hip_safe"}), 3), built
                           ).shorter  # stepping back a level shortens the holds again


# --- the declarations, checked by `python -m tools validate` -------------------------------------

def test_the_declarations_have_no_problems() -> None:
    with open(REPO_ROOT / "content" / "routines.toml", "rb") as handle:
        data = tomllib.load(handle)
    with open(REPO_ROOT / "content" / "en" / "movements.toml", "rb") as handle:
        words = tomllib.load(handle)
    assert routine.problems(data, words) == []


@pytest.fixture
def content_copy(tmp_path: Path) -> tuple[Path, Path]:
    package, copied = tmp_path / "interaction_model", tmp_path / "content"
    shutil.copytree(REPO_ROOT / "interaction_model", package)
    shutil.copytree(REPO_ROOT / "content", copied)
    return package, copied


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(package: Path, copied: Path) -> list[Any]:
    return [f for f in validate.validate(package, copied).errors
            if f.file.endswith("routines.toml")]


@pytest.mark.slow
def test_a_movement_on_the_back_with_no_side_version_fails_validation(
        content_copy: tuple[Path, Path]) -> None:
    package, copied = content_copy
    _edit(copied / "routines.toml", 'instead = { side_lying = "settle_breath_side" }\n', "")
    [finding] = _errors(package, copied)
    assert finding.rule == "variant-missing" and "settle_breath" in finding.where
    assert "side_lying" in finding.why


@pytest.mark.slow
def test_a_combination_whose_result_depends_on_the_order_fails_validation(
        content_copy: tuple[Path, Path]) -> None:
    package, copied = content_copy
    # Pregnancy then hip: side knee glide; hip then pregnancy: belly breathing on the side.
    _edit(copied / "routines.toml",
          'does = ["lying_on_back", "beyond_gentle"]\ninstead = { side_lying = "side_knee_glide" }',
          'does = ["lying_on_back", "beyond_gentle"]\n'
          'instead = { side_lying = "settle_breath_side" }')
    findings = _errors(package, copied)
    assert {f.rule for f in findings} == {"variant-composition"}
    assert any("knee_to_chest with side_lying, hip_safe" in f.where
               and "settle_breath_side" in f.why and "side_knee_glide" in f.why
               for f in findings)


@pytest.mark.slow
def test_replacements_that_go_round_in_a_circle_fail_validation(
        content_copy: tuple[Path, Path]) -> None:
    package, copied = content_copy
    _edit(copied / "routines.toml",
          '[movements.side_knee_glide]\nsides = true\nmin_hold = 10\nmax_hold = 30\n'
          'does = ["beyond_gentle"]',
          '[movements.side_knee_glide]\nsides = true\nmin_hold = 10\nmax_hold = 30\n'
          'does = ["lying_on_back", "beyond_gentle"]\n'
          'instead = { side_lying = "half_knee_lift" }')
    findings = _errors(package, copied)
    assert findings and all(f.rule == "variant-composition" for f in findings)
    assert any("circle" in f.why for f in findings)


@pytest.mark.slow
def test_a_new_movement_without_words_fails_validation(content_copy: tuple[Path, Path]) -> None:
    package, copied = content_copy
    _edit(copied / "routines.toml", "[movements.settle_breath_side]",
          "[movements.wall_sit]\nsides = false\nmin_hold = 10\nmax_hold = 20\ndoes = []\n\n"
          "[movements.settle_breath_side]")
    [finding] = _errors(package, copied)
    assert finding.rule == "movement-words" and "wall_sit" in finding.where
