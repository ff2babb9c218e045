"""Privacy by default: nothing a person says is logged unless an operator turns it on, and then
only what is left once names, numbers, places, emails and phone numbers are taken out."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.core.redact import LOG_ENV, MAX_CHARS, logging_enabled, minimise
from tests.conversation import Conversation

OVERSHARE = ("my name is jane doe of 12 elm street, call me on 555-123-4567 or at "
             "jane.doe@example.com, how do i get pregnant")


# --- in a conversation ----------------------------------------------------------------------

def unanswered_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "skill.core.answers.unanswered"]


def test_what_people_say_is_not_logged_by_default(
    talk: Callable[..., Conversation], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(LOG_ENV, raising=False)
    chat = talk()
    chat.launch()
    with caplog.at_level(logging.DEBUG):
        chat.intent("QuestionIntent", query=OVERSHARE).asks()
    assert unanswered_lines(caplog) == []
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("jane", "elm street", "555", "example.com", "pregnant"):
        assert secret not in everything


def test_when_an_operator_turns_it_on_the_question_is_minimised(
    talk: Callable[..., Conversation], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LOG_ENV, "1")
    chat = talk()
    chat.launch()
    with caplog.at_level(logging.INFO, logger="skill.core.answers.unanswered"):
        chat.intent("QuestionIntent", query=OVERSHARE).asks()
    assert unanswered_lines(caplog) == [
        "my name is [name] of [address], call me on [phone] or at [email], how do i get pregnant"
    ]
    user_id = chat.envelope({"type": "LaunchRequest"})["session"]["user"]["userId"]
    assert user_id not in caplog.text


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("ON", True),
                                           ("", False), ("0", False), ("no", False)])
def test_the_switch(value: str, on: bool) -> None:
    assert logging_enabled({LOG_ENV: value}) is on
    assert logging_enabled({}) is False


# --- what the minimiser takes out -----------------------------------------------------------

@pytest.mark.parametrize(
    ("said", "kept"),
    [
        # names after the phrases people introduce them with
        ("my name is jane doe and my back hurts", "my name is [name] and my back hurts"),
        ("I'm called Bob, is that stretch safe", "I'm called [name], is that stretch safe"),
        ("hi this is alexa call me maria", "hi this is alexa call me [name]"),
        ("my husband john says i should rest", "my husband [name] says i should rest"),
        ("my physio sarah told me to walk", "my physio [name] told me to walk"),
        ("my wife says stretching helps", "my wife says stretching helps"),
        # places
        ("i live in springfield and it is cold", "i live in [place] and it is cold"),
        ("i'm from new york is that why", "i'm from [place] is that why"),
        # street addresses and postcodes, in digits or words
        ("i live at 12 elm street", "i live at [address]"),
        ("i live at twelve elm street", "i live at [address]"),
        ("221b baker st london", "[address] london"),
        ("flat 3 on the top floor", "[address] on the top floor"),
        ("my postcode is NW1 6XE", "my postcode is [address]"),
        # phone numbers, emails, Alexa IDs
        ("call 555-123-4567 tomorrow", "call [phone] tomorrow"),
        ("ring me on +44 20 7946 0958", "ring me on [phone]"),
        ("five five five one two three four is my number", "[number] is my number"),
        ("write to jane.doe+back@example.co.uk", "write to [email]"),
        ("jane at example dot com", "[email]"),
        ("i am amzn1.ask.account.AF7Q2", "i am [id]"),
        # every other number
        ("i am 42 and weigh 80.5 kilos", "i am [number] and weigh [number] kilos"),
        ("born on 3/4/1980", "born on [number]"),
        # and what must stay: the question itself
        ("how do i do a knee hug", "how do i do a knee hug"),
        ("can i take one short walk", "can i take one short walk"),
        ("is it ok to do two stretches", "is it ok to do two stretches"),
        ("how do I\nmake   pancakes", "how do I make pancakes"),
    ],
)
def test_minimise(said: str, kept: str) -> None:
    assert minimise(said) == kept


def test_minimised_text_is_one_bounded_line() -> None:
    text = minimise("why " * 500 + "\n\n" + "x" * 1000)
    assert len(text) <= MAX_CHARS
    assert "\n" not in text


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=400))
@pytest.mark.slow
def test_no_digit_email_or_id_survives(text: str) -> None:
    out = minimise(text)
    assert not re.search(r"\d", out)
    assert "@" not in out or not re.search(r"[\w.+-]+@[\w-]+\.[\w-]+", out)
    assert "amzn1." not in out.lower()
    assert len(out) <= MAX_CHARS
