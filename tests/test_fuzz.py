"""Hostile and malformed request envelopes, thrown at the Lambda handler and at the web app.

Fixed budget: derandomized, no example database, a set number of examples per test, so the run
is the same every time and takes well under a minute.

What must always hold:
- skill.alexa.app.handler returns a response envelope: version and response; speech is SSML that
  parses as XML with <speak> at the root, or there is no speech at all for the two request types
  Alexa allows none for (SessionEndedRequest, System.ExceptionEncountered). The one exception it may
  raise is the SDK's skill-ID refusal, and only for an envelope addressed to another skill.
- the web app (verification off, as in development) answers 400, or 200 with such a response;
  never 500. (413 only for a body over the size limit.)
- whatever a user says in a slot, including & < > " ' ]]> and <speak>, reaches speech escaped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from ask_sdk_core.exceptions import AskSdkException
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import skill.alexa.app
from skill.alexa.storage import SQLiteStore
from tests.support import REPO_ROOT
from webservice.app import MAX_BODY_BYTES, create_app

pytestmark = pytest.mark.slow

SKILL_ID = "amzn1.ask.skill.fuzz"
SILENT = {"SessionEndedRequest", "System.ExceptionEncountered"}
BUDGET = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_MODEL = json.loads(
    (REPO_ROOT / "interaction_model/interactionModels/custom/en-US.json").read_text("utf-8")
)
INTENTS = {
    intent["name"]: [slot["name"] for slot in intent.get("slots", [])]
    for intent in _MODEL["interactionModel"]["languageModel"]["intents"]
}
KNOWN_TYPES = [
    "LaunchRequest", "IntentRequest", "SessionEndedRequest", "System.ExceptionEncountered",
    "CanFulfillIntentRequest", "Display.ElementSelected", "Alexa.Presentation.APL.UserEvent",
    "AudioPlayer.PlaybackStarted", "Connections.Response", "Messaging.MessageReceived",
]
HOSTILE = [
    "&", "<", ">", '"', "'", "]]>", "<speak>", "</speak>", "<![CDATA[", "&amp;", "&#38;", "&lt;",
    '<break time="100s"/>', '<audio src="https://evil.example/a.mp3"/>', "<!-- x -->",
    "<?xml version='1.0'?>", "\u202e", "\u200b", "\ufeff", "\U0001f4a5", "\u00e9", "\u0301",
    "\u4e2d\u6587", "\ufffd", "%s", "{query}", "\\", "\n", "\t",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6,
)
slot_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), max_size=12).map("".join),
    st.tuples(st.sampled_from(HOSTILE + ["a"]), st.integers(200, 2000)).map(lambda t: t[0] * t[1]),
)


def base_envelope(request: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    application = {"applicationId": SKILL_ID}
    user = {"userId": "amzn1.ask.account.FUZZ"}
    return {
        "version": "1.0",
        "session": {"new": not attributes, "sessionId": "amzn1.echo-api.session.fuzz",
                    "application": application, "user": user, "attributes": attributes},
        "context": {"System": {"application": application, "user": user,
                               "device": {"deviceId": "amzn1.ask.device.fuzz",
                                          "supportedInterfaces": {}}}},
        "request": {"requestId": "amzn1.echo-api.request.fuzz", "locale": "en-US",
                    "timestamp": "2026-01-01T07:00:00Z", **request},
    }


@st.composite
def requests_(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.one_of(st.sampled_from(KNOWN_TYPES), st.text(max_size=30)))
    request: dict[str, Any] = {"type": kind}
    if kind == "IntentRequest":
        name = draw(st.one_of(st.sampled_from(sorted(INTENTS)), st.text(max_size=30)))
        names = INTENTS.get(name) or draw(st.lists(st.text(min_size=1, max_size=8), max_size=2))
        slots = {
            slot: {"name": slot, "value": draw(slot_text), "confirmationStatus": "NONE"}
            for slot in names
            if draw(st.booleans())
        }
        request["intent"] = {"name": name, "confirmationStatus": "NONE", "slots": slots}
        request["dialogState"] = draw(st.sampled_from(["STARTED", "IN_PROGRESS", "COMPLETED"]))
    elif kind == "SessionEndedRequest":
        reasons = ["USER_INITIATED", "ERROR", "EXCEEDED_MAX_REPROMPTS"]
        request["reason"] = draw(st.sampled_from(reasons))
        if draw(st.booleans()):
            request["error"] = {"type": "INVALID_RESPONSE", "message": draw(slot_text)}
    elif kind == "System.ExceptionEncountered":
        request["error"] = {"type": "INVALID_RESPONSE", "message": draw(slot_text)}
        request["cause"] = {"requestId": "amzn1.echo-api.request.earlier"}
    return request


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible envelope, then a few hostile edits: keys dropped, values of the wrong type."""
    attributes = draw(st.one_of(
        st.just({}),
        st.dictionaries(st.sampled_from(["profile", "stored", "step", "routine", "tz", "x"]),
                        json_values, max_size=4),
    ))
    event = base_envelope(draw(requests_()), attributes)
    paths = sorted(_paths(event))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(paths))
        parent = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        if path[-1] in ("apiEndpoint", "apiAccessToken"):
            continue  # never let the skill call out to a fuzzed host
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return event


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def assert_valid_response(out: Any, event: dict[str, Any]) -> None:
    assert isinstance(out, dict), out
    assert out.get("version"), out
    response = out.get("response")
    assert isinstance(response, dict), out
    kind = _get(event, "request", "type")
    speech = response.get("outputSpeech")
    if isinstance(kind, str) and kind in SILENT:
        assert speech is None, f"Alexa allows no speech for {kind}: {out}"
        return
    if kind == "CanFulfillIntentRequest" and "canFulfillIntent" in response:
        # A name-free query gets a verdict and nothing else (skill/alexa/can_fulfill.py).
        assert speech is None and set(response) == {"canFulfillIntent"}, out
        assert response["canFulfillIntent"]["canFulfill"] in ("YES", "MAYBE", "NO"), out
        return
    assert speech is not None, f"no speech for {kind!r}: {out}"
    for part in (speech, (response.get("reprompt") or {}).get("outputSpeech")):
        if part is None:
            continue
        assert part["type"] == "SSML", part
        root = ElementTree.fromstring(part["ssml"])  # raises if a slot broke the markup
        assert root.tag == "speak", part["ssml"]


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_skill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real skill with its SQLite store in a temporary directory, installed as the one
    skill.alexa.app.handler uses (and put back afterwards)."""
    store = SQLiteStore(tmp_path_factory.mktemp("fuzz") / "skill.db")
    built = skill.alexa.app.build_skill(persistence=store, skill_id=SKILL_ID)
    previous, skill.alexa.app._skill = skill.alexa.app._skill, built
    yield built
    skill.alexa.app._skill = previous


@pytest.fixture(scope="module")
def web_client(fuzz_skill: Any) -> Any:
    return create_app(fuzz_skill, verify=False, skill_id=SKILL_ID).test_client()


# --- the Lambda handler ---------------------------------------------------------------------

@BUDGET
@given(event=envelopes())
def test_handler_always_answers_with_a_valid_response(fuzz_skill: Any, event: dict) -> None:
    sent = copy.deepcopy(event)
    try:
        out = skill.alexa.app.handler(event, None)
    except AskSdkException as error:
        assert "Skill ID" in str(error)
        assert _get(sent, "context", "System", "application", "applicationId") != SKILL_ID
        return
    assert_valid_response(out, sent)


@BUDGET
@given(event=st.one_of(json_values, st.dictionaries(st.sampled_from(
    ["version", "session", "context", "request"]), json_values, max_size=4)))
def test_handler_survives_envelopes_that_are_not_envelopes(fuzz_skill: Any, event: Any) -> None:
    try:
        out = skill.alexa.app.handler(event, None)
    except AskSdkException as error:
        assert "Skill ID" in str(error)
        return
    assert isinstance(out, dict) and "response" in out


@BUDGET
@given(
    intent=st.sampled_from(sorted(name for name, slots in INTENTS.items() if slots)),
    value=slot_text,
    started=st.booleans(),
)
def test_slot_text_reaches_speech_escaped(
    fuzz_skill: Any, intent: str, value: str, started: bool
) -> None:
    slots = {s: {"name": s, "value": value, "confirmationStatus": "NONE"} for s in INTENTS[intent]}
    attributes: dict[str, Any] = {}
    if started:  # the same words mid-routine, where the coach has more to say
        launch = skill.alexa.app.handler(base_envelope({"type": "LaunchRequest"}, {}), None)
        attributes = launch.get("sessionAttributes") or {}
    event = base_envelope(
        {"type": "IntentRequest", "intent": {"name": intent, "slots": slots}}, attributes
    )
    assert_valid_response(skill.alexa.app.handler(event, None), event)


# --- the web app ----------------------------------------------------------------------------

@BUDGET
@given(envelope=envelopes())
def test_web_app_answers_400_or_a_valid_response(web_client: Any, envelope: dict) -> None:
    body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
    answer = web_client.post("/", data=body, content_type="application/json")
    if len(body) > MAX_BODY_BYTES:
        assert answer.status_code == 413
        return
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[:500]
    event(f"HTTP {answer.status_code}")
    if answer.status_code == 200:
        assert_valid_response(answer.get_json(), envelope)


def test_unmutated_envelopes_get_real_answers(web_client: Any) -> None:
    """The fuzzing starts from envelopes the skill really answers, over HTTP and in Lambda."""
    for kind in ("LaunchRequest", "IntentRequest"):
        request = {"type": kind}
        if kind == "IntentRequest":
            request["intent"] = {"name": "AMAZON.HelpIntent", "slots": {}}
        envelope = base_envelope(request, {})
        answer = web_client.post("/", json=envelope)
        assert answer.status_code == 200
        assert_valid_response(answer.get_json(), envelope)
        assert_valid_response(skill.alexa.app.handler(copy.deepcopy(envelope), None), envelope)


@BUDGET
@given(body=st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
))
def test_web_app_rejects_garbage_with_400(web_client: Any, body: bytes) -> None:
    answer = web_client.post("/", data=body, content_type="application/json")
    assert answer.status_code == 400, answer.get_data(as_text=True)[:500]
