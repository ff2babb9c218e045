"""The skill's serializer (`skill.alexa.serializer`) is ask-sdk's own, made cheaper: every
envelope it reads and every response it writes must come out as ask-sdk's DefaultSerializer
makes them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope, ResponseEnvelope

from skill.alexa import app, serializer, storage
from tools import envelopes
from tools.resolver import language_model

OURS, STOCK = serializer.Serializer(), DefaultSerializer()
MODEL = language_model("en-US")
ATTRIBUTES = {"coach": {"step": 2, "pending": ["continue", ""], "said": {"a.b": 1}},
              "profile": {"prefs": {"hold_scale": 1.0, "soft_voice": False}, "reminder": None},
              "stored": {"revision": 3, "stamps": {}, "changes": {"before": {}, "at": {}}},
              "tz": "Europe/Berlin"}


def caller(**extra: Any) -> envelopes.Caller:
    return envelopes.Caller(session_id="amzn1.echo-api.session.1", new=False,
                            attributes=ATTRIBUTES, api_endpoint="https://api.amazonalexa.com",
                            api_token="token", **extra)


def events() -> list[dict[str, Any]]:
    apl = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.2"}}}
    requests = [
        envelopes.launch_request(),
        envelopes.intent_request(MODEL, "AMAZON.NextIntent"),
        envelopes.intent_request(MODEL, "QuestionIntent", {"query": "is my back worse"}),
        envelopes.intent_request(MODEL, "StartRoutineIntent", {"routine": "quick"}),
        envelopes.intent_request(MODEL, "ReminderIntent", {"time": "21:30"}),
        envelopes.can_fulfill_request(MODEL, "StartRoutineIntent", {"routine": "bedtime"}),
        envelopes.session_ended_request("ERROR", {"type": "INVALID_RESPONSE", "message": "x"}),
        {"type": "System.ExceptionEncountered",
         "error": {"type": "INVALID_RESPONSE", "message": "x"},
         "cause": {"requestId": "amzn1.echo-api.request.0"}},
    ]
    stamps = ["2026-11-25T07:00:00Z", "2026-11-25T07:00:00.123Z", "2026-11-25T08:00:00+01:00",
              "2026-11-25T07:00:00", "2026-11-25", "Wed, 25 Nov 2026 07:00:00 GMT"]
    found = [envelopes.envelope(r, caller(), request_id="amzn1.echo-api.request.1",
                                timestamp=stamps[0]) for r in requests]
    found += [envelopes.envelope(requests[0], caller(supported_interfaces=apl),
                                 request_id="amzn1.echo-api.request.2", timestamp=stamp)
              for stamp in stamps]
    return found


@pytest.mark.parametrize("event", events(), ids=lambda e: f"{e['request']['type']}"
                         f"@{e['request']['timestamp']}")
def test_an_envelope_reads_as_ask_sdk_reads_it(event: dict[str, Any]) -> None:
    ours = OURS.deserialize(json.dumps(event), RequestEnvelope)
    stock = STOCK.deserialize(json.dumps(event), RequestEnvelope)
    assert type(ours.request) is type(stock.request)
    assert ours.request.timestamp == stock.request.timestamp
    assert ours.request.timestamp.utcoffset() == stock.request.timestamp.utcoffset()
    assert STOCK.serialize(ours) == STOCK.serialize(stock) == OURS.serialize(stock)


def test_timestamps_are_the_same_moments() -> None:
    read = OURS._DefaultSerializer__deserialize_datetime  # type: ignore[attr-defined]
    assert read("2026-11-25T07:00:00Z", datetime) == datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert read("2026-11-25T08:00:00+01:00", datetime) == datetime(
        2026, 11, 25, 8, tzinfo=timezone(timedelta(hours=1)))
    assert read("2026-11-25T07:00:00Z", date) == date(2026, 11, 25)
    assert read("25 November 2026", date) == date(2026, 11, 25)  # dateutil, as before


def test_a_response_is_written_as_ask_sdk_writes_it() -> None:
    skill = app.build_skill(skill_id=envelopes.TEST_SKILL_ID, use_default_store=False)
    assert isinstance(skill.serializer, serializer.Serializer)
    for event in events():
        envelope = STOCK.deserialize(json.dumps(event), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        assert isinstance(response, ResponseEnvelope)
        assert OURS.serialize(response) == STOCK.serialize(response)
    odd = {"when": datetime(2026, 11, 25, 7, tzinfo=UTC), "pair": (1, 2.5), "none": None,
           "nested": [{"t": True}, "x"]}
    assert OURS.serialize(odd) == STOCK.serialize(odd)


@pytest.mark.parametrize("event", events(), ids=lambda e: e["request"]["type"])
def test_an_event_is_read_as_its_json_text_is(event: dict[str, Any]) -> None:
    ours = OURS.read_event(event)
    stock = STOCK.deserialize(json.dumps(event), RequestEnvelope)
    assert STOCK.serialize(ours) == STOCK.serialize(stock)


def test_answering_leaves_the_event_as_it_was(tmp_path: Path) -> None:
    """The envelope is read from the event itself, not from a copy: a whole session, its
    profile loaded, changed and saved, must not change one event it was sent."""
    skill = app.build_skill(storage.SQLiteStore(tmp_path / "skill.db"),
                            skill_id=envelopes.TEST_SKILL_ID)
    attributes: dict[str, Any] = {}
    for n, request in enumerate([
        envelopes.launch_request(), envelopes.intent_request(MODEL, "AMAZON.YesIntent"),
        envelopes.intent_request(MODEL, "AMAZON.NoIntent"),
        *[envelopes.intent_request(MODEL, "AMAZON.NextIntent")] * 8,
    ]):
        who = envelopes.Caller(session_id="amzn1.echo-api.session.1", new=n == 0,
                               attributes=attributes)
        event = envelopes.envelope(request, who, request_id=f"amzn1.echo-api.request.{n}",
                                   timestamp="2026-11-25T07:00:00Z")
        sent = copy.deepcopy(event)
        answer = app.invoke(skill, event)
        assert event == sent, f"turn {n} changed the event it was sent"
        if answer["response"].get("shouldEndSession"):
            break
        attributes = answer["sessionAttributes"]
    assert answer["response"].get("shouldEndSession"), "the session never ended: no save"
    assert storage.SQLiteStore(tmp_path / "skill.db").read_record(OURS.read_event(event)).revision
