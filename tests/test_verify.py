"""webservice.verify on its own: Amazon's rules for requests to an HTTPS endpoint, one at a time.

Amazon's certificate server (s3.amazonaws.com/echo.api/...) cannot be reached from here and its
key is Amazon's, so each test builds its own PKI (tests/support/pki.py), trusts that root through
SignatureVerifier(trust_roots=...) and serves the chain through fetch=. Those two arguments are
for tests only; production reads neither from anywhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from cryptography.x509.oid import NameOID

from tests.support import REPO_ROOT
from tests.support.pki import CERT_URL, Pki, make_pki
from webservice.verify import (
    SignatureVerifier,
    SkillIdVerifier,
    TimestampVerifier,
    VerificationException,
    check_cert_url,
    fetch_cert_chain,
    request_verifiers,
    system_trust_roots,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
BODY = json.dumps({"version": "1.0", "request": {"type": "LaunchRequest"}}).encode()


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def verifier(
    pki: Pki, *, chain: bytes | None = None, clock=None, fetched=None
) -> SignatureVerifier:
    def fetch(url: str) -> bytes:
        if fetched is not None:
            fetched.append(url)
        return pki.chain_pem if chain is None else chain

    return SignatureVerifier(
        trust_roots=[pki.root], fetch=fetch, **({"clock": clock} if clock else {})
    )


def headers(pki: Pki, body: bytes = BODY, url: str = CERT_URL) -> dict[str, str]:
    return {"SignatureCertChainUrl": url, "Signature-256": pki.sign(body)}


# --- the certificate URL --------------------------------------------------------------------

@pytest.mark.parametrize(
    "url",
    [
        # Amazon's own examples of valid URLs
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        # scheme and host are case-insensitive
        "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://S3.AmazonAWS.com/echo.api/echo-api-cert.pem",
    ],
)
def test_cert_url_accepted(url: str) -> None:
    check_cert_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",  # not https
        "https://notamazon.com/echo.api/echo-api-cert.pem",  # wrong host
        "https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem",
        "https://evil.example/s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com@evil.example/echo.api/echo-api-cert.pem",  # userinfo trick
        "https://evil@s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",  # path is case-sensitive
        "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",  # wrong path
        "https://s3.amazonaws.com/echo.api/../x.pem",  # traversal out of /echo.api/
        "https://s3.amazonaws.com/echo.api/%2e%2e/x.pem",  # the same, percent-encoded
        "https://s3.amazonaws.com/echo.api%2F..%2Fx.pem",
        "https://s3.amazonaws.com/echo.api/..\\x.pem",
        "https://s3.amazonaws.com/echo.api",
        "https://s3.amazonaws.com/echo.api/",
        "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",  # odd port
        "https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:99999/echo.api/echo-api-cert.pem",  # not a port at all
        "https://[::1/echo.api/x.pem",  # unparseable
        "",
        "s3.amazonaws.com/echo.api/echo-api-cert.pem",
    ],
)
def test_cert_url_rejected(url: str) -> None:
    with pytest.raises(VerificationException):
        check_cert_url(url)


# --- the signature and the chain ------------------------------------------------------------

def test_good_signature_passes_and_chain_is_cached(pki: Pki) -> None:
    fetched: list[str] = []
    check = verifier(pki, fetched=fetched)
    check.verify_body(headers(pki), BODY)
    check.verify_body(headers(pki), BODY)
    assert fetched == [CERT_URL]


def test_headers_are_case_insensitive(pki: Pki) -> None:
    lowered = {k.lower(): v for k, v in headers(pki).items()}
    verifier(pki).verify_body(lowered, BODY)


def test_sdk_interface_signs_the_utf8_bytes(pki: Pki) -> None:
    text = '{"request": {"type": "IntentRequest", "slot": "café \u2603 & <speak>"}}'
    verifier(pki).verify(headers(pki, text.encode("utf-8")), text, None)


@pytest.mark.parametrize("flip", [0, len(BODY) // 2, len(BODY) - 1])
def test_tampered_body_rejected(pki: Pki, flip: int) -> None:
    tampered = bytearray(BODY)
    tampered[flip] ^= 0x01
    with pytest.raises(VerificationException, match="does not match"):
        verifier(pki).verify_body(headers(pki), bytes(tampered))


def test_extra_whitespace_in_body_rejected(pki: Pki) -> None:
    with pytest.raises(VerificationException):
        verifier(pki).verify_body(headers(pki), BODY + b" ")


def test_forged_chain_from_another_root_rejected(pki: Pki) -> None:
    forger = make_pki(label="forger")  # same names, same shape, different root
    check = verifier(pki, chain=forger.chain_pem)
    with pytest.raises(VerificationException, match="chain is not valid"):
        check.verify_body(headers(forger), BODY)


def test_leaf_signed_by_another_key_rejected(pki: Pki) -> None:
    forger = make_pki(label="forger")
    with pytest.raises(VerificationException, match="does not match"):
        verifier(pki).verify_body(headers(forger), BODY)  # our chain, their signature


@pytest.mark.parametrize(
    "names",
    [("evil.example",), ("echo-api.amazon.com.evil.example",), ("*.amazon.com",), ()],
)
def test_wrong_name_in_leaf_rejected(names: tuple[str, ...]) -> None:
    odd = make_pki(leaf_names=names)
    with pytest.raises(VerificationException):
        verifier(odd).verify_body(headers(odd), BODY)


def test_extra_names_beside_echo_api_are_fine() -> None:
    multi = make_pki(leaf_names=("other.amazon.com", "echo-api.amazon.com"))
    verifier(multi).verify_body(headers(multi), BODY)


def test_expired_leaf_rejected() -> None:
    old = make_pki(not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1))
    with pytest.raises(VerificationException, match="chain is not valid"):
        verifier(old).verify_body(headers(old), BODY)


def test_not_yet_valid_leaf_rejected() -> None:
    early = make_pki(not_before=NOW + dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=9))
    with pytest.raises(VerificationException, match="chain is not valid"):
        verifier(early).verify_body(headers(early), BODY)


def test_cached_chain_is_rechecked_against_the_clock(pki: Pki) -> None:
    now = [NOW]
    check = verifier(pki, clock=lambda: now[0])
    check.verify_body(headers(pki), BODY)
    now[0] = pki.leaf.not_valid_after_utc + dt.timedelta(seconds=1)
    with pytest.raises(VerificationException, match="chain is not valid"):
        check.verify_body(headers(pki), BODY)


def test_leaf_alone_without_intermediate_rejected(pki: Pki) -> None:
    end = b"-----END CERTIFICATE-----\n"
    leaf_only = pki.chain_pem.split(end)[0] + end
    with pytest.raises(VerificationException, match="chain is not valid"):
        verifier(pki, chain=leaf_only).verify_body(headers(pki), BODY)


@pytest.mark.parametrize("chain", [b"", b"not a pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_garbage_chain_rejected(pki: Pki, chain: bytes) -> None:
    with pytest.raises(VerificationException):
        verifier(pki, chain=chain).verify_body(headers(pki), BODY)


def test_fetch_failure_rejected_and_not_cached(pki: Pki) -> None:
    calls = []

    def down(url: str) -> bytes:
        calls.append(url)
        raise OSError("unreachable")

    check = SignatureVerifier(trust_roots=[pki.root], fetch=down)
    for _ in range(2):
        with pytest.raises(VerificationException):
            check.verify_body(headers(pki), BODY)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "drop_or_change",
    [
        {"Signature-256": None},
        {"SignatureCertChainUrl": None},
        {"Signature-256": ""},
        {"Signature-256": "not base64!!"},
        {"Signature-256": "QUJD"},  # base64, but three bytes
        {"Signature-256": base64.b64encode(b"\0" * 256).decode()},
    ],
)
def test_missing_or_bad_signature_headers_rejected(pki: Pki, drop_or_change: dict) -> None:
    sent = headers(pki)
    for key, value in drop_or_change.items():
        if value is None:
            del sent[key]
        else:
            sent[key] = value
    with pytest.raises(VerificationException):
        verifier(pki).verify_body(sent, BODY)


def test_bad_url_is_never_fetched(pki: Pki) -> None:
    fetched: list[str] = []
    with pytest.raises(VerificationException):
        verifier(pki, fetched=fetched).verify_body(
            headers(pki, url="https://s3.amazonaws.com/echo.api/../x.pem"), BODY
        )
    assert fetched == []


def test_cache_is_bounded(pki: Pki) -> None:
    fetched: list[str] = []
    check = verifier(pki, fetched=fetched)
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{i}.pem" for i in range(20)]
    for url in urls + urls[-1:]:
        check.verify_body(headers(pki, url=url), BODY)
    assert len(check._cache) == 8
    assert len(fetched) == 20  # the most recent URL was still cached


def test_production_trust_store_holds_amazons_roots() -> None:
    names = {
        attr.value
        for cert in system_trust_roots()
        for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    }
    assert "Amazon Root CA 1" in names
    assert any(str(n).startswith("Starfield Services Root") for n in names)


def test_production_verifier_does_not_trust_a_private_root(pki: Pki) -> None:
    check = SignatureVerifier(fetch=lambda url: pki.chain_pem)  # system roots only
    with pytest.raises(VerificationException, match="chain is not valid"):
        check.verify_body(headers(pki), BODY)


# --- the real fetcher, against a loopback server --------------------------------------------

@pytest.fixture
def local_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/chain")
                self.end_headers()
                return
            body = b"x" * (70 * 1024) if self.path == "/huge" else b"chain"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetcher_reads_a_chain(local_server: str) -> None:
    assert fetch_cert_chain(local_server + "/chain") == b"chain"


def test_fetcher_refuses_redirects(local_server: str) -> None:
    with pytest.raises(VerificationException):
        fetch_cert_chain(local_server + "/redirect")


def test_fetcher_refuses_huge_chains(local_server: str) -> None:
    with pytest.raises(VerificationException, match="too large"):
        fetch_cert_chain(local_server + "/huge")


def test_fetcher_times_out_quickly() -> None:
    import socket
    import time

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(VerificationException):
            fetch_cert_chain(f"http://127.0.0.1:{silent.getsockname()[1]}/x", timeout_s=0.3)
        assert time.monotonic() - started < 2


# --- timestamp and skill ID -----------------------------------------------------------------

def envelope(offset_s: float | None, kind: str = "LaunchRequest") -> SimpleNamespace:
    stamp = None if offset_s is None else NOW + dt.timedelta(seconds=offset_s)
    return SimpleNamespace(request=SimpleNamespace(timestamp=stamp, object_type=kind))


@pytest.mark.parametrize("offset_s", [0, 150, -150, 149.9, -149.9])
def test_timestamp_within_150s_passes(offset_s: float) -> None:
    TimestampVerifier(clock=lambda: NOW).verify({}, "", envelope(offset_s))


@pytest.mark.parametrize("offset_s", [150.001, -150.001, 3600, -86400, None])
def test_timestamp_stale_future_or_missing_rejected(offset_s: float | None) -> None:
    with pytest.raises(VerificationException):
        TimestampVerifier(clock=lambda: NOW).verify({}, "", envelope(offset_s))


def test_naive_timestamp_is_read_as_utc() -> None:
    naive = SimpleNamespace(request=SimpleNamespace(timestamp=NOW.replace(tzinfo=None)))
    TimestampVerifier(clock=lambda: NOW).verify({}, "", naive)


def test_skill_events_may_be_an_hour_old() -> None:
    check = TimestampVerifier(clock=lambda: NOW)
    check.verify({}, "", envelope(-3000, "AlexaSkillEvent.SkillEnabled"))
    with pytest.raises(VerificationException):
        check.verify({}, "", envelope(-3000, "IntentRequest"))
    with pytest.raises(VerificationException):
        check.verify({}, "", envelope(-3700, "AlexaSkillEvent.SkillEnabled"))


def _addressed(context_id: str | None, session_id: str | None = "same") -> SimpleNamespace:
    def holder(app_id: str | None) -> SimpleNamespace:
        return SimpleNamespace(application=SimpleNamespace(application_id=app_id))

    if session_id == "same":
        session_id = context_id
    session = None if session_id is None else holder(session_id)
    return SimpleNamespace(context=SimpleNamespace(system=holder(context_id)), session=session)


def test_skill_id_matches() -> None:
    SkillIdVerifier("amzn1.ask.skill.test").verify({}, "", _addressed("amzn1.ask.skill.test"))
    # a context-only envelope (no session: skill events, AudioPlayer) is fine too
    SkillIdVerifier("amzn1.ask.skill.test").verify({}, "", _addressed("amzn1.ask.skill.test", None))


@pytest.mark.parametrize(
    "env",
    [
        _addressed("amzn1.ask.skill.other"),
        _addressed(None),
        _addressed("amzn1.ask.skill.test", "amzn1.ask.skill.other"),
        SimpleNamespace(context=None, session=None),
        None,
    ],
)
def test_wrong_or_missing_skill_id_rejected(env: object) -> None:
    with pytest.raises(VerificationException):
        SkillIdVerifier("amzn1.ask.skill.test").verify({}, "", env)


def test_verifier_sets() -> None:
    kinds = [type(v).__name__ for v in request_verifiers("id", signature=object(), verify=True)]
    assert kinds == ["TimestampVerifier", "SkillIdVerifier", "object"]
    kinds = [type(v).__name__ for v in request_verifiers("id", verify=False)]
    assert kinds == ["SkillIdVerifier"]
    assert request_verifiers(None, verify=False) == []


# --- the import guard -----------------------------------------------------------------------

def test_flask_ask_sdk_imports_and_the_sdk_verifier_fails_closed() -> None:
    """In a fresh interpreter: webservice.app imports (the oscrypto trap is guarded), and if anyone
    switched the SDK's own RequestVerifier back on, it would reject every request, not crash."""
    code = """
import webservice.app
from flask_ask_sdk.skill_adapter import SkillAdapter
from ask_sdk_webservice_support import verifier
if verifier.CertificateValidator.__module__ != "webservice.verify":
    print("real certvalidator")
else:
    try:
        from tests.support.pki import make_pki
        verifier.RequestVerifier()._validate_cert_chain(make_pki().chain_pem)
    except verifier.VerificationException:
        print("stand-in, fails closed")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    if ssl.OPENSSL_VERSION_INFO[:3] >= (3, 0, 10):  # this machine: oscrypto 1.3.0 cannot load
        assert out.stdout.strip() == "stand-in, fails closed"
    else:
        assert out.stdout.strip() in {"real certvalidator", "stand-in, fails closed"}
