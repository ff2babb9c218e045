"""webservice.verify on its own: Amazon's rules for requests to an HTTPS endpoint, and the order
and economy of the checks that keep a public endpoint from being used as an amplifier.

Amazon's certificate server (s3.amazonaws.com/echo.api/...) cannot be reached from here and its
key is Amazon's, so each signing test builds its own PKI (tests/support/pki.py), trusts that root
through SignatureVerifier(trust_roots=...) and serves the chain through fetch=. Those two
arguments are for tests only; production reads neither from anywhere. Amazon's real published
chain (tests/support/amazon-echo-api-cert-12.pem) is checked against the production trust
store at fixed dates; without Amazon's key no request can be signed with it, so a signature
check against it can only fail, and it is the signature, not the chain, that must fail.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.support import REPO_ROOT
from tests.support.pki import CERT_URL, Pki, make_pki
from webservice import verify
from webservice.verify import (
    RequestGate,
    SignatureVerifier,
    VerificationException,
    canonical_cert_url,
    check_cert_url,
    check_skill_id,
    check_timestamp,
    fetch_cert_chain,
    parse_envelope,
    system_trust_roots,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
BODY = json.dumps({"version": "1.0", "request": {"type": "LaunchRequest"}}).encode()
SKILL_ID = "amzn1.ask.skill.test"
AMAZON_CHAIN = Path(__file__).parent / "support" / "amazon-echo-api-cert-12.pem"
AMAZON_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def verifier(
    pki: Pki, *, chain: bytes | None = None, clock=None, fetched=None, **options: Any
) -> SignatureVerifier:
    def fetch(url: str) -> bytes:
        if fetched is not None:
            fetched.append(url)
        return pki.chain_pem if chain is None else chain

    return SignatureVerifier(
        trust_roots=[pki.root], fetch=fetch, **({"clock": clock} if clock else {}), **options
    )


def headers(pki: Pki, body: bytes = BODY, url: str = CERT_URL) -> dict[str, str]:
    return {"SignatureCertChainUrl": url, "Signature-256": pki.sign(body)}


# --- the certificate URL --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # Amazon's own examples of valid URLs
        ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        ("https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        ("https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        # scheme and host are case-insensitive; the fetch uses one spelling
        ("HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        ("https://S3.AmazonAWS.com/echo.api/echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        # dot segments resolve before the prefix is checked, and the resolved path is fetched
        ("https://s3.amazonaws.com/evilbucket/../echo.api/echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        ("https://s3.amazonaws.com/echo.api/./x/../echo-api-cert.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
        # an escaped unreserved character is that character (S3 reads it so)
        ("https://s3.amazonaws.com/%65cho.api/echo-api-cert%2D12.pem",
         "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"),
    ],
)
def test_cert_url_accepted_in_canonical_form(url: str, canonical: str) -> None:
    assert canonical_cert_url(url) == canonical
    check_cert_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",  # not https
        "https://notamazon.com/echo.api/echo-api-cert.pem",  # wrong host
        "https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com./echo.api/echo-api-cert.pem",  # trailing dot: another name
        "https://evil.example/s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com@evil.example/echo.api/echo-api-cert.pem",  # userinfo trick
        "https://evil@s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://@s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",  # path is case-sensitive
        "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",  # wrong path
        "https://s3.amazonaws.com/echo.api/../x.pem",  # traversal out of /echo.api/
        "https://s3.amazonaws.com/echo.api/%2e%2e/x.pem",  # the same, percent-encoded
        "https://s3.amazonaws.com/echo.api%2F..%2Fx.pem",  # an escaped slash
        "https://s3.amazonaws.com/echo.api/x%00.pem",
        "https://s3.amazonaws.com/echo.api/x%.pem",
        "https://s3.amazonaws.com/echo.api/x%zz.pem",
        "https://s3.amazonaws.com/echo.api/..\\x.pem",
        "https://s3.amazonaws.com/echo.api//x.pem",  # empty segment
        "https://s3.amazonaws.com/echo.api/x/..",  # resolves to the directory itself
        "https://s3.amazonaws.com/echo.api",
        "https://s3.amazonaws.com/echo.api/",
        # a query or fragment only varies the cache key: Amazon never sends one
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem?n=1",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem?",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem#x",
        "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",  # odd port
        "https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:99999/echo.api/echo-api-cert.pem",  # not a port at all
        "https://[::1/echo.api/x.pem",  # unparseable
        "https://s3.amazonaws.com/echo.api/caf\u00e9.pem",
        "https://s3.amazonaws.com/echo.api/a b.pem",
        "https://s3.amazonaws.com/echo.api/x.pem\n",
        "https://s3.amazonaws.com/echo.api/" + "a" * 600 + ".pem",
        "",
        "s3.amazonaws.com/echo.api/echo-api-cert.pem",
    ],
)
def test_cert_url_rejected(url: str) -> None:
    with pytest.raises(VerificationException):
        canonical_cert_url(url)


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


def test_the_signature_covers_the_utf8_bytes(pki: Pki) -> None:
    text = '{"request": {"type": "IntentRequest", "slot": "café \u2603 & <speak>"}}'
    verifier(pki).verify_body(headers(pki, text.encode("utf-8")), text.encode("utf-8"))


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


@pytest.mark.parametrize(
    "drop_or_change",
    [
        {"Signature-256": None},
        {"SignatureCertChainUrl": None},
        {"Signature-256": ""},
        {"Signature-256": "not base64!!"},
        {"Signature-256": "QUJD"},  # base64, but three bytes
        {"Signature-256": base64.b64encode(b"\0" * 127).decode()},  # shorter than RSA-1024
        {"Signature-256": base64.b64encode(b"\0" * 1025).decode()},  # longer than RSA-8192
        {"Signature-256": "A" * 100_000},
        {"Signature-256": base64.b64encode(b"\0" * 256).decode()},  # the right length, wrong
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


def test_implausible_signature_is_refused_before_any_fetch(pki: Pki) -> None:
    fetched: list[str] = []
    sent = {**headers(pki), "Signature-256": "QUJD"}
    with pytest.raises(VerificationException, match="length"):
        verifier(pki, fetched=fetched).verify_body(sent, BODY)
    assert fetched == []


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


# --- Amazon's real chain, at fixed dates ----------------------------------------------------

def amazon_verifier(when: str) -> SignatureVerifier:
    """The production trust store, handed Amazon's published chain (the one thing mocked: the
    fetch, because s3.amazonaws.com is not reachable from here)."""
    chain = AMAZON_CHAIN.read_bytes()
    at = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
    return SignatureVerifier(fetch=lambda url: chain, clock=lambda: at)


def amazon_headers() -> dict[str, str]:
    # Nobody but Amazon can sign with this chain: any RSA-2048-sized value is a wrong signature.
    return {"SignatureCertChainUrl": AMAZON_URL,
            "Signature-256": base64.b64encode(b"\x01" * 256).decode()}


def test_amazons_published_chain_is_what_we_expect() -> None:
    certs = x509.load_pem_x509_certificates(AMAZON_CHAIN.read_bytes())
    subjects = [c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for c in certs]
    assert subjects == ["echo-api.amazon.com", "Amazon RSA 2048 M01", "Amazon Root CA 1",
                        "Starfield Services Root Certificate Authority - G2"]
    san = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["echo-api.amazon.com"]


def test_amazons_chain_is_valid_while_it_was_served() -> None:
    """In June 2023 the chain passes path validation against the production trust store, so the
    signature is the only thing that can fail (and, without Amazon's key, does)."""
    with pytest.raises(VerificationException, match="signature does not match the body"):
        amazon_verifier("2023-06-01T00:00:00").verify_body(amazon_headers(), BODY)


@pytest.mark.parametrize("when", ["2023-03-15T23:59:59", "2024-01-01T00:00:00"])
def test_amazons_chain_is_refused_outside_its_dates(when: str) -> None:
    with pytest.raises(VerificationException, match="chain is not valid"):
        amazon_verifier(when).verify_body(amazon_headers(), BODY)


def test_amazons_leaf_without_its_intermediate_is_refused() -> None:
    end = b"-----END CERTIFICATE-----\n"
    text = AMAZON_CHAIN.read_bytes()
    leaf_only = text[: text.index(end) + len(end)]
    at = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    check = SignatureVerifier(fetch=lambda url: leaf_only, clock=lambda: at)
    with pytest.raises(VerificationException, match="chain is not valid"):
        check.verify_body(amazon_headers(), BODY)


# --- fetching: canonical, shared, remembered, bounded, budgeted -----------------------------

def test_query_variants_are_refused_without_a_fetch(pki: Pki) -> None:
    """`...cert.pem?n=1`, `?n=2`, ... would each be a fetch and a cache entry: none is either."""
    fetched: list[str] = []
    check = verifier(pki, fetched=fetched)
    for n in range(20):
        with pytest.raises(VerificationException, match="query"):
            check.verify_body(headers(pki, url=f"{CERT_URL}?n={n}"), BODY)
    assert fetched == []


def test_spellings_of_one_url_are_one_fetch_of_the_canonical_url(pki: Pki) -> None:
    fetched: list[str] = []
    check = verifier(pki, fetched=fetched)
    spellings = [
        "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/./echo-api-cert-test.pem",
        "https://s3.amazonaws.com/elsewhere/../echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/%65cho.api/echo-api-cert-test.pem",
    ]
    for url in spellings:
        check.verify_body(headers(pki, url=url), BODY)
    assert fetched == [CERT_URL]


def test_what_is_fetched_is_what_was_validated(pki: Pki) -> None:
    """The path is checked after resolving dot segments; the raw text is never fetched."""
    fetched: list[str] = []
    url = "https://s3.amazonaws.com/evilbucket/../echo.api/echo-api-cert-test.pem"
    verifier(pki, fetched=fetched).verify_body(headers(pki, url=url), BODY)
    assert fetched == [CERT_URL]


def pile_up(check: SignatureVerifier, pki: Pki, count: int, fetched: list[str],
            release: threading.Event) -> list[str]:
    """``count`` requests at once while the first one's fetch is held until ``release``: what
    each was told ("ok" or the error)."""
    outcomes: list[str] = []

    def request() -> None:
        try:
            check.verify_body(headers(pki), BODY)
            outcomes.append("ok")
        except VerificationException as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=request) for _ in range(count)]
    for thread in threads:
        thread.start()
    while not fetched:  # the first request is fetching; the rest pile up behind it
        threading.Event().wait(0.01)
    threading.Event().wait(0.1)
    release.set()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_concurrent_requests_for_one_url_share_one_fetch(pki: Pki) -> None:
    release = threading.Event()
    fetched: list[str] = []

    def slow_fetch(url: str) -> bytes:
        fetched.append(url)
        release.wait(5)
        return pki.chain_pem

    check = SignatureVerifier(trust_roots=[pki.root], fetch=slow_fetch)
    outcomes = pile_up(check, pki, 16, fetched, release)
    assert outcomes == ["ok"] * 16
    assert fetched == [CERT_URL]


def test_concurrent_requests_share_one_failure_too(pki: Pki) -> None:
    release = threading.Event()
    calls: list[str] = []

    def failing_fetch(url: str) -> bytes:
        calls.append(url)
        release.wait(5)
        raise VerificationException("certificate chain fetch failed")

    check = SignatureVerifier(trust_roots=[pki.root], fetch=failing_fetch)
    outcomes = pile_up(check, pki, 8, calls, release)
    assert [o.split(" (")[0] for o in outcomes] == ["certificate chain fetch failed"] * 8
    assert len(calls) == 1


def test_a_failed_fetch_is_remembered_briefly(pki: Pki) -> None:
    calls: list[str] = []
    clock = [1000.0]

    def down(url: str) -> bytes:
        calls.append(url)
        raise OSError("unreachable")

    check = SignatureVerifier(trust_roots=[pki.root], fetch=down, ticker=lambda: clock[0],
                              failure_ttl_s=10)
    for _ in range(50):
        with pytest.raises(VerificationException, match="fetch failed"):
            check.verify_body(headers(pki), BODY)
    assert len(calls) == 1  # fifty requests, one fetch
    clock[0] += 11  # the failure is forgotten: S3 may be back
    with pytest.raises(VerificationException):
        check.verify_body(headers(pki), BODY)
    assert len(calls) == 2


def test_a_bad_chain_is_remembered_as_a_failure(pki: Pki) -> None:
    fetched: list[str] = []
    check = verifier(pki, chain=b"not a pem", fetched=fetched)
    for _ in range(5):
        with pytest.raises(VerificationException, match="not PEM"):
            check.verify_body(headers(pki), BODY)
    assert len(fetched) == 1


def test_cache_of_good_chains_is_bounded_by_canonical_url(pki: Pki) -> None:
    fetched: list[str] = []
    check = verifier(pki, fetched=fetched, fetch_burst=100)
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{i}.pem" for i in range(20)]
    for url in urls + urls[-1:] + [urls[-1].upper().replace("ECHO.API/CERT", "echo.api/cert")
                                   .replace(".PEM", ".pem")]:
        check.verify_body(headers(pki, url=url), BODY)
    assert check.cached_urls() == urls[-8:]
    assert len(fetched) == 20  # the most recent URL was still cached, in any spelling


def test_failures_never_push_the_good_chain_out(pki: Pki) -> None:
    """Junk URLs under /echo.api/ fail (S3 has no such file); they are cached apart."""
    good = pki.chain_pem

    def fetch(url: str) -> bytes:
        if url == CERT_URL:
            return good
        raise VerificationException("certificate chain fetch failed")

    check = SignatureVerifier(trust_roots=[pki.root], fetch=fetch, fetch_burst=1000)
    check.verify_body(headers(pki), BODY)
    for i in range(300):
        with pytest.raises(VerificationException):
            check.verify_body(headers(pki, url=f"https://s3.amazonaws.com/echo.api/junk-{i}"),
                              BODY)
    assert check.cached_urls() == [CERT_URL]
    fetches = check.fetches
    check.verify_body(headers(pki), BODY)
    assert check.fetches == fetches  # still served from the cache


def test_new_urls_have_a_fetch_budget(pki: Pki) -> None:
    """A flood of distinct, well-formed URLs cannot make us fetch without limit; the cached
    chain keeps working throughout, and the budget refills with time."""
    clock = [0.0]
    fetched: list[str] = []
    check = verifier(pki, fetched=fetched, ticker=lambda: clock[0], fetch_burst=4,
                     fetch_refill_s=15)
    check.verify_body(headers(pki), BODY)  # Amazon's chain, cached: one of the four
    for i in range(100):
        with pytest.raises(VerificationException):
            check.verify_body(headers(pki, url=f"https://s3.amazonaws.com/echo.api/x{i}.pem"),
                              b"{}")  # wrong signature for the body: every one fails
    assert len(fetched) == 4
    check.verify_body(headers(pki), BODY)  # the real one still passes
    clock[0] += 15
    with pytest.raises(VerificationException, match="does not match"):
        check.verify_body(headers(pki, url="https://s3.amazonaws.com/echo.api/new.pem"), b"{}")
    assert len(fetched) == 5


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


@pytest.mark.slow
def test_fetcher_reads_a_chain(local_server: str) -> None:
    assert fetch_cert_chain(local_server + "/chain") == b"chain"


@pytest.mark.slow
def test_fetcher_refuses_redirects(local_server: str) -> None:
    with pytest.raises(VerificationException):
        fetch_cert_chain(local_server + "/redirect")


@pytest.mark.slow
def test_fetcher_refuses_huge_chains(local_server: str) -> None:
    with pytest.raises(VerificationException, match="too large"):
        fetch_cert_chain(local_server + "/huge")


@pytest.mark.slow
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


# --- the envelope: timestamp and skill ID, from one plain parse -----------------------------

def stamped(offset_s: float | None, kind: str = "LaunchRequest") -> dict[str, Any]:
    request: dict[str, Any] = {"type": kind}
    if offset_s is not None:
        request["timestamp"] = (NOW + dt.timedelta(seconds=offset_s)).isoformat()
    return {"request": request}


@pytest.mark.parametrize("offset_s", [0, 150, -150, 149.9, -149.9])
def test_timestamp_within_150s_passes(offset_s: float) -> None:
    check_timestamp(stamped(offset_s), NOW)


@pytest.mark.parametrize("offset_s", [150.001, -150.001, 3600, -86400, None])
def test_timestamp_stale_future_or_missing_rejected(offset_s: float | None) -> None:
    with pytest.raises(VerificationException):
        check_timestamp(stamped(offset_s), NOW)


@pytest.mark.parametrize(
    "stamp", ["yesterday", "", 1_700_000_000, None, "9999-12-31T23:59:59-23:59", "2" * 100]
)
def test_timestamp_that_is_not_one_rejected(stamp: object) -> None:
    with pytest.raises(VerificationException):
        check_timestamp({"request": {"type": "LaunchRequest", "timestamp": stamp}}, NOW)


def test_alexas_timestamp_format_is_read_as_utc() -> None:
    check_timestamp({"request": {"type": "X", "timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}},
                    NOW)
    naive = NOW.replace(tzinfo=None).isoformat()
    check_timestamp({"request": {"type": "X", "timestamp": naive}}, NOW)


def test_skill_events_may_be_an_hour_old() -> None:
    check_timestamp(stamped(-3000, "AlexaSkillEvent.SkillEnabled"), NOW)
    with pytest.raises(VerificationException):
        check_timestamp(stamped(-3000, "IntentRequest"), NOW)
    with pytest.raises(VerificationException):
        check_timestamp(stamped(-3700, "AlexaSkillEvent.SkillEnabled"), NOW)


def addressed(context_id: object, session_id: object = "same") -> dict[str, Any]:
    def holder(app_id: object) -> dict[str, Any]:
        return {"application": {"applicationId": app_id}}

    if session_id == "same":
        session_id = context_id
    env: dict[str, Any] = {"context": {"System": holder(context_id)}}
    if session_id is not None:
        env["session"] = holder(session_id)
    return env


def test_skill_id_matches() -> None:
    check_skill_id(addressed(SKILL_ID), SKILL_ID)
    # a context-only envelope (no session: skill events, AudioPlayer) is fine too
    check_skill_id(addressed(SKILL_ID, None), SKILL_ID)


@pytest.mark.parametrize(
    "env",
    [
        addressed("amzn1.ask.skill.other"),
        addressed(None),
        addressed(5),
        addressed(SKILL_ID, "amzn1.ask.skill.other"),
        {**addressed(SKILL_ID, None), "session": "not an object"},
        {"context": None},
        {},
    ],
)
def test_wrong_or_missing_skill_id_rejected(env: dict[str, Any]) -> None:
    with pytest.raises(VerificationException):
        check_skill_id(env, SKILL_ID)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[]", b"{}", b'{"request": 5}', b'{"request": {"type": 1}}',
     b'{"request": {"type": "LaunchRequest"}}', b'{"request": {"type": "X"}, "context": {}}',
     b"[" * 20_000 + b"]" * 20_000],  # nested deeper than the parser recurses
)
def test_bodies_without_the_parts_every_check_needs_rejected(body: bytes) -> None:
    with pytest.raises(VerificationException):
        parse_envelope(body)


# --- the gate: cheapest first, one parse, no fetch for what fails without one ---------------

def signed_envelope(offset_s: float = 0, skill_id: str = SKILL_ID, pad: int = 0) -> bytes:
    env = {
        "version": "1.0",
        "context": {"System": {"application": {"applicationId": skill_id}}},
        "request": {"type": "LaunchRequest",
                    "timestamp": (NOW + dt.timedelta(seconds=offset_s)).isoformat()},
        "pad": "x" * pad,
    }
    return json.dumps(env).encode()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts webservice.verify's JSON parses (the real json.loads does the work)."""
    counted: list[int] = []
    real = json.loads

    def loads(text: Any, **kwargs: Any) -> Any:
        counted.append(len(text))
        return real(text, **kwargs)

    monkeypatch.setattr(verify, "json", SimpleNamespace(loads=loads))
    return counted


def gate(pki: Pki, fetched: list[str]) -> RequestGate:
    return RequestGate(SKILL_ID, signature=verifier(pki, fetched=fetched), clock=lambda: NOW)


def test_a_good_request_is_one_parse_and_one_fetch(pki: Pki, parses: list[int]) -> None:
    fetched: list[str] = []
    body = signed_envelope()
    envelope = gate(pki, fetched).check(headers(pki, body), body)
    assert envelope["request"]["type"] == "LaunchRequest"
    assert len(parses) == 1 and fetched == [CERT_URL]


def test_a_big_unsigned_envelope_is_refused_unread(pki: Pki, parses: list[int]) -> None:
    """The 63 KB envelope the review sent: no signature headers, so never parsed, never fetched."""
    fetched: list[str] = []
    body = signed_envelope(pad=63 * 1024)
    with pytest.raises(VerificationException, match="headers are missing"):
        gate(pki, fetched).check({}, body)
    assert parses == [] and fetched == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (signed_envelope(offset_s=-3600), "timestamp"),
        (signed_envelope(skill_id="amzn1.ask.skill.someone-else"), "not for this skill"),
        (b'{"request": {"type": "LaunchRequest"}}', "context"),
    ],
)
def test_what_fails_without_the_network_never_fetches(
    pki: Pki, parses: list[int], body: bytes, reason: str
) -> None:
    fetched: list[str] = []
    with pytest.raises(VerificationException, match=reason):
        gate(pki, fetched).check(headers(pki, body), body)
    assert len(parses) == 1 and fetched == []


def test_a_body_over_the_limit_is_refused_unread(pki: Pki, parses: list[int]) -> None:
    body = signed_envelope(pad=verify.MAX_BODY_BYTES)
    with pytest.raises(VerificationException, match="too large"):
        gate(pki, []).check(headers(pki, body), body)
    assert parses == []


def test_without_verification_only_the_skill_id_is_checked(pki: Pki) -> None:
    dev = RequestGate(SKILL_ID, verify=False)
    dev.check({}, signed_envelope(offset_s=-86400))
    with pytest.raises(VerificationException, match="not for this skill"):
        dev.check({}, signed_envelope(skill_id="amzn1.ask.skill.other"))
    RequestGate(None, verify=False).check({}, signed_envelope(skill_id="anything"))


def test_verification_needs_a_skill_id_and_a_verifier(pki: Pki) -> None:
    with pytest.raises(ValueError):
        RequestGate(None, signature=verifier(pki))
    with pytest.raises(ValueError):
        RequestGate(SKILL_ID, signature=None)


# --- the import guard (webservice.verify._guard_certvalidator_import) -----------------------

def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter from the repository root: the guard runs once per process."""
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


SDK_VERIFIER_IN_USE = """
import webservice.app  # imports webservice.verify, then flask_ask_sdk
from flask_ask_sdk.skill_adapter import SkillAdapter
from ask_sdk_webservice_support import verifier
if verifier.CertificateValidator.__module__ != "webservice.verify":
    print("certvalidator from " + verifier.CertificateValidator.__module__)
else:
    from tests.support.pki import make_pki
    try:
        verifier.RequestVerifier()._validate_cert_chain(make_pki().chain_pem)
    except verifier.VerificationException:
        print("stand-in, fails closed")
"""


@pytest.mark.slow
def test_flask_ask_sdk_imports_past_the_oscrypto_trap_and_its_verifier_fails_closed() -> None:
    """The stand-in is registered exactly where the real certvalidator cannot be imported, and
    if anyone switched the SDK's own RequestVerifier back on, it would reject every request with
    the SDK's 400, not crash. When oscrypto is fixed, this says so: then remove the guard."""
    plain = python(
        "from oscrypto.errors import LibraryNotFoundError\n"
        "try:\n    import certvalidator\n    print('imports')\n"
        "except LibraryNotFoundError:\n    print('trap')\n"
    )
    assert plain.returncode == 0, plain.stderr
    guarded = python(SDK_VERIFIER_IN_USE)
    assert guarded.returncode == 0, guarded.stderr
    expected = {"imports": "certvalidator from certvalidator", "trap": "stand-in, fails closed"}
    assert guarded.stdout.strip() == expected[plain.stdout.strip()]
    if ssl.OPENSSL_VERSION_INFO[:3] >= (3, 0, 10) and version("oscrypto") == "1.3.0":
        assert plain.stdout.strip() == "trap"  # this machine: the reason the guard exists


def fake_certvalidator(directory: Path, init: str) -> Path:
    package = directory / "certvalidator"
    package.mkdir()
    (package / "__init__.py").write_text(init)
    (package / "errors.py").write_text(
        "class ValidationError(Exception): pass\nclass PathError(ValidationError): pass\n")
    return directory


@pytest.mark.slow
def test_the_guard_changes_nothing_when_certvalidator_imports(tmp_path: Path) -> None:
    path = fake_certvalidator(tmp_path, "class CertificateValidator: pass\n")
    out = python(SDK_VERIFIER_IN_USE, PYTHONPATH=str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "certvalidator from certvalidator"  # the installed one, as is


@pytest.mark.slow
def test_the_guard_hides_no_other_import_error(tmp_path: Path) -> None:
    path = fake_certvalidator(tmp_path, "raise RuntimeError('certvalidator is broken')\n")
    out = python("import webservice.verify", PYTHONPATH=str(path))
    assert out.returncode != 0
    assert "RuntimeError: certvalidator is broken" in out.stderr
