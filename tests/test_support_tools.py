"""The offline stand-ins work, and they catch the mistakes they exist to catch."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.support import espeak, send_json
from tests.support.dynalite import create_skill_table, running_dynalite
from tests.support.ssml import (
    platform_errors,
    platform_errors_many,
    response_errors,
    responses_errors,
    spoken_text,
)
from tests.support.virtual_alexa import VirtualAlexa, VirtualAlexaError

pytestmark = pytest.mark.slow


def speak(body: str) -> str:
    return f"<speak>{body}</speak>"


def only_rules(errors: list[str]) -> set[str]:
    return {e.split("]")[0] + "]" for e in errors if e.startswith("[")}


# --- SSML -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ssml",
    [
        speak("Lie on your back."),
        speak('Hold it <break time="10s"/><break time="10s"/> and relax.'),
        speak('A pause <break/> then <break strength="strong"/> more.'),
        speak('<amazon:effect name="whispered">breathe out</amazon:effect>'),
        speak('<prosody rate="90%">Slowly.</prosody> <say-as interpret-as="cardinal">3</say-as>'),
        speak("Knees &amp; hips &lt; shoulders."),
        speak("x" * (8000 - len(speak("")))),
    ],
)
def test_valid_ssml_passes(ssml: str) -> None:
    assert platform_errors(ssml) == []


@pytest.mark.parametrize(
    ("ssml", "rule"),
    [
        (speak('Hold <break time="12s"/> still.'), "[break-max]"),
        (speak('Hold <break time="10.5s"/> still.'), "[break-max]"),
        (speak('Hold <break time="5"/> still.'), "[break-unit]"),
        (speak("Knees & hips."), "[bare-ampersand]"),
        (speak("One < two."), "[bare-less-than]"),
        (speak("x" * (8001 - len(speak("")))), "[max-length]"),
        (speak("<whisper>hi</whisper>"), "[unknown-tag]"),
        (speak('Now <mark name="hold"/> hold.'), "[polly-only-tag]"),
        (speak("<amazon:auto-breaths>Relax.</amazon:auto-breaths>"), "[polly-only-tag]"),
        ("Lie on your back.", "[speak-root]"),
        (speak("one") + speak("two"), "[speak-root]"),
        (speak("<p>unclosed"), "[xml]"),
        ("", "[empty-speech]"),
        (speak('<break time="3s"/>'), "[empty-speech]"),
    ],
)
def test_invalid_ssml_is_caught_by_rule(ssml: str, rule: str) -> None:
    assert rule in only_rules(platform_errors(ssml))


def test_errors_show_the_offending_snippet() -> None:
    [error] = platform_errors(speak("Knees & hips."))
    assert "Knees & hips." in error
    assert any('<break time="12s"/>' in e for e in platform_errors(speak('A<break time="12s"/>')))


def test_checker_catches_what_it_knows_on_its_own() -> None:
    errors = platform_errors(speak('<prosody rate="5%">too slow</prosody>'))
    assert any(e.startswith("[ssml-check-core] <prosody> attribute rate") for e in errors)


def test_batch_is_one_round_trip_and_keeps_order() -> None:
    items = [speak(f"Stretch {i}.") if i % 2 else speak(f"Stretch {i} & rest.") for i in range(300)]
    results = platform_errors_many(items)
    assert [bool(r) for r in results] == [i % 2 == 0 for i in range(300)]


def test_spoken_text_strips_tags_and_entities() -> None:
    ssml = speak('Knees &amp; hips.<break time="1s"/> <s>Ready?</s>')
    assert spoken_text(ssml) == "Knees & hips. Ready?"


# --- whole responses --------------------------------------------------------------------------


def envelope(speech: str | None, reprompt: str | None = None, end: Any = "absent") -> dict:
    response: dict[str, Any] = {}
    if speech is not None:
        response["outputSpeech"] = {"type": "SSML", "ssml": speech}
    if reprompt is not None:
        response["reprompt"] = {"outputSpeech": {"type": "SSML", "ssml": reprompt}}
    if end != "absent":
        response["shouldEndSession"] = end
    return {"version": "1.0", "sessionAttributes": {}, "response": response}


def with_card(reply: dict, content: str) -> dict:
    reply["response"]["card"] = {"type": "Simple", "title": "Stretch", "content": content}
    return reply


def test_good_responses_pass() -> None:
    question = speak('Ready for the next one? <break time="1s"/>')
    assert response_errors(envelope(question, speak("Shall we go on?"), False)) == []
    assert response_errors(envelope(speak("Well done. Bye."), None, True)) == []
    # No reprompt: Alexa listens once, then silence ends the session (kind at bedtime).
    assert response_errors(envelope(speak("Shall I go on?"), None, False)) == []
    ended = {"version": "1.0", "response": {}}
    assert response_errors(ended, request_type="SessionEndedRequest") == []


@pytest.mark.parametrize(
    ("reply", "rule"),
    [
        (envelope(speak("Ready?"), speak('<break time="3s"/>'), False), "[open-session-reprompt]"),
        (envelope(speak("Lie down."), speak("Ready?"), False), "[open-session-question]"),
        (envelope(speak("Goodbye.")), "[should-end-session]"),
        (envelope(None), "[should-end-session]"),
        ({"version": "1.0"}, "[envelope]"),
        (with_card(envelope(speak("Bye."), None, True), "x" * 25_000), "[response-size]"),
    ],
)
def test_bad_responses_are_caught(reply: dict, rule: str) -> None:
    assert rule in only_rules(response_errors(reply))


def test_invalid_speech_inside_a_response_says_where() -> None:
    errors = response_errors(envelope(speak("Ready?"), speak("Knees & hips?"), False))
    assert errors and errors[0].startswith("reprompt: [bare-ampersand]")


def test_session_ended_response_must_not_speak() -> None:
    errors = response_errors(envelope(speak("Bye.")), request_type="SessionEndedRequest")
    assert "[session-ended]" in only_rules(errors)


# --- espeak-ng ----------------------------------------------------------------------------------


def test_espeak_prepare_works_around_its_quirks() -> None:
    prepared, leading = espeak.prepare(
        speak(
            '<break time="2s"/>Hi <prosody rate="50%">slow <break time="1.5s"/><break time="3s"/>'
            ' down</prosody><amazon:effect name="whispered">psst</amazon:effect>'
        )
    )
    assert leading == 2.0
    assert prepared == (
        '<speak>Hi <prosody rate="50%">slow </prosody><break time="4500ms"/>'
        '<prosody rate="50%"> down</prosody>psst</speak>'
    )


def test_espeak_measures_breaks() -> None:
    espeak.ensure_available()
    words = espeak.spoken_seconds(speak("Hold it there."))
    assert 0.3 < words < 3
    five = espeak.spoken_seconds(speak('Hold it <break time="5s"/> there.'))
    assert five - words == pytest.approx(5.0, abs=0.25)
    chained = espeak.spoken_seconds(speak('Hold it <break time="10s"/><break time="2s"/> there.'))
    assert chained - words == pytest.approx(12.0, abs=0.25)
    slow_words = espeak.spoken_seconds(speak('<prosody rate="50%">Hold it there.</prosody>'))
    slow = espeak.spoken_seconds(
        speak('<prosody rate="50%">Hold it <break time="5s"/> there.</prosody>')
    )
    assert slow_words > words * 1.5
    assert slow - slow_words == pytest.approx(5.0, abs=0.4)
    assert espeak.spoken_seconds(speak('<break time="3s"/>Now.')) > 3


# --- dynalite -----------------------------------------------------------------------------------


def test_dynalite_round_trip_counts_and_outage() -> None:
    with running_dynalite(persist=True) as db:
        assert db.endpoint.startswith("http://127.0.0.1:")
        create_skill_table(db.endpoint, "skill-test")
        client = db.client(retries={"max_attempts": 1})
        db.reset_counts()
        client.put_item(TableName="skill-test", Item={"id": {"S": "user-1"}, "n": {"N": "1"}})
        item = client.get_item(TableName="skill-test", Key={"id": {"S": "user-1"}})["Item"]
        assert item["n"] == {"N": "1"}
        assert db.counts() == {"PutItem": 1, "GetItem": 1}

        endpoint = db.endpoint
        db.stop()
        with pytest.raises(EndpointConnectionError):
            client.get_item(TableName="skill-test", Key={"id": {"S": "user-1"}})
        db.start()
        assert db.endpoint == endpoint
        assert client.get_item(TableName="skill-test", Key={"id": {"S": "user-1"}})["Item"] == item
        assert db.counts() == {"PutItem": 1, "GetItem": 2}  # refused requests are not counted
        db.reset_counts()
        assert db.counts() == {}


def test_dynalite_in_memory_forgets_on_restart() -> None:
    with running_dynalite() as db:
        create_skill_table(db.endpoint, "skill-test")
        db.stop()
        db.start()
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            db.client().describe_table(TableName="skill-test")


# --- virtual-alexa ------------------------------------------------------------------------------

MODEL = {
    "interactionModel": {
        "languageModel": {
            "invocationName": "bedside stretch test",
            "intents": [
                {"name": "AMAZON.StopIntent", "samples": []},
                {"name": "AMAZON.HelpIntent", "samples": []},
                {"name": "NextIntent", "samples": ["next", "next stretch", "go on"]},
                {
                    "name": "HoldIntent",
                    "slots": [{"name": "seconds", "type": "AMAZON.NUMBER"}],
                    "samples": ["hold for {seconds} seconds"],
                },
            ],
            "types": [],
        }
    }
}


class _Skill(BaseHTTPRequestHandler):
    """A throwaway skill: counts turns in session attributes, stops on StopIntent."""

    received: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append(event)
        request = event["request"]
        if request["type"] == "SessionEndedRequest":
            body: dict[str, Any] = {"version": "1.0", "response": {}}
        elif request.get("intent", {}).get("name") == "AMAZON.StopIntent":
            body = envelope(speak("Goodbye."), None, True)
        else:
            turns = (event["session"].get("attributes") or {}).get("turns", 0) + 1
            slot = request.get("intent", {}).get("slots", {}).get("seconds", {}).get("value")
            said = speak(f"Turn {turns}, slot {slot}. Next?")
            body = envelope(said, speak("Shall we go on?"), False)
            body["sessionAttributes"] = {"turns": turns}
        send_json(self, 200, body)


@pytest.fixture(scope="module")
def skill_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Skill)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "en-US.json"
    path.write_text(json.dumps(MODEL))
    return path


def said(reply: dict) -> str:
    return spoken_text(reply["response"]["outputSpeech"]["ssml"])


def test_virtual_alexa_keeps_session_attributes_across_turns(
    model_path: Path, skill_url: str
) -> None:
    with VirtualAlexa(model_path, skill_url) as alexa:
        first = alexa.launch()
        assert said(first) == "Turn 1, slot None. Next?"
        assert alexa.last_request["request"]["type"] == "LaunchRequest"
        assert said(alexa.utter("Next stretch")) == "Turn 2, slot None. Next?"
        assert alexa.last_request["session"]["attributes"] == {"turns": 1}
        reply = alexa.intend("HoldIntent", {"seconds": 30})
        assert said(reply) == "Turn 3, slot 30. Next?"
        # Unlike Alexa, virtual-alexa passes a spoken number through as words.
        assert said(alexa.utter("hold for five seconds")) == "Turn 4, slot five. Next?"
        assert alexa.session()["attributes"] == {"turns": 4}
        assert response_errors(reply) == []

        goodbye = alexa.utter("stop")
        assert response_errors(goodbye) == []
        assert alexa.session()["active"] is False
        assert said(alexa.utter("next")) == "Turn 1, slot None. Next?"  # a new session

        ended = alexa.end()
        assert alexa.last_request["request"]["reason"] == "USER_INITIATED"
        assert response_errors(ended, request_type="SessionEndedRequest") == []


def test_virtual_alexa_surfaces_errors_and_traps(model_path: Path, skill_url: str) -> None:
    with VirtualAlexa(model_path, skill_url) as alexa:
        alexa.launch()
        with pytest.raises(VirtualAlexaError, match="Unable to match utterance"):
            alexa.utter("do a cartwheel")
        with pytest.raises(VirtualAlexaError, match="LaunchRequest because it contains 'ask'"):
            alexa.utter("put the basket down")
        with pytest.raises(VirtualAlexaError, match="SessionEndedRequest"):
            alexa.utter("exit")
        with pytest.raises(VirtualAlexaError, match="undefined slot"):
            alexa.intend("HoldIntent", {"minutes": 3})
    with VirtualAlexa(model_path, "http://127.0.0.1:9/") as nowhere:
        with pytest.raises(VirtualAlexaError, match="ECONNREFUSED"):
            nowhere.launch()


def test_virtual_alexa_device_and_ids(model_path: Path, skill_url: str) -> None:
    with VirtualAlexa(model_path, skill_url) as plain:
        plain.launch()
        assert "deviceId" not in plain.last_request["context"]["System"]["device"]
        assert "apiEndpoint" not in plain.last_request["context"]["System"]
    with VirtualAlexa(
        model_path,
        skill_url,
        device_id="device-1",
        api_endpoint="http://127.0.0.1:1234",
        user_id="amzn1.ask.account.test",
        application_id="amzn1.ask.skill.test",
    ) as alexa:
        alexa.launch()
        system = alexa.last_request["context"]["System"]
        assert system["device"]["deviceId"] == "device-1"
        assert system["apiEndpoint"] == "http://127.0.0.1:1234"
        assert system["user"]["userId"] == "amzn1.ask.account.test"
        assert system["application"]["applicationId"] == "amzn1.ask.skill.test"
        assert _Skill.received[-1] == alexa.last_request


def test_a_batch_of_responses_is_checked_as_each_alone() -> None:
    def said(ssml: str, end: object = False) -> dict:
        return {"response": {"outputSpeech": {"type": "SSML", "ssml": ssml},
                             "shouldEndSession": end}}

    batch = [(said("<speak>a & b</speak>"), None), (said("<speak>Ready?</speak>"), None),
             (said("<speak><mark name='x'/>Bye.</speak>", True), None),
             (said("<speak>Ready?</speak>", True), "SessionEndedRequest"), ({}, None)]
    alone = [response_errors(envelope, request_type=kind) for envelope, kind in batch]
    assert responses_errors(batch) == alone
    assert [bool(errors) for errors in alone] == [True, False, True, True, True]
