"""The skill as a web service: what Alexa (or anyone else) gets back over HTTP.

Signed requests use a PKI the tests build (tests/support/pki.py): Amazon's certificate server
cannot be reached from here, so the chain is handed to the verifier through its test-only
`fetch=` argument, for a URL that still passes Amazon's s3.amazonaws.com/echo.api/ rules, and the
test root through `trust_roots=`. Everything else is the production code path.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

import pytest
import requests
from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from flask import Flask
from flask.testing import FlaskClient

from bench.load import running_server, slow_clients
from tests.support import REPO_ROOT
from tests.support.pki import CERT_URL, Pki, make_pki
from webservice.app import (
    INFO_LOGGERS,
    MAX_BODY_BYTES,
    configure_logging,
    create_app,
    dev_mode_refusals,
)
from webservice.verify import SignatureVerifier

SKILL_ID = "amzn1.ask.skill.test"
USER_ID = "amzn1.ask.account.SECRET-USER-7f3a"
UTTERANCE = "my secret words about my sore back"


# --- a tiny skill standing in for skill.alexa.app until it lands; the contract is the same --------

class _Launch(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        rb = handler_input.response_builder
        return rb.speak("Welcome to the test skill.").ask("Shall we start?").response


class _Echo(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        slots = handler_input.request_envelope.request.intent.slots or {}
        heard = getattr(slots.get("query"), "value", None) or "nothing"
        return handler_input.response_builder.speak(f"You said {escape(heard)}.").response


class _Ended(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.response


class _Sorry(AbstractExceptionHandler):
    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        return handler_input.response_builder.speak("Sorry, something went wrong.").response


def tiny_skill(skill_id: str = SKILL_ID) -> CustomSkill:
    builder = SkillBuilder()
    builder.skill_id = skill_id
    for handler in (_Launch(), _Echo(), _Ended()):
        builder.add_request_handler(handler)
    builder.add_exception_handler(_Sorry())
    return builder.create()


def stamp(offset_s: float = 0) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    request: dict[str, Any] | None = None,
    *,
    skill_id: str = SKILL_ID,
    timestamp: str | None = None,
) -> dict[str, Any]:
    request = {"type": "LaunchRequest", "locale": "en-US", **(request or {})}
    request.setdefault("requestId", "amzn1.echo-api.request.1")
    request.setdefault("timestamp", timestamp or stamp())
    application = {"applicationId": skill_id}
    user = {"userId": USER_ID}
    return {
        "version": "1.0",
        "session": {
            "new": True, "sessionId": "amzn1.echo-api.session.1", "application": application,
            "user": user, "attributes": {},
        },
        "context": {"System": {"application": application, "user": user,
                               "device": {"deviceId": "amzn1.ask.device.1"}}},
        "request": request,
    }


def intent(query: str) -> dict[str, Any]:
    return {"type": "IntentRequest", "intent": {
        "name": "AskIntent", "confirmationStatus": "NONE",
        "slots": {"query": {"name": "query", "value": query, "confirmationStatus": "NONE"}},
    }}


def encode(env: dict[str, Any]) -> bytes:
    return json.dumps(env, ensure_ascii=False).encode("utf-8")


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def signed_app(trusted: Pki, served: Pki | None = None, skill: CustomSkill | None = None) -> Flask:
    """An app trusting `trusted`'s root and fetching `served`'s chain (default the same)."""
    served = served or trusted
    verifier = SignatureVerifier(trust_roots=[trusted.root], fetch=lambda url: served.chain_pem)
    return create_app(skill or tiny_skill(), skill_id=SKILL_ID, signature_verifier=verifier)


@pytest.fixture
def client(pki: Pki) -> FlaskClient:
    return signed_app(pki).test_client()


def post(
    client: FlaskClient, body: bytes, signer: Pki | None, *, url: str = CERT_URL,
    signed_body: bytes | None = None, **extra_headers: str,
):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signer is not None:
        headers["SignatureCertChainUrl"] = url
        headers["Signature-256"] = signer.sign(body if signed_body is None else signed_body)
    headers.update({k.replace("_", "-"): v for k, v in extra_headers.items()})
    return client.post("/", data=body, headers=headers)


def assert_alexa_response(payload: dict[str, Any]) -> None:
    from xml.dom import minidom

    assert payload["version"] == "1.0"
    speech = payload["response"].get("outputSpeech")
    if speech is not None:
        assert speech["type"] == "SSML"
        minidom.parseString(speech["ssml"])  # well-formed XML, or this raises


# --- a good request -------------------------------------------------------------------------

def test_good_signed_request_gets_a_valid_alexa_response(client: FlaskClient, pki: Pki) -> None:
    response = post(client, encode(envelope()), pki)
    assert response.status_code == 200, response.get_data(as_text=True)
    payload = response.get_json()
    assert_alexa_response(payload)
    assert "Welcome to the test skill" in payload["response"]["outputSpeech"]["ssml"]
    assert payload["response"]["shouldEndSession"] is False


def test_slot_text_reaches_speech_escaped(client: FlaskClient, pki: Pki) -> None:
    response = post(client, encode(envelope(intent("a & b <speak> ]]> \"'"))), pki)
    assert response.status_code == 200
    assert_alexa_response(response.get_json())


def test_timestamp_slightly_off_is_fine(client: FlaskClient, pki: Pki) -> None:
    for offset in (-100, 100):
        assert post(client, encode(envelope(timestamp=stamp(offset))), pki).status_code == 200


# --- everything that must be a 400 ----------------------------------------------------------

def test_tampered_body_is_400(client: FlaskClient, pki: Pki) -> None:
    original = encode(envelope())
    tampered = original.replace(b'"new": true', b'"new": false')
    assert tampered != original
    assert post(client, tampered, pki, signed_body=original).status_code == 400


def test_reserialized_body_is_400(client: FlaskClient, pki: Pki) -> None:
    """The signature covers the raw bytes: the same JSON with other spacing is not signed."""
    original = encode(envelope())
    respaced = json.dumps(json.loads(original), indent=1).encode()
    assert post(client, respaced, pki, signed_body=original).status_code == 400


def test_forged_chain_is_400(pki: Pki) -> None:
    forger = make_pki(label="forger")  # a valid-looking chain from a root we do not trust
    client = signed_app(pki, served=forger).test_client()
    assert post(client, encode(envelope()), forger).status_code == 400


def test_wrong_name_in_leaf_is_400() -> None:
    wrong = make_pki(leaf_names=("echo-api.amazon.com.evil.example",))
    assert post(signed_app(wrong).test_client(), encode(envelope()), wrong).status_code == 400


def test_expired_certificate_is_400() -> None:
    now = dt.datetime.now(dt.UTC)
    old = make_pki(not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
    assert post(signed_app(old).test_client(), encode(envelope()), old).status_code == 400


def test_not_yet_valid_certificate_is_400() -> None:
    now = dt.datetime.now(dt.UTC)
    early = make_pki(not_before=now + dt.timedelta(days=1), not_after=now + dt.timedelta(days=9))
    assert post(signed_app(early).test_client(), encode(envelope()), early).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://evil.example/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/other.path/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../x.pem",
        "https://s3.amazonaws.com/echo.api/%2E%2E/x.pem",
        "https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:abc/echo.api/echo-api-cert.pem",
    ],
)
def test_bad_certificate_url_is_400(client: FlaskClient, pki: Pki, url: str) -> None:
    assert post(client, encode(envelope()), pki, url=url).status_code == 400


def test_missing_signature_headers_are_400(client: FlaskClient, pki: Pki) -> None:
    body = encode(envelope())
    assert post(client, body, None).status_code == 400
    only_url = client.post("/", data=body, headers={"SignatureCertChainUrl": CERT_URL})
    assert only_url.status_code == 400
    only_sig = client.post("/", data=body, headers={"Signature-256": pki.sign(body)})
    assert only_sig.status_code == 400


@pytest.mark.parametrize("signature", ["", "%%%not-base64%%%", "QUJD", "A" * 343 + "="])
def test_bad_signature_value_is_400(client: FlaskClient, signature: str) -> None:
    headers = {"SignatureCertChainUrl": CERT_URL, "Signature-256": signature}
    assert client.post("/", data=encode(envelope()), headers=headers).status_code == 400


@pytest.mark.parametrize("offset_s", [-151, 151, -3600, 86400])
def test_stale_or_future_timestamp_is_400(client: FlaskClient, pki: Pki, offset_s: int) -> None:
    body = encode(envelope(timestamp=stamp(offset_s)))
    assert post(client, body, pki).status_code == 400


def test_wrong_skill_id_is_400_even_when_signed(client: FlaskClient, pki: Pki) -> None:
    body = encode(envelope(skill_id="amzn1.ask.skill.someone-else"))
    assert post(client, body, pki).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",  # not UTF-8
        b"[]",
        b"{}",
        b'{"request": 5}',
        b'{"version": "1.0", "request": {"type": "NoSuchRequest"}}',
        json.dumps({**envelope(), "context": None}).encode(),
    ],
)
def test_malformed_body_is_400(client: FlaskClient, pki: Pki, body: bytes) -> None:
    assert post(client, body, pki).status_code == 400


def test_huge_body_is_413(client: FlaskClient, pki: Pki) -> None:
    body = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert post(client, body, pki).status_code == 413


def test_huge_chunked_body_is_413(client: FlaskClient) -> None:
    """No Content-Length (chunked): gunicorn marks the stream terminated, werkzeug caps it."""
    body = b'{"pad": "' + b"x" * (4 * MAX_BODY_BYTES) + b'"}'
    response = client.post(
        "/", input_stream=io.BytesIO(body), content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_get_on_the_endpoint_is_405(client: FlaskClient) -> None:
    assert client.get("/").status_code == 405


def test_the_sdk_reads_only_bodies_that_passed_every_check(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 63 KB unsigned envelope, a forged one and a stale one are refused before the ask-sdk
    deserializes anything; a good one is deserialized once."""
    skill = tiny_skill()
    reads: list[int] = []
    real = skill.serializer.deserialize

    def deserialize(payload: str, obj_type: Any) -> Any:
        reads.append(len(payload))
        return real(payload=payload, obj_type=obj_type)

    monkeypatch.setattr(skill.serializer, "deserialize", deserialize)
    client = signed_app(pki, skill=skill).test_client()
    big = envelope()
    big["session"]["attributes"] = {"pad": "x" * (63 * 1024)}
    big_body = encode(big)
    assert post(client, big_body, None).status_code == 400  # unsigned
    assert post(client, big_body, pki, signed_body=b"other").status_code == 400  # forged
    stale = encode(envelope(timestamp=stamp(-999)))
    assert post(client, stale, pki).status_code == 400
    assert reads == []
    assert post(client, encode(envelope()), pki).status_code == 200
    assert len(reads) == 1


# --- the dispatch: flask-ask-sdk, behind the gate -------------------------------------------

def test_the_skill_is_dispatched_by_flask_ask_sdk(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route hands a request the gate passed to flask-ask-sdk's SkillAdapter, which reads the
    exact bytes received (the route cached them) and runs none of the SDK's own verifiers; a
    request the gate refused never reaches it."""
    # Imported here, after webservice.app: flask-ask-sdk needs webservice.verify's import guard.
    from ask_sdk_webservice_support.verifier import RequestVerifier, TimestampVerifier
    from ask_sdk_webservice_support.webservice_handler import WebserviceSkillHandler
    from flask_ask_sdk.skill_adapter import EXTENSION_NAME, SkillAdapter

    app = signed_app(pki)
    adapter = app.extensions[EXTENSION_NAME][SKILL_ID]  # where SkillAdapter registers itself
    assert isinstance(adapter, SkillAdapter)
    assert app.extensions["webservice.app"]["adapter"] is adapter
    adapted: list[int] = []
    dispatch = adapter.dispatch_request
    monkeypatch.setattr(adapter, "dispatch_request", lambda: adapted.append(1) or dispatch())
    bodies: list[str] = []
    handle = WebserviceSkillHandler.verify_request_and_dispatch

    def spy(self: Any, http_request_headers: Any, http_request_body: str) -> Any:
        bodies.append(http_request_body)
        return handle(self, http_request_headers, http_request_body)

    monkeypatch.setattr(WebserviceSkillHandler, "verify_request_and_dispatch", spy)
    sdk_checks: list[str] = []
    for sdk_verifier in (RequestVerifier, TimestampVerifier):
        monkeypatch.setattr(sdk_verifier, "verify",
                            lambda self, *a, **k: sdk_checks.append(type(self).__name__))
    client = app.test_client()
    body = encode(envelope(intent("how long should I hold it")))
    assert post(client, body, None).status_code == 400  # unsigned: refused by the gate
    assert post(client, body, pki, signed_body=b"other").status_code == 400  # forged
    assert adapted == [] and bodies == []
    answer = post(client, body, pki)
    assert answer.status_code == 200
    assert "You said how long" in answer.get_json()["response"]["outputSpeech"]["ssml"]
    assert adapted == [1]
    assert bodies == [body.decode("utf-8")]
    assert sdk_checks == []


def boom_skill(error: type[Exception]) -> CustomSkill:
    """A skill whose handler fails with what the person said in the message, and no exception
    handler to catch it: the worst case for what an error might leak."""

    class Boom(AbstractRequestHandler):
        def can_handle(self, handler_input: HandlerInput) -> bool:
            return True

        def handle(self, handler_input: HandlerInput) -> Response:
            raise error(f"could not handle {UTTERANCE} for {USER_ID}")

    builder = SkillBuilder()
    builder.skill_id = SKILL_ID
    builder.add_request_handler(Boom())
    return builder.create()


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as it would be written, tracebacks included."""
    formatter = logging.Formatter()
    return "\n".join(
        formatter.format(record) + (formatter.formatException(record.exc_info)
                                    if record.exc_info else "")
        for record in caplog.records
    )


@pytest.mark.parametrize(
    "error",
    [
        ValueError,  # not the SDK's: SkillAdapter lets it out
        AskSdkException,  # the SDK's: SkillAdapter logs its traceback and answers 500
    ],
)
def test_a_skill_failure_is_a_500_that_quotes_nothing(
    pki: Pki, caplog: pytest.LogCaptureFixture, error: type[Exception]
) -> None:
    client = signed_app(pki, skill=boom_skill(error)).test_client()
    with caplog.at_level(logging.DEBUG):
        answer = post(client, encode(envelope(intent(UTTERANCE))), pki)
    assert answer.status_code == 500
    assert answer.get_json() == {"error": "the skill could not answer"}
    text = log_text(caplog)
    assert f"skill dispatch failed: {error.__name__}" in text and "POST / 500" in text
    for secret in (USER_ID, UTTERANCE, "Traceback"):
        assert secret not in text


def test_a_signed_body_the_sdk_cannot_read_is_a_400_that_quotes_nothing(
    client: FlaskClient, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    """Amazon may sign a request type this SDK version does not know: the client's 400."""
    unknown = envelope(intent(UTTERANCE))
    unknown["request"]["type"] = "NoSuchRequest"
    with caplog.at_level(logging.DEBUG):
        answer = post(client, encode(unknown), pki)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "not an Alexa request envelope"}
    text = log_text(caplog)
    assert "rejected a body the SDK cannot read" in text
    for secret in (USER_ID, UTTERANCE, "Traceback"):
        assert secret not in text


# --- health, dev mode, configuration --------------------------------------------------------

@pytest.mark.slow
def test_health_answers_without_calling_the_skill(pki: Pki) -> None:
    calls = []

    class Spy(CustomSkill):
        def invoke(self, *args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return super().invoke(*args, **kwargs)

    skill = tiny_skill()
    skill.__class__ = Spy
    response = signed_app(pki, skill=skill).test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert calls == []


@pytest.mark.parametrize(
    ("host", "env", "reason"),
    [
        ("0.0.0.0", {}, "not a loopback address"),
        ("192.0.2.10", {}, "not a loopback address"),
        ("127.0.0.1", {"SKILL_TABLE": "bedside-profiles"}, "SKILL_TABLE"),
        ("127.0.0.1", {"SKILL_ID": "amzn1.ask.skill.0a1b2c3d-4e5f-6789-abcd-ef0123456789"},
         "real skill"),
    ],
)
def test_dev_mode_refuses_a_production_configuration(
    host: str, env: dict[str, str], reason: str
) -> None:
    assert any(reason in r for r in dev_mode_refusals(host, env))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_dev_mode_is_allowed_on_loopback_with_made_up_ids(host: str) -> None:
    assert dev_mode_refusals(host, {"SKILL_ID": SKILL_ID, "SKILL_DB": "/tmp/x.db"}) == []


@pytest.mark.slow
def test_dev_mode_will_not_start_on_a_production_table(tmp_path: Any) -> None:
    port = free_port()
    env = {**os.environ, "SKILL_DEV": "1", "SKILL_TABLE": "bedside-profiles",
           "SKILL_DB": str(tmp_path / "x.db"), "SKILL_ID": SKILL_ID}
    out = subprocess.run([sys.executable, "-m", "webservice", "--port", str(port)],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "refuses to start on a production configuration" in out.stderr
    assert "SKILL_TABLE is set" in out.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=1)


@pytest.mark.slow
def test_dev_mode_will_not_start_off_loopback(tmp_path: Any) -> None:
    env = {**os.environ, "SKILL_DEV": "1", "SKILL_DB": str(tmp_path / "x.db")}
    env.pop("SKILL_TABLE", None)
    out = subprocess.run([sys.executable, "-m", "webservice", "--host", "0.0.0.0"],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "--host 0.0.0.0 is not a loopback address" in out.stderr


def test_logger_levels_are_set_not_inherited() -> None:
    names = ["", *INFO_LOGGERS, "ask_sdk_core", "urllib3", "werkzeug"]
    saved = {name: logging.getLogger(name).level for name in names}
    root = logging.getLogger()
    try:
        root.setLevel(logging.DEBUG)  # whatever the host process had, it is set explicitly
        configure_logging()
        assert root.level == logging.WARNING
        for name in INFO_LOGGERS:
            assert logging.getLogger(name).level == logging.INFO
        for library in ("ask_sdk_core", "urllib3", "werkzeug"):
            assert logging.getLogger(library).getEffectiveLevel() == logging.WARNING
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_verify_false_skips_signature_but_still_checks_skill_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = create_app(tiny_skill(), verify=False, skill_id=SKILL_ID).test_client()
    with caplog.at_level(logging.WARNING, logger="webservice.app"):
        assert post(client, encode(envelope()), None).status_code == 200
    assert "checks are OFF" in caplog.text
    wrong = encode(envelope(skill_id="amzn1.ask.skill.other"))
    assert post(client, wrong, None).status_code == 400


def test_verification_needs_a_skill_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILL_ID", raising=False)
    with pytest.raises(ValueError, match="SKILL_ID"):
        create_app(tiny_skill(skill_id=None), verify=True)


def test_mismatched_skill_ids_fail_at_start() -> None:
    with pytest.raises(ValueError, match="another skill ID"):
        create_app(tiny_skill(), skill_id="amzn1.ask.skill.other", verify=False)


def test_skill_id_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setenv("SKILL_ID", SKILL_ID)
    verifier = SignatureVerifier(trust_roots=[pki.root], fetch=lambda url: pki.chain_pem)
    client = create_app(tiny_skill(), signature_verifier=verifier).test_client()
    assert post(client, encode(envelope()), pki).status_code == 200
    assert post(client, encode(envelope(skill_id="x")), pki).status_code == 400


# --- logs -----------------------------------------------------------------------------------

def test_logs_hold_no_user_id_or_utterance(
    client: FlaskClient, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    good = encode(envelope(intent(UTTERANCE)))
    with caplog.at_level(logging.DEBUG):
        assert post(client, good, pki).status_code == 200
        assert post(client, good, pki, signed_body=b"other").status_code == 400  # bad signature
        unknown = envelope(intent(UTTERANCE))
        unknown["request"]["type"] = "NoSuchRequest"  # the SDK's error quotes the body
        assert post(client, encode(unknown), pki).status_code == 400
        stale = encode(envelope(intent(UTTERANCE), timestamp=stamp(-999)))
        assert post(client, stale, pki).status_code == 400
    text = log_text(caplog)
    assert "POST / 200" in text and "IntentRequest" in text  # we do log, just not that
    for secret in (USER_ID, "SECRET-USER", UTTERANCE, "secret words"):
        assert secret not in text
    assert "request rejected: signature does not match the body" in text
    assert "Traceback" not in text  # a rejected request is one line, not a stack trace


# --- the real server processes --------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Any) -> Iterator[Any]:
    started: list[subprocess.Popen] = []

    def start(command: list[str], **env: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        proc = subprocess.Popen(
            command + [f"PORT={port}"] if command[0] == "make" else command + ["--port", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, "PORT": str(port), "SKILL_ID": SKILL_ID,
                 "SKILL_DB": str(tmp_path / "skill.db"), "SKILL_TABLE": "", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: make, python, gunicorn workers
        )
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited early:\n{proc.stdout.read()}")
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    return proc, base
            except requests.ConnectionError:
                time.sleep(0.1)
        pytest.fail("server did not answer /health within 30 s")

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


# `-o STAMP`: do not let the stamps' prerequisites trigger a pip or apt install mid-test.
MAKE_SERVE = ["make", "-s", "-o", ".venv/.installed", "-o", ".venv/.apt-installed", "serve"]


@pytest.mark.slow
def test_make_serve_production_mode_answers_and_verifies(server: Any) -> None:
    proc, base = server(MAKE_SERVE, SKILL_DEV="")
    health = requests.get(base + "/health", timeout=5)
    assert health.json() == {"status": "ok", "verify": True}
    unsigned = requests.post(base + "/", data=encode(envelope()), timeout=5)
    assert unsigned.status_code == 400
    chunked = requests.post(base + "/", data=iter([b"x" * MAX_BODY_BYTES] * 4), timeout=5)
    assert chunked.status_code == 413


@pytest.mark.slow
def test_make_serve_dev_mode_answers_without_verification(server: Any) -> None:
    proc, base = server(MAKE_SERVE, SKILL_DEV="1")
    assert requests.get(base + "/health", timeout=5).json() == {"status": "ok", "verify": False}
    launch = requests.post(base + "/", data=encode(envelope()), timeout=10)
    assert launch.status_code == 200
    assert_alexa_response(launch.json())
    os.killpg(proc.pid, signal.SIGTERM)
    output = proc.communicate(timeout=10)[0]
    assert "CHECKS OFF" in output  # the banner
    assert "checks are OFF" in output  # the per-request warning


@pytest.mark.slow
def test_python_m_skill_web_runs_gunicorn(server: Any) -> None:
    proc, base = server([sys.executable, "-m", "webservice.app"], SKILL_DEV="")
    assert requests.get(base + "/health", timeout=5).json()["verify"] is True


# --- slow clients: the attack that used to take the service down ----------------------------

@pytest.mark.slow
def test_64_slow_clients_stop_neither_health_nor_alexa() -> None:
    """64 sockets on 127.0.0.1 send a byte a second, some after announcing a 60 KB body, some
    still in their headers, against the production setup (nginx in front of gunicorn, the real
    skill, verification on): /health and a signed request still answer within a second."""
    with running_server() as server:
        for trickle in ("body", "headers"):
            attack = slow_clients(server, trickle=trickle)
            assert attack["held"] == 64, attack  # nginx holds them all, cheaply
            assert attack["health_max_ms"] < 1000, attack
            assert attack["signed_max_ms"] < 1000, attack
            assert attack["signed_statuses"] == [200], attack


@pytest.mark.slow
def test_the_same_attack_starves_bare_gunicorn() -> None:
    """Without the buffering front, the same clients hold every gunicorn thread: this is the
    failure the production setup exists to prevent, and proof the attack above is real. One
    worker, so that the outcome does not depend on how the kernel spreads the attackers over
    workers (with two, one of them is sometimes left a free thread for a while)."""
    with running_server(front="gunicorn", env={"WEB_CONCURRENCY": "1"}) as server:
        attack = slow_clients(server, trickle="headers", probes=2, probe_timeout_s=2.0)
    assert attack["health_median_ms"] >= 2000, attack
    assert attack["signed_median_ms"] >= 2000, attack


FREEZEGUN_BLOCKER = """
# sitecustomize for one test: refuse `import freezegun` in this process, and write down who asked.
import importlib.abc, os, sys, traceback

class _NoFreezegun(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "freezegun":
            with open(os.environ["FREEZEGUN_ATTEMPTS"], "a") as record:
                record.write("".join(traceback.format_stack()) + "\\n")
            raise ImportError("freezegun is a test library: the web service must not import it")
        return None

sys.meta_path.insert(0, _NoFreezegun())
"""


@pytest.mark.slow
def test_the_web_service_never_imports_freezegun(tmp_path: Any) -> None:
    """ask-sdk-webservice-support declares freezegun, a test library, as a run-time dependency
    but never imports it (an upstream false dependency, so the production web lock leaves it
    out). With `import freezegun` refused in every Python process, the production setup (nginx,
    gunicorn, flask-ask-sdk, the real skill) starts and answers a signed request, and nothing
    even tried to import it."""
    (tmp_path / "sitecustomize.py").write_text(FREEZEGUN_BLOCKER)
    attempts = tmp_path / "attempts.txt"
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    env = {"PYTHONPATH": path, "FREEZEGUN_ATTEMPTS": str(attempts)}
    probe = subprocess.run([sys.executable, "-c", "import freezegun"], cwd=REPO_ROOT,
                           env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "must not import it" in probe.stderr  # the block is on
    attempts.unlink()
    with running_server(env=env) as server:
        body, headers = server.signed()
        answer = requests.post(server.base + "/", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert_alexa_response(answer.json())
    assert not attempts.exists(), attempts.read_text()


def self_signed_for_loopback(directory: Any) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1, as an operator would install a real one."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(
            "127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return str(cert_path), str(key_path)


@pytest.mark.slow
def test_serve_speaks_https_when_given_a_certificate(tmp_path: Any) -> None:
    cert, key = self_signed_for_loopback(tmp_path)
    port = free_port()
    env = {**os.environ, "SKILL_ID": SKILL_ID, "SKILL_DB": str(tmp_path / "skill.db"),
           "SKILL_TLS_CERT": cert, "SKILL_TLS_KEY": key}
    for name in ("SKILL_DEV", "SKILL_TABLE"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "webservice", "--port", str(port)],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"https://127.0.0.1:{port}/health", verify=cert, timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(proc.communicate(timeout=5)[0].decode()[-2000:])
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "verify": True}
        plain = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
        assert plain.status_code == 400  # nginx: a plain HTTP request sent to the HTTPS port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
