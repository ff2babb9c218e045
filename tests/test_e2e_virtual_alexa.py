"""End to end: the real web service on 127.0.0.1, driven by virtual-alexa with the real model.

`python -m tools serve` runs with SKILL_DEV=1 (signature checks off, loopback only) on a free
port with its own SQLite file; virtual-alexa resolves each utterance with
interaction_model/interactionModels/custom/en-US.json, exactly as written, and carries the
session attributes between turns. virtual-alexa stamps requests with the real clock, so the
server is given a time zone (SKILL_TIME_ZONE, used when the Settings API is unavailable) in which
it is now eight in the morning: the launch then always offers the morning routine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from skill.core import content
from tests.support import REPO_ROOT
from tests.support.ssml import response_errors, spoken_text
from tests.support.virtual_alexa import VirtualAlexa

pytestmark = pytest.mark.slow

MODEL = REPO_ROOT / "interaction_model" / "interactionModels" / "custom" / "en-US.json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def zone_where_it_is_eight_am(now: datetime) -> str:
    offset = (8 - now.astimezone(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is UTC+3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SKILL_TABLE", "SKILL_ID")}
    env.update(SKILL_DEV="1", PORT=str(port),
               SKILL_DB=str(tmp_path_factory.mktemp("e2e") / "skill.db"),
               SKILL_TIME_ZONE=zone_where_it_is_eight_am(datetime.now(UTC)))
    log = tmp_path_factory.mktemp("e2e-log") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "webservice"], cwd=REPO_ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dev server did not start:\n{Path(log).read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert "SIGNATURE AND TIMESTAMP CHECKS OFF" in Path(log).read_text(), "dev mode must say so"


class Turn:
    def __init__(self, response: dict[str, Any], request: dict[str, Any] | None) -> None:
        self.response = response
        self.request = request or {}
        self.body = response.get("response") or {}
        self.text = spoken_text((self.body.get("outputSpeech") or {}).get("ssml", ""))

    @property
    def intent(self) -> str | None:
        return (self.request.get("request", {}).get("intent") or {}).get("name")


def said(alexa: VirtualAlexa, utterance: str | None, checked: list[Turn]) -> Turn:
    response = alexa.launch() if utterance is None else alexa.utter(utterance)
    turn = Turn(response, alexa.last_request)
    kind = turn.request.get("request", {}).get("type")
    errors = response_errors(response, request_type=kind)
    assert not errors, f"{utterance!r}: {errors}"
    checked.append(turn)
    return turn


def variants(key: str) -> list[str]:
    lines = content.prompts("en-US").raw(key)
    return [lines] if isinstance(lines, str) else list(lines)


def test_a_morning_in_bed_through_the_running_app(server: str) -> None:
    checked: list[Turn] = []
    with VirtualAlexa(MODEL, server) as alexa:
        opening = said(alexa, None, checked)
        assert any(g in opening.text for g in variants("greeting.morning")), opening.text
        assert any(o in opening.text for o in variants("offer.morning")), opening.text
        assert "not a doctor" in opening.text  # a first use
        assert opening.body["shouldEndSession"] is False

        asked = said(alexa, "yes", checked)
        assert asked.intent == "AMAZON.YesIntent"
        assert any(q in asked.text for q in variants("body.gate"))  # once, before the first
        first = said(alexa, "no", checked)
        assert first.intent == "AMAZON.NoIntent"
        assert "step 1 of 7" in first.text.lower() and first.body["shouldEndSession"] is False
        session = alexa.session()
        assert session["active"] and session["attributes"]["coach"]["routine"] == "morning"
        assert session["attributes"]["coach"]["step"] == 0

        for number in (2, 3):
            step = said(alexa, "next", checked)
            assert step.intent == "AMAZON.NextIntent"
            assert f"step {number} of 7" in step.text.lower()
        assert alexa.session()["attributes"]["coach"]["step"] == 2

        answer = said(alexa, "why is my back worse in the morning", checked)
        assert answer.intent == "QuestionIntent"
        query = answer.request["request"]["intent"]["slots"]["query"]["value"]
        assert query == "is my back worse in the morning"
        assert not any(u in answer.text for u in variants("answer.unknown")), answer.text
        assert "step" not in answer.text.lower() and len(answer.text) > 80, answer.text
        assert any(a in answer.text for a in variants("routine.next_question"))
        assert alexa.session()["attributes"]["coach"]["step"] == 2, "a question keeps the place"

        hurt = said(alexa, "that hurts", checked)
        assert hurt.intent == "HurtIntent"
        assert any(a in hurt.text for a in variants("hurt.stop"))
        assert any(a in hurt.text for a in variants("hurt.offer"))
        assert alexa.session()["attributes"]["coach"]["pending"] == ["hurt", ""]

        skipped = said(alexa, "skip", checked)
        assert skipped.intent == "SkipIntent"
        assert any(a in skipped.text for a in variants("navigate.skipped"))
        assert "step 4 of 7" in skipped.text.lower()
        assert alexa.session()["attributes"]["coach"]["step"] == 3

        goodbye = said(alexa, "stop", checked)
        assert goodbye.intent == "AMAZON.StopIntent"
        assert goodbye.body["shouldEndSession"] is True
        assert any(a in goodbye.text for a in variants("goodbye.stop"))
        assert not alexa.session()["active"]

        # The next session remembers the person: no disclaimer, and the unfinished routine.
        again = said(alexa, None, checked)
        assert "not a doctor" not in again.text
        assert "step 4" in again.text.lower(), again.text
    assert len(checked) == 10


def test_statements_and_ordinary_commands_through_the_running_app(server: str) -> None:
    """Words that matched no sample before: virtual-alexa now routes them, with the real model."""
    checked: list[Turn] = []
    with VirtualAlexa(MODEL, server) as alexa:
        said(alexa, None, checked)
        asked = said(alexa, "let's do the morning routine", checked)
        assert asked.intent == "StartRoutineIntent"
        started = said(alexa, "no", checked)  # nothing to declare in the one-off body check
        assert "step 1 of 7" in started.text.lower()
        waiting = said(alexa, "not yet", checked)
        assert waiting.intent == "WaitIntent"  # the coach's own answer is the lead's to give
        assert waiting.body["shouldEndSession"] is False
        tingling = said(alexa, "my leg is tingling", checked)
        assert tingling.intent == "QuestionIntent"
        assert tingling.request["request"]["intent"]["slots"]["query"]["value"] == \
            "leg is tingling"
        assert tingling.body["shouldEndSession"] is True, "a red flag ends the stretching"
        statement = said(alexa, "I think my bed is trying to kill me", checked)  # a new session
        assert statement.intent == "QuestionIntent"
        assert statement.body["shouldEndSession"] is False
        # Opening with the symptom: its own intent, the words put back, the screen's answer.
        opening = said(alexa, "pain right up between my shoulder blades", checked)
        assert opening.intent == "QuestionIntent_pain"
        assert opening.request["request"]["intent"]["slots"]["query"]["value"] == \
            "right up between my shoulder blades"
        assert opening.body["shouldEndSession"] is True, "urgent: no stretch today"


def test_a_name_free_query_over_https_gets_a_verdict_and_nothing_else(server: str) -> None:
    import json

    from tools import envelopes, resolver

    request = envelopes.can_fulfill_request(resolver.language_model(), "QuestionIntent",
                                            {"query": "my back is stiff this morning"})
    event = envelopes.envelope(request, envelopes.Caller(session_id="amzn1.echo-api.session.nf"),
                               request_id="amzn1.echo-api.request.nf",
                               timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    post = urllib.request.Request(server, data=json.dumps(event).encode(), method="POST",
                                  headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(post, timeout=10) as answer:
        body = json.loads(answer.read())
    assert body["response"] == {"canFulfillIntent": {
        "canFulfill": "YES", "slots": {"query": {"canUnderstand": "YES", "canFulfill": "YES"}}}}
