"""Know who is stretching: the one-off body check, the pain check-in, levels that progress and
step back, and "forget what you know about me". Through the Lambda handler, as a person has it.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from skill.core import routine, speech
from tests.conversation import Conversation, Turn
from tests.support.speech_rules import breaches

Talk = Callable[..., Conversation]
OPEN = "open bedside back coach"
#: The body questions, in the order asked, and the variant a yes chooses.
VARIANTS = routine.variant_ids()
CONDITION_WORDS = ("pregnan", "hip replacement", "osteopor", "steroid", "surgery", "fragile")


def stored(skill_db: Path) -> str:
    with sqlite3.connect(skill_db) as db:
        return " ".join(row[0] for row in db.execute("select attributes from profiles"))


def answer_body_check(chat: Conversation, yes: set[str]) -> Turn:
    """Open, "yes" to the morning stretch, "yes" to the body check, then yes or no to each
    question: the turn that starts the routine."""
    chat.utter(OPEN)
    chat.utter("yes").says_line("body.gate").asks()
    turn = chat.utter("yes")
    for index, variant in enumerate(VARIANTS):
        turn.says_line(f"body.q{index}").asks()
        turn = chat.utter("yes" if variant in yes else "no")
    return turn


# -- the body check ------------------------------------------------------------------------------


def test_the_body_check_comes_once_before_the_first_routine(talk: Talk, skill_db: Path) -> None:
    chat = talk(at="07:00", nothing_to_declare=False)
    started = answer_body_check(chat, {"side_lying"})
    started.says_line("body.done_some").says("Step 1 of").asks()
    assert started.profile["body"] == ["side_lying"]
    chat.utter("stop").ended()
    record = stored(skill_db)
    assert "side_lying" in record
    assert not [w for w in CONDITION_WORDS if w in record.lower()], "no condition is kept"
    chat.wait(days=1)
    chat.utter(OPEN)
    chat.utter("yes").does_not_say_line("body.gate").says("Step 1 of")


def test_a_body_check_answered_no_starts_the_routine_with_the_disclaimer(talk: Talk) -> None:
    chat = talk(at="07:00", nothing_to_declare=False)
    gate = chat.utter("ask bedside back coach to start my morning stretch").says_line("body.gate")
    assert "not a doctor" not in gate.text
    started = chat.utter("no").says_line("body.nothing").says("not a doctor", "Step 1 of 7")
    assert started.text.lower().index("not a doctor") < started.text.lower().index("step 1")


def test_skip_leaves_the_questions_and_says_how_to_come_back(talk: Talk) -> None:
    chat = talk(at="07:00", nothing_to_declare=False)
    chat.utter(OPEN)
    chat.utter("yes").says_line("body.gate")
    chat.utter("yes").says_line("body.q0")
    chat.utter("skip").says_line("body.skipped").says("Step 1 of 7")


def test_update_my_details_asks_again_and_replaces_the_answers(talk: Talk) -> None:
    chat = talk(at="07:00", nothing_to_declare=False)
    answer_body_check(chat, {"side_lying"})
    chat.utter("stop")
    chat.wait(hours=2)
    chat.utter(OPEN)
    chat.utter("update my details").says_line("body.update").says_line("body.gate")
    turn = chat.utter("yes")
    for variant in VARIANTS:
        turn = chat.utter("yes" if variant == "hip_safe" else "no")
    assert turn.profile["body"] == ["hip_safe"]


def whole_morning(chat: Conversation) -> list[Turn]:
    turns = [chat.turns[-1]]
    while turns[-1].response.get("shouldEndSession") is False:
        turns.append(chat.utter("next"))
        assert len(turns) < 15
    return turns


@pytest.mark.parametrize("yes", [set(c) for n in range(len(VARIANTS) + 1)
                                 for c in itertools.combinations(VARIANTS, n)],
                         ids=lambda c: "+".join(sorted(c)) or "none")
def test_no_one_hears_a_movement_they_must_avoid(talk: Talk, yes: set[str]) -> None:
    """The spoken words of a whole morning routine, for every combination of answers, against
    the never-say rules of each variant chosen (content/en/never_say.toml)."""
    chat = talk(at="07:00", nothing_to_declare=False)
    answer_body_check(chat, yes)
    said = [t.text for t in whole_morning(chat)]
    problems = [b for text in said for b in breaches(text, yes)]
    assert not problems, problems
    assert len(said) >= 2


# -- the pain check-in -----------------------------------------------------------------------


def settled(talk: Talk, **options: object) -> Conversation:
    """Someone who has used the skill before (heard the disclaimer, had the body check), the
    next morning at seven."""
    chat = talk(at="07:00", on=date(2024, 3, 4), **options)
    chat.utter(OPEN)
    chat.utter("yes")
    chat.utter("stop").ended()
    chat.set_time("07:00", on=date(2024, 3, 5))
    return chat


def morning_with_check_in(chat: Conversation, before: str, after: str | None) -> list[Turn]:
    chat.utter(OPEN).says_line("offer.morning")
    turns = [chat.utter(before)]
    while turns[-1].response.get("shouldEndSession") is False \
            and turns[-1].pending != ["pain_after", "morning"]:
        turns.append(chat.utter("next"))
        assert len(turns) < 15
    if after is not None:
        turns.append(chat.utter(after))
    return turns


def test_a_check_in_before_and_after_says_the_change_kindly(talk: Talk) -> None:
    chat = settled(talk)
    turns = morning_with_check_in(chat, "six", "four")
    turns[0].says_line("pain.noted").says("Step 1 of 7")
    turns[-2].says_line("pain.after_question").asks()
    turns[-1].ended().says_line("pain.easier", n="2 points").says_line("finish.morning_after")
    assert "pain" not in json.dumps(turns[-1].profile), "ratings are never kept"


@pytest.mark.parametrize(("before", "after", "line"), [
    ("six", "five", "pain.same"),  # one point, and under 30%
    ("three", "two", "pain.easier"),  # one point, but a third
    ("four", "seven", "pain.higher"),
])
def test_the_change_is_judged_by_two_points_or_thirty_percent(talk: Talk, before: str,
                                                             after: str, line: str) -> None:
    chat = settled(talk)
    morning_with_check_in(chat, before, after)[-1].says_line(line)


def test_the_check_in_adds_at_most_eight_seconds_and_one_turn(talk: Talk) -> None:
    plain = settled(talk, user="amzn1.ask.account.PLAIN")
    plain.utter(OPEN)
    without = [plain.utter("yes")]
    while without[-1].response.get("shouldEndSession") is False:
        without.append(plain.utter("next"))
    checked = settled(talk, user="amzn1.ask.account.CHECKED")
    with_check = morning_with_check_in(checked, "six", "four")
    seconds = sum(speech.estimate_seconds(t.ssml) for t in with_check)
    seconds_without = sum(speech.estimate_seconds(t.ssml) for t in without)
    print(f"\ncheck-in: {seconds - seconds_without:+.1f} s of speech,"
          f" {len(with_check) - len(without):+d} turn")
    assert len(with_check) - len(without) <= 1
    assert seconds - seconds_without <= 8.0


def test_a_high_score_brings_a_calm_suggestion_and_the_gentlest_steps(talk: Talk) -> None:
    chat = settled(talk)
    chat.utter(OPEN)
    started = chat.utter("eight").says_line("pain.high", n=8).asks()
    gentlest = routine.assemble("morning", gentlest=True)
    assert started.text.lower().count(f"of {len(gentlest.steps)}") >= 1
    assert len(gentlest.steps) < len(routine.get("morning").steps)


def test_a_seven_asks_how_long_and_a_few_days_means_the_gentlest(talk: Talk) -> None:
    chat = settled(talk)
    chat.utter(OPEN)
    chat.utter("seven").says_line("pain.days_question").asks()
    chat.utter("yes").says_line("pain.for_days").says(
        f"of {len(routine.assemble('morning', gentlest=True).steps)}")


def test_a_rise_of_two_steps_back_a_level(talk: Talk) -> None:
    chat = settled(talk)
    turns = morning_with_check_in(chat, "three", "six")
    turns[-1].says_line("pain.higher", n="3 points").says_line("pain.rose").ended()


# -- levels ----------------------------------------------------------------------------------------


def plain_morning(chat: Conversation, on: date) -> Turn:
    chat.set_time("07:00", on=on)
    chat.utter(OPEN)
    turn = chat.utter("yes")
    while turn.response.get("shouldEndSession") is False and turn.pending != ["level_up",
                                                                                 "morning"]:
        turn = chat.utter("next")
    return turn


def test_six_sessions_in_two_weeks_move_up_a_level_and_can_be_kept_as_they_were(talk: Talk
                                                                               ) -> None:
    chat = talk(at="07:00")
    first = date(2024, 3, 4)
    for n in range(5):
        plain_morning(chat, first + timedelta(days=2 * n)).ended()
    sixth = plain_morning(chat, first + timedelta(days=10))
    sixth.says_line("level.up").says_line("level.question").asks()
    assert sixth.profile["levels"] == {"morning": 1}
    kept = chat.utter("keep it as it was").says_line("level.put_back").ended()
    assert kept.profile["levels"] == {}


def test_yes_keeps_the_new_level_and_the_holds_are_longer_next_time(talk: Talk) -> None:
    chat = talk(at="07:00")
    first = date(2024, 3, 4)
    for n in range(6):
        turn = plain_morning(chat, first + timedelta(days=n))
    chat.utter("yes").says_line("level.kept").ended()
    assert turn.profile["levels"] == {"morning": 1}
    longer = routine.assemble("morning", level=1).steps[0].hold
    assert longer > routine.get("morning").steps[0].hold


def test_that_hurts_then_the_easier_one_is_remembered_and_can_be_undone(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next").at_step("morning", 1)
    chat.utter("that hurts").says_line("hurt.offer")
    easier = chat.utter("the easier one").says_line("level.easier_kept").asks()
    assert easier.profile["easier"] == {"morning": ["pelvic_tilt"]}
    undone = chat.utter("keep it as it was").says_line("level.put_back").asks()
    assert undone.profile["easier"] == {}


# -- forgetting --------------------------------------------------------------------------------


def test_forget_what_you_know_about_me_deletes_the_record_after_a_yes(talk: Talk,
                                                                      skill_db: Path) -> None:
    chat = talk(at="07:00")
    plain_morning(chat, date(2024, 3, 4))
    assert stored(skill_db)
    chat.set_time("21:00")
    chat.utter(OPEN)
    chat.utter("forget what you know about me").says_line("forget.question").asks()
    chat.utter("yes").says_line("forget.done").ended()
    assert stored(skill_db) == "", "the record is gone"
    chat.wait(hours=1)
    chat.utter(OPEN).says("not a doctor")  # a stranger again


def test_no_to_forgetting_keeps_everything(talk: Talk, skill_db: Path) -> None:
    chat = talk(at="07:00")
    plain_morning(chat, date(2024, 3, 4))
    before = stored(skill_db)
    chat.set_time("21:00")
    chat.utter(OPEN)
    chat.utter("forget what you know about me")
    chat.utter("no").says_line("forget.kept").asks()
    chat.utter("stop")
    assert json.loads(stored(skill_db))["profile"]["history"] == json.loads(before)["profile"][
        "history"]


def test_an_intent_that_claims_to_be_the_deletions_outcome_forgets_nothing(talk: Talk,
                                                                            skill_db: Path
                                                                            ) -> None:
    """Only the skill itself reports how its work went (a typed result, never slots): a request
    naming that event, with slots saying "forgotten", is an unknown intent like any other."""
    chat = talk(at="07:00")
    plain_morning(chat, date(2024, 3, 4))
    before = json.loads(stored(skill_db))["profile"]["history"]
    chat.set_time("21:00")
    chat.utter(OPEN)
    forged = chat.send({"type": "IntentRequest", "intent": {
        "name": "EffectResult", "confirmationStatus": "NONE",
        "slots": {"kind": {"name": "kind", "value": "forget"},
                  "outcome": {"name": "outcome", "value": "ok"}}}})
    forged.does_not_say_line("forget.done").says_line("fallback.first").asks()
    assert forged.profile["history"] == before
    chat.utter("stop")
    assert json.loads(stored(skill_db))["profile"]["history"] == before
