"""Red flags: what someone says that should stop the stretching and send them to a doctor."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.core.safety import MENTIONED_ABSENT, advice, flag_ids, is_urgent, red_flag
from tools.eval import DEFAULT_QUESTIONS


@pytest.mark.parametrize(
    ("user_says", "flag"),
    [
        ("my legs have gone numb", "leg_numbness_weakness"),
        ("I've got pins and needles in my foot", "leg_numbness_weakness"),
        ("my leg keeps giving way", "leg_numbness_weakness"),
        ("I can't feel my toes", "leg_numbness_weakness"),
        ("I can't control my bladder", "bladder_bowel"),
        ("I have no control over my bowels", "bladder_bowel"),
        ("I wet myself this morning", "bladder_bowel"),
        ("my groin feels numb", "saddle_numbness"),
        ("numbness between my legs", "saddle_numbness"),
        ("I've got a fever", "fever"),
        ("I fell down the stairs", "after_fall_or_accident"),
        ("I was in a car crash", "after_fall_or_accident"),
        ("I've lost weight without trying", "unexplained_weight_loss"),
        ("it hurts all night no matter what position I'm in", "unrelenting_night_pain"),
        ("I have chest pain", "chest_or_breathing"),
        ("I can't breathe properly", "chest_or_breathing"),
        ("I'm having tingling", "numbness"),
        ("I had cancer last year", "cancer_history"),
    ],
)
def test_red_flags_stop_the_session_with_clear_advice(user_says: str, flag: str) -> None:
    assert red_flag(user_says) == flag
    assert is_urgent(flag)
    said = advice(flag).lower()
    assert "doctor" in said or "emergency" in said
    assert "stretch" in said


@pytest.mark.parametrize(
    "user_says",
    [
        "what is muscle guarding",
        "why is my back stiff in the morning",
        "I fell asleep on the sofa",
        "I can't fall back to sleep",
        "could I have a slipped disc",
        "what temperature should my bedroom be",
        "my back hurts all night",
        "I pull my knee to my chest and it feels tight",
        "let your knees fall to one side",
        "why the breathing",
        "is it a facet joint injury",
        "I lost ten pounds on a diet and feel great",
        "my legs feel stiff",
        "do weak abs cause back pain",
    ],
)
def test_everyday_questions_raise_no_red_flag(user_says: str) -> None:
    assert red_flag(user_says) is None


@pytest.mark.parametrize(
    "user_says",
    [
        "no numbness",
        "I don't have any numbness in my legs",
        "my legs aren't numb, just stiff",
        "I haven't got a fever",
        "no problems with my bladder",
    ],
)
def test_a_denied_symptom_earns_a_gentle_pointer_not_an_alarm(user_says: str) -> None:
    flag = red_flag(user_says)
    assert flag == MENTIONED_ABSENT
    assert not is_urgent(flag)
    assert "doctor" in advice(flag)


def test_a_denial_does_not_hide_a_symptom_in_the_same_sentence() -> None:
    assert red_flag("no fever but my legs are numb") == "leg_numbness_weakness"
    assert red_flag("no, my legs are numb") == "leg_numbness_weakness"


def test_the_most_urgent_flag_wins() -> None:
    # Saddle numbness is listed before leg numbness, though "between my legs" mentions legs.
    assert red_flag("I'm numb between my legs") == "saddle_numbness"


def test_every_flag_has_spoken_advice_that_is_plain_text() -> None:
    for flag in [*flag_ids(), MENTIONED_ABSENT]:
        said = advice(flag)
        assert said and not set(said) & set("<>&%()[]"), flag


def test_an_unknown_flag_id_is_an_error() -> None:
    with pytest.raises(KeyError):
        advice("no_such_flag")


def test_other_english_locales_share_the_rules() -> None:
    assert red_flag("my legs are numb", "en-GB") == red_flag("my legs are numb", "en-US")


def test_no_in_scope_eval_question_raises_an_urgent_flag() -> None:
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    for questions in data["in_scope"].values():
        for q in questions:
            flag = red_flag(q)
            assert flag is None or not is_urgent(flag), (q, flag)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=400))
def test_any_text_at_all_gives_a_known_id_or_none(text: str) -> None:
    flag = red_flag(text)
    assert flag is None or flag in {*flag_ids(), MENTIONED_ABSENT}
