"""The Alexa app card at the end of a routine: what was done, and the streak where there is one.

A whole routine is driven through skill.alexa.app.handler as Alexa would: launch, yes, then next
until the session ends, each response's sessionAttributes fed into the next request.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.alexa import storage
from skill.core import content, routine
from tests.test_display import Session

USER = "amzn1.ask.account.display-test"  # the user tests.test_display.Session sends


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import skill.alexa.app

    monkeypatch.setenv("SKILL_DB", str(tmp_path / "skill.db"))
    monkeypatch.setenv("SKILL_TIME_ZONE", "UTC")  # so "today" is the UTC date below
    for name in ("SKILL_TABLE", "SKILL_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(skill.alexa.app, "_skill", None)
    return skill.alexa.app.handler


def whole_routine(handler: Any) -> tuple[str, list[dict[str, Any]]]:
    """Launch, accept the offered routine, then next until the session ends."""
    session = Session(handler, None)
    responses = [session.send({"type": "LaunchRequest"})]
    responses.append(session.intent("AMAZON.YesIntent"))
    routine_id = session.attributes["coach"]["routine"]
    while not responses[-1]["response"].get("shouldEndSession"):
        assert len(responses) < 40, "the routine never finished"
        responses.append(session.intent("AMAZON.NextIntent"))
    return routine_id, responses


def test_a_finished_routine_sends_a_simple_card(handler: Any) -> None:
    routine_id, responses = whole_routine(handler)
    *during, last = responses
    assert all("card" not in r["response"] for r in during)
    card = last["response"]["card"]
    title = content.prompts("en-US").say(f"routine.title.{routine_id}")
    assert card["type"] == "Simple"
    assert card["title"] == f"{title.capitalize()} done"
    names = [content.movements("en-US")[s.movement]["name"]
             for s in routine.get(routine_id).steps]
    assert card["content"] == f"You finished your {title}: {', '.join(names)}."
    assert "Streak" not in card["content"]  # a first routine has no streak yet


def seed_history(days: list[str]) -> None:
    """Store a profile that already did every routine on these days."""
    envelope = DefaultSerializer().deserialize(json.dumps({
        "version": "1.0",
        "context": {"System": {"application": {"applicationId": "a"}, "user": {"userId": USER}}},
        "request": {"type": "LaunchRequest", "requestId": "r", "timestamp": "2026-01-01T00:00:00Z",
                    "locale": "en-US"},
    }), RequestEnvelope)
    history = {day: list(routine.ids()) for day in days}
    store = storage.adapter_from_env()
    store.save_attributes(envelope, {"profile": {"version": 1, "disclaimer_heard": True,
                                                 "history": history}})


def test_the_card_carries_the_streak(handler: Any) -> None:
    today = datetime.now(UTC).date()
    seed_history([(today - timedelta(days=n)).isoformat() for n in (1, 2)])
    _, responses = whole_routine(handler)
    card = responses[-1]["response"]["card"]
    assert card["content"].endswith("Streak: 3 in a row.")
