"""Name-free entry: "Alexa, my back is stiff this morning", said without the skill's name.

Alexa's name-free routing cannot run here (it is Amazon's, and only for live skills), so what
is tested is the skill's side: real CanFulfillIntentRequest envelopes, as Alexa sends them,
through the Lambda handler with the skill's real SQLite store; and the manifest and model fields
that make Alexa ask.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skill.alexa import app
from skill.alexa.storage import SQLiteStore
from tests.support import REPO_ROOT
from tools import envelopes, model, resolver, validate

YES_QUESTIONS = [
    "my back is stiff this morning",  # answered by the article
    "why is my back worse in the morning",
    "my legs are numb and i can not control my bladder",  # red flags: always yes
    "i fell down the stairs and now my back really hurts",
]
NO_QUESTIONS = ["what is the capital of france", "play some jazz", ""]


def ask(name: str, slots: dict[str, str] | None = None, *, session: bool = True,
        locale: str = "en-US") -> dict[str, Any]:
    """A CanFulfillIntentRequest through the Lambda entry point; the whole response envelope."""
    request = envelopes.can_fulfill_request(resolver.language_model(locale), name, slots or {})
    caller = envelopes.Caller(session_id="amzn1.echo-api.session.nfi" if session else None)
    event = envelopes.envelope(request, caller, request_id="amzn1.echo-api.request.nfi",
                               timestamp="2026-03-02T07:00:00Z", locale=locale)
    answer = app.handler(json.loads(json.dumps(event)), None)  # lambda_function.handler
    json.dumps(answer)
    return answer


def verdict(answer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = answer["response"]["canFulfillIntent"]
    return found["canFulfill"], found.get("slots") or {}


@pytest.fixture(autouse=True)
def store(skill_db: Path) -> Path:
    return skill_db


@pytest.mark.parametrize("question", YES_QUESTIONS)
@pytest.mark.slow
def test_a_question_the_skill_can_answer_or_a_red_flag_is_a_yes(question: str) -> None:
    assert verdict(ask("QuestionIntent", {"query": question})) == (
        "YES", {"query": {"canUnderstand": "YES", "canFulfill": "YES"}})


def test_a_red_flag_that_opens_with_the_symptom_is_a_yes() -> None:
    assert verdict(ask("QuestionIntent_numbness", {"query": "between my legs"}))[0] == "YES"


@pytest.mark.parametrize("question", NO_QUESTIONS)
def test_anything_else_is_a_no_so_alexa_tries_another_skill(question: str) -> None:
    can, slots = verdict(ask("QuestionIntent", {"query": question}))
    assert can == "NO"
    assert slots in ({}, {"query": {"canUnderstand": "NO", "canFulfill": "NO"}})


def test_starting_a_routine_is_a_yes_and_an_unknown_routine_a_maybe() -> None:
    assert verdict(ask("StartRoutineIntent")) == ("YES", {})
    assert verdict(ask("StartRoutineIntent", {"routine": "sleepy"})) == (
        "YES", {"routine": {"canUnderstand": "YES", "canFulfill": "YES"}})
    assert verdict(ask("StartRoutineIntent", {"routine": "yoga"})) == (
        "MAYBE", {"routine": {"canUnderstand": "NO", "canFulfill": "NO"}})


@pytest.mark.parametrize("name", ["SkipIntent", "LongerIntent", "WaitIntent", "SetReminderIntent",
                                  "VoiceStyleIntent", "SomethingNewIntent"])
def test_commands_that_only_mean_something_inside_the_skill_are_a_no(name: str) -> None:
    assert verdict(ask(name))[0] == "NO"


def test_my_back_hurts_is_a_maybe_and_progress_a_yes() -> None:
    assert verdict(ask("HurtIntent"))[0] == "MAYBE"
    assert verdict(ask("ProgressIntent"))[0] == "YES"


class CountingStore(SQLiteStore):
    """The real SQLite store, counting what it is asked to do."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[str] = []

    def read_record(self, request_envelope: Any, *, quick: bool = False) -> Any:
        self.calls.append("get")
        return super().read_record(request_envelope, quick=quick)

    def write_record(self, request_envelope: Any, attributes: dict[str, Any],
                     *args: Any, **kwargs: Any) -> Any:
        self.calls.append("save")
        return super().write_record(request_envelope, attributes, *args, **kwargs)


def test_a_query_changes_nothing_says_nothing_and_touches_no_memory(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "skill.db")
    skill = app.build_skill(store)
    request = envelopes.can_fulfill_request(resolver.language_model(), "QuestionIntent",
                                            {"query": "my back is stiff this morning"})
    caller = envelopes.Caller(session_id="amzn1.echo-api.session.nfi", new=True)
    answer = app.invoke(skill, envelopes.envelope(request, caller, request_id="r",
                                                  timestamp="2026-03-02T07:00:00Z"))
    assert set(answer["response"]) == {"canFulfillIntent"}, answer  # no speech, no ending
    assert answer.get("sessionAttributes") in (None, {})
    assert store.calls == []
    # The same store, for a real visit, is read once: the counting is not vacuous.
    app.invoke(skill, envelopes.envelope(envelopes.launch_request(), caller, request_id="r2",
                                         timestamp="2026-03-02T07:00:00Z"))
    assert store.calls == ["get"]


def test_a_request_without_a_session_or_user_is_answered() -> None:
    # The name-free beta sent some CanFulfillIntentRequests with no session and no user.
    request = envelopes.can_fulfill_request(None, "QuestionIntent", {"query": "why is my back"
                                                                             " stiff"})
    event = {"version": "1.0", "context": {"System": {"application": {"applicationId": "x"}}},
             "request": {"requestId": "r", "timestamp": "2026-03-02T07:00:00Z",
                         "locale": "en-GB", **request}}
    answer = app.handler(event, None)
    assert answer["response"]["canFulfillIntent"]["canFulfill"] == "YES"
    assert "sessionAttributes" not in answer


def test_other_locales_are_answered_in_their_language() -> None:
    assert verdict(ask("QuestionIntent", {"query": "why is my back worse in the morning"},
                       locale="en-AU"))[0] == "YES"


def test_an_ordinary_request_still_gets_the_coach() -> None:
    caller = envelopes.Caller(session_id="amzn1.echo-api.session.after", new=True)
    request = envelopes.intent_request(resolver.language_model(), "QuestionIntent",
                                       {"query": "my back is stiff this morning"})
    answer = app.handler(envelopes.envelope(request, caller, request_id="r",
                                            timestamp="2026-03-02T12:00:00Z"), None)
    assert "canFulfillIntent" not in answer["response"]
    assert answer["response"]["outputSpeech"]["ssml"].startswith("<speak>")


# --- what makes Alexa ask ---------------------------------------------------------------------

def test_the_manifest_declares_the_interface_and_the_model_its_launch_phrases() -> None:
    manifest = json.loads((REPO_ROOT / "interaction_model" / "skill.json").read_text())
    interfaces = [i["type"] for i in manifest["manifest"]["apis"]["custom"]["interfaces"]]
    assert model.CAN_FULFILL_INTERFACE in interfaces
    data = json.loads((resolver.MODELS / "en-US.json").read_text())
    points = data["interactionModel"]["_nameFreeInteraction"]["ingressPoints"]
    launch = next(p for p in points if p["type"] == "LAUNCH")
    phrases = [u["value"] for u in launch["sampleUtterances"]]
    assert "my back is stiff this morning" in phrases and len(phrases) <= 5
    assert all(u["format"] == "RAW_TEXT" for p in points for u in p["sampleUtterances"])
    assert {p.get("name") for p in points if p["type"] == "INTENT"} == {"StartRoutineIntent"}


@pytest.mark.slow
def test_the_validator_checks_them() -> None:
    report = validate.validate()
    assert not report.errors, [str(f) for f in report.errors]
    assert report.checked["name-free phrases"] == 10 * 5  # five locales
