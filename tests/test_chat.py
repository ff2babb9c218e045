"""`make chat`: lines typed in a terminal become the requests Alexa would send, through the same
handler Lambda uses, with the skill's real SQLite store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conversation import line_patterns
from tools import chat

INVOCATION = "bedside back coach"


@pytest.fixture
def session() -> chat.Session:
    return chat.Session("en-US", "amzn1.ask.account.chat", "chat-device")


def test_a_line_becomes_the_request_alexa_would_send(session: chat.Session) -> None:
    assert chat.request_for("Alexa, open bedside back coach", session, INVOCATION) == {
        "type": "LaunchRequest"}
    request = chat.request_for("ask bedside back coach to start my bedtime stretches", session,
                               INVOCATION)
    assert request is not None and request["type"] == "IntentRequest"
    slot = request["intent"]["slots"]["routine"]
    assert request["intent"]["name"] == "StartRoutineIntent"
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == \
        "bedtime"
    time = chat.request_for("remind me at half past ten", session, INVOCATION)
    assert time is not None and time["intent"]["slots"]["time"]["value"] == "10:30"
    statement = chat.request_for("my leg is tingling", session, INVOCATION)
    assert statement is not None
    assert statement["intent"]["slots"]["query"]["value"] == "leg is tingling"
    assert chat.request_for("exit", session, INVOCATION) is None


def test_the_session_is_carried_like_alexas(session: chat.Session) -> None:
    first = session.envelope({"type": "LaunchRequest"})
    session.attributes = {"turn": 1}
    second = session.envelope({"type": "IntentRequest", "intent": {"name": "AMAZON.YesIntent"}})
    assert first["session"]["new"] is True and second["session"]["new"] is False
    assert first["session"]["sessionId"] == second["session"]["sessionId"]
    assert second["session"]["attributes"] == {"turn": 1}
    assert first["request"]["requestId"] != second["request"]["requestId"]
    session.close()
    assert session.envelope({"type": "LaunchRequest"})["session"]["new"] is True


def test_a_piped_conversation(skill_db: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILL_TIME_ZONE", "UTC")
    lines = ["open bedside back coach", "what can i say", "purple monkey dishwasher",
             "ask bedside back coach to start my quick stretch", "no", "next", "stop", "exit"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert chat.main([]) == 0
    out = capsys.readouterr().out
    said = [line for line in out.splitlines() if line.startswith("alexa> ")]
    assert len(said) == 7, out
    assert any(p.search(said[2].lower()) for p in line_patterns("fallback.first")), said[2]
    assert "about your body" in said[3]  # the one-off body check: "no"
    assert "step 1 of 3" in said[4].lower() and "step 2 of 3" in said[5].lower()
    assert "[" in said[4] and "s]" in said[4]  # the pauses are shown
    assert out.count("(session closed)") == 1 and "(session ended)" in out
    assert skill_db.exists()  # the chat remembers, as the skill does
