"""Free text that opens with the symptom itself ("pain right between my shoulder blades", "can't
feel my feet"): a carrier is never sent, so the interaction model keeps each such opening as an
intent of its own (QuestionIntent_<words>), and the coach puts the words back before the
red-flag screen reads them. Without this, those sentences matched no sample and went to
AMAZON.FallbackIntent, unscreened."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from skill.core import content, conversation, safety
from tools import model
from tools.resolver import Resolver

OPENINGS = model.opening_intents(model.source("en"))
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=ZoneInfo("America/New_York"))


def reply_to(name: str, query: str) -> conversation.Reply:
    """A person who has used the skill before says this first thing in a session."""
    profile = conversation.Profile.from_dict({"body_asked": "2026-03-01",
                                              "disclaimer_heard": True})
    return conversation.respond(conversation.Event(name, {"query": query}),
                                conversation.Session(), profile,
                                conversation.Context("en-US", NOW))


def test_there_are_openings_and_each_has_its_own_intent() -> None:
    assert len(OPENINGS) >= 30
    assert len({name for name, _ in OPENINGS}) == len(OPENINGS)
    assert all(content.opening(name) == words for name, words in OPENINGS)
    assert content.opening("QuestionIntent") is None
    assert content.opening("AMAZON.YesIntent") is None


@pytest.mark.parametrize(("intent", "words"), OPENINGS)
def test_an_opening_intent_is_answered_as_the_whole_sentence(intent: str, words: str) -> None:
    rest = "between my legs when I wipe and it is getting worse"
    assert reply_to(intent, rest) == reply_to("QuestionIntent", f"{words} {rest}")


@pytest.mark.parametrize(("said", "level"), [
    ("pain right up between my shoulder blades", "urgent"),
    ("back pain and numbness between my legs", "emergency"),
    ("numbness in my groin since this morning", "emergency"),
    ("um tingling in both legs and they feel weak", "emergency"),
    ("can't feel anything when I wipe", "emergency"),
    ("chest pain when I lie on my back", "emergency"),
    ("fever and my back is really sore", "urgent"),
])
def test_red_flags_that_open_with_the_symptom_reach_the_screen(said: str, level: str) -> None:
    found = Resolver.for_locale("en-US").resolve(said)
    text = content.free_text(found.intent, found.heard.get("query"))
    assert text is not None, f"{said!r} went to {found.intent}"
    assert text == said.lower().removeprefix("um ")  # the opening kept, the filler dropped
    screened = safety.screen(text, "en-US")
    assert screened is not None and screened.level == level, (said, screened)
    assert reply_to(found.intent, found.heard.get("query") or "").end_session


@pytest.mark.parametrize("said", ["no", "stop", "cancel", "next", "pause", "that hurts",
                                  "can you repeat that", "say that again", "not yet"])
def test_commands_still_reach_their_own_intents(said: str) -> None:
    assert content.opening(Resolver.for_locale("en-US").resolve(said).intent) is None
