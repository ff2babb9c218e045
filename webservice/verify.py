"""Checks that a request to the HTTPS endpoint really comes from Alexa, for our skill, just now.

Amazon's rules for a skill hosted as a web service (platform-notes.md, "HTTPS endpoint"):
the SignatureCertChainUrl is https://s3.amazonaws.com[:443]/echo.api/...; the PEM chain there is
valid now, reaches a trusted root and its signing certificate names echo-api.amazon.com; the
Signature-256 header verifies over the raw body; request.timestamp is within 150 s; and the request
is addressed to our skill ID. Every failure raises VerificationException, which the web app turns
into HTTP 400.

The endpoint is public, so the order of the checks is itself a defence (`RequestGate.check`):
everything that needs no network comes first (body size, both headers present, the signature of
a length an RSA signature can have, the certificate URL by Amazon's rules, then ONE plain JSON
parse for the timestamp and the skill ID), and only a request that passes all of it may cause a
certificate fetch. The fetch itself cannot be turned into an amplifier: the URL is put in one
canonical form and exactly that form is fetched and cached; concurrent requests for one URL share
one fetch; failures are remembered briefly; good chains and failures are cached apart (so junk
URLs never push out Amazon's chain), both bounded; and fetches of uncached URLs have a budget.

Path validation is done by `cryptography.x509.verification` (the Web PKI profile), not by the
ask-sdk's RequestVerifier, which needs certvalidator/oscrypto and cannot load on current OpenSSL.
The web app hands a request to flask-ask-sdk's SkillAdapter only once the gate has passed it, with
the SDK's own verifiers off. Importing flask-ask-sdk at all needs the guard below, which runs when
this module is imported: import it before flask_ask_sdk.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import json
import logging
import ssl
import string
import sys
import threading
import time
import types
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification


def _guard_certvalidator_import() -> None:
    """Let flask-ask-sdk be imported where oscrypto cannot load (this machine, and most others).

    Why: flask_ask_sdk.skill_adapter imports ask_sdk_webservice_support.verifier, which does
    `from certvalidator import CertificateValidator` at import time; certvalidator 0.11.1 imports
    oscrypto 1.3.0, whose libcrypto version regex cannot read a two-digit patch number, so on
    OpenSSL >= 3.0.10 the import raises
    `oscrypto.errors.LibraryNotFoundError: Error detecting the version of libcrypto`
    (wbond/oscrypto#75 and #78; fixed in oscrypto's repository, never released). oscrypto raises
    the same error when it cannot find libcrypto at all (find_library without ldconfig, as in
    slim containers).

    What: only if importing certvalidator fails that way, register a stand-in `certvalidator`
    package whose one public name the SDK module binds, CertificateValidator, refuses to work
    (it raises certvalidator's own ValidationError, which the SDK's RequestVerifier turns into a
    400). certvalidator.errors, which is plain exception classes, stays the real module. Nothing
    in third-party code is patched or vendored, nothing changes when the real import works, and
    any other import error is not caught.

    Safe because: the SDK's RequestVerifier never runs (the web app sets ASK_SDK_VERIFY_SIGNATURE
    and ASK_SDK_VERIFY_TIMESTAMP off and gives SkillAdapter no verifiers; RequestGate does the
    checking before the SDK sees a request), so CertificateValidator is never called; if someone
    switched it back on, every request would fail closed with 400.

    Remove when: an oscrypto release after 1.3.0 with the regex fix is on PyPI and installed, or
    ask-sdk-webservice-support stops importing certvalidator. Check with
    `python -c "import certvalidator"` on a machine with OpenSSL >= 3.0.10;
    tests/test_verify.py says which case this machine is.
    """
    import importlib.util

    if "certvalidator" in sys.modules or importlib.util.find_spec("certvalidator") is None:
        return  # already imported (real or stand-in), or not installed: nothing to guard
    from oscrypto.errors import LibraryNotFoundError  # oscrypto/__init__ loads no libcrypto

    try:
        import certvalidator  # noqa: F401
    except (LibraryNotFoundError, OSError):
        _register_certvalidator_stand_in()


def _register_certvalidator_stand_in() -> None:
    import importlib.util

    spec = importlib.util.find_spec("certvalidator")  # locates the package without running it
    stand_in = types.ModuleType(
        "certvalidator",
        "Import stand-in registered by webservice.verify: oscrypto cannot load here.",
    )
    stand_in.__path__ = list(spec.submodule_search_locations or []) if spec else []
    sys.modules["certvalidator"] = stand_in
    from certvalidator.errors import ValidationError  # the real module: exception classes only

    class CertificateValidator:
        """Refuses to validate: the real one cannot be imported here (see webservice.verify)."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            raise ValidationError(
                "certvalidator is unavailable here; webservice.verify replaces it")

    stand_in.CertificateValidator = CertificateValidator  # type: ignore[attr-defined]


_guard_certvalidator_import()

log = logging.getLogger(__name__)

CERT_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PATH_PREFIX = "/echo.api/"
SIGNING_NAME = "echo-api.amazon.com"
TIMESTAMP_TOLERANCE = dt.timedelta(seconds=150)
# Amazon allows skill events (AlexaSkillEvent.*) to arrive up to an hour late.
SKILL_EVENT_TOLERANCE = dt.timedelta(hours=1)
SKILL_EVENT_PREFIX = "AlexaSkillEvent."
MAX_BODY_BYTES = 64 * 1024  # an Alexa request is a few KB; this is generous
MAX_CHAIN_BYTES = 64 * 1024  # Amazon's chain is about 7 KB
MAX_CERT_URL_CHARS = 512  # Amazon's are about 55 characters
# An RSA signature is as long as its modulus: 1024 to 8192 bits covers anything a CA issues (Amazon
# signs with 2048). A header outside that cannot verify, so it is refused before any work.
MIN_SIGNATURE_BYTES, MAX_SIGNATURE_BYTES = 128, 1024
FETCH_TIMEOUT_S = 3.0  # Alexa waits about 8 s for the whole answer
# A failed fetch is remembered this long: long enough that a flood of requests naming one bad URL
# costs one fetch, short enough that a passing S3 failure does not shut Alexa out for long.
FAILURE_TTL_S = 10.0
# Fetches of URLs not in the cache: a burst of FETCH_BURST, then one per FETCH_REFILL_S. Amazon
# uses one URL at a time and changes it every few months; anything more is someone else's doing.
FETCH_BURST, FETCH_REFILL_S = 4, 15.0

Clock = Callable[[], dt.datetime]
Ticker = Callable[[], float]
Fetch = Callable[[str], bytes]


class VerificationException(Exception):
    """A request that is not provably from Alexa, for this skill, just now: HTTP 400.

    Messages name the rule that was broken and never quote the request: they are logged."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Headers(Protocol):
    """What the checks read of a request's headers: a plain dict or werkzeug's Headers."""

    def items(self) -> Iterable[tuple[str, Any]]: ...


def _header(headers: Headers, name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and werkzeug Headers alike."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None


# --- the certificate URL --------------------------------------------------------------------

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")


def _decode_unreserved(path: str) -> str:
    """RFC 3986 normalisation of percent-encoding: %XX of an unreserved character becomes that
    character (S3 decodes it too, so "%2e%2e" is a dot segment); any other escape, such as %2F or
    %5C, is refused, because the server might read it differently from us."""
    out: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char == "%":
            try:
                decoded = chr(int(path[i + 1:i + 3], 16)) if len(path) >= i + 3 else ""
            except ValueError:
                decoded = ""
            if decoded not in _UNRESERVED:
                raise VerificationException("certificate URL has an escape Amazon never uses")
            out.append(decoded)
            i += 3
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path: "." segments go, ".." drops the one before
    (never above the root); a final "." or ".." leaves a trailing slash."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
            continue
        if last:
            kept.append("")
    return "/" + "/".join(kept)


def canonical_cert_url(url: str) -> str:
    """The URL to fetch for a SignatureCertChainUrl, by Amazon's rules, or VerificationException.

    Amazon's rules: scheme https and host s3.amazonaws.com (both case-insensitive), port 443 if
    given, path under /echo.api/ (case-sensitive) once dot segments are resolved. The result is
    one canonical spelling, "https://s3.amazonaws.com/echo.api/<name>", which is what gets fetched
    and the key it is cached under: "HTTPS://S3.AmazonAWS.com:443/x/../echo.api/c.pem" and
    ".../echo.api/c.pem" are one fetch, and "/evilbucket/../echo.api/c.pem" fetches Amazon's
    "/echo.api/c.pem", never the raw text. Beyond Amazon's rules, and stricter than they need be
    only for URLs Amazon does not send: a query or fragment is refused (it would only vary the
    cache key), as are userinfo, characters outside RFC 3986's unreserved set, empty segments
    and escapes of anything but unreserved characters.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_CERT_URL_CHARS:
        raise VerificationException("certificate URL is missing or too long")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise VerificationException("certificate URL is malformed")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationException("certificate URL is malformed") from exc
    if parts.scheme.lower() != "https":
        raise VerificationException("certificate URL is not https")
    if "@" in parts.netloc or parts.hostname != CERT_URL_HOST:
        raise VerificationException("certificate URL host is not s3.amazonaws.com")
    if port not in (None, 443):
        raise VerificationException("certificate URL port is not 443")
    if "?" in url or "#" in url:
        raise VerificationException("certificate URL has a query or fragment")
    path = _decode_unreserved(parts.path)
    if not path.startswith("/") or set(path) - _UNRESERVED - {"/"}:
        raise VerificationException("certificate URL path has characters Amazon never uses")
    path = _remove_dot_segments(path)
    if not path.startswith(CERT_URL_PATH_PREFIX) or "" in path.split("/")[1:]:
        raise VerificationException("certificate URL path is not a file under /echo.api/")
    return f"https://{CERT_URL_HOST}{path}"


def check_cert_url(url: str) -> None:
    """Raises VerificationException unless `url` passes Amazon's rules (canonical_cert_url)."""
    canonical_cert_url(url)


# --- fetching the chain ---------------------------------------------------------------------

class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect would leave the URL we checked


_opener = urllib.request.build_opener(_RefuseRedirects())


def fetch_cert_chain(url: str, timeout_s: float = FETCH_TIMEOUT_S) -> bytes:
    """GET the PEM chain over TLS (urllib checks s3's own certificate), bounded in time and size."""
    try:
        with _opener.open(url, timeout=timeout_s) as response:
            if response.status != 200:
                raise VerificationException("certificate chain fetch failed")
            data: bytes = response.read(MAX_CHAIN_BYTES + 1)
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise VerificationException("certificate chain fetch failed") from exc
    if len(data) > MAX_CHAIN_BYTES:
        raise VerificationException("certificate chain is too large")
    return data


def _load_pem_bundle(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a CA bundle that cryptography can parse; odd ones are skipped.

    Bundles carry a few legacy roots (a negative serial number, for one) that cryptography
    warns about today and will refuse later: one bad root must not disable all the others.
    """
    certs = []
    marker = b"-----END CERTIFICATE-----"
    for block in data.split(marker)[:-1]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            try:
                certs.append(x509.load_pem_x509_certificate(block + marker))
            except ValueError:
                continue
    return certs


def system_trust_roots() -> list[x509.Certificate]:
    """The roots Amazon's chain must reach: certifi's Mozilla bundle if installed (the same on
    every platform, Lambda included), else the OS bundle that Python's ssl module was built with."""
    candidates: list[str] = []
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    paths = ssl.get_default_verify_paths()
    candidates += [p for p in (paths.cafile, paths.openssl_cafile) if p]
    for path in candidates:
        try:
            with open(path, "rb") as bundle:
                roots = _load_pem_bundle(bundle.read())
        except OSError:
            continue
        if roots:
            return roots
    raise RuntimeError("no CA bundle found: install certifi or the OS ca-certificates package")


Chain = tuple[x509.Certificate, list[x509.Certificate]]


class _Flight:
    """One fetch in progress; every request that wants the same URL waits for its outcome."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.chain: Chain | None = None
        self.error: VerificationException | None = None


class _Budget:
    """A token bucket: `burst` at once, then one more every `refill_s` seconds."""

    def __init__(self, burst: int, refill_s: float, now: float) -> None:
        self._burst, self._refill_s = burst, refill_s
        self._tokens, self._at = float(burst), now

    def take(self, now: float) -> bool:
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._refill_s)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class SignatureVerifier:
    """Signature-256 over the raw body, by a certificate for echo-api.amazon.com that chains to a
    trusted root, fetched from an allowed SignatureCertChainUrl (see the module docstring for how
    fetches are canonicalised, shared, cached and budgeted)."""

    def __init__(
        self,
        *,
        trust_roots: Sequence[x509.Certificate] | None = None,
        fetch: Fetch | None = None,
        clock: Clock = _utcnow,
        ticker: Ticker = time.monotonic,
        cache_size: int = 8,
        failure_cache_size: int = 256,
        failure_ttl_s: float = FAILURE_TTL_S,
        fetch_burst: int = FETCH_BURST,
        fetch_refill_s: float = FETCH_REFILL_S,
    ) -> None:
        # trust_roots and fetch exist for tests only (a private PKI; Amazon's certificate server
        # is unreachable there). Production passes neither, and no environment variable can.
        roots = list(trust_roots) if trust_roots is not None else system_trust_roots()
        if not roots:
            raise ValueError("at least one trust root is needed")
        self._store = verification.Store(roots)
        self._fetch = fetch or fetch_cert_chain
        self._clock = clock
        self._ticker = ticker
        self._lock = threading.Lock()
        self._good: collections.OrderedDict[str, Chain] = collections.OrderedDict()
        self._bad: collections.OrderedDict[str, tuple[float, str]] = collections.OrderedDict()
        self._flights: dict[str, _Flight] = {}
        self._cache_size, self._failure_cache_size = cache_size, failure_cache_size
        self._failure_ttl_s = failure_ttl_s
        self._budget = _Budget(fetch_burst, fetch_refill_s, ticker())
        self.fetches = 0  # how many times the network was asked (tests and the bench read it)

    def cached_urls(self) -> list[str]:
        """The canonical URLs whose chains are cached, oldest first."""
        with self._lock:
            return list(self._good)

    @staticmethod
    def check_headers(headers: Headers) -> tuple[str, bytes]:
        """(canonical certificate URL, signature bytes), checked without touching the network."""
        url = _header(headers, CERT_URL_HEADER)
        signature_b64 = _header(headers, SIGNATURE_HEADER)
        if not url or not signature_b64:
            raise VerificationException("signature headers are missing")
        if len(signature_b64) > 4 * (MAX_SIGNATURE_BYTES // 3 + 1) + 8:
            raise VerificationException("signature is too long")
        try:
            signature = base64.b64decode(signature_b64.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VerificationException("signature is not base64") from exc
        if not MIN_SIGNATURE_BYTES <= len(signature) <= MAX_SIGNATURE_BYTES:
            raise VerificationException("signature is not the length of an RSA signature")
        return canonical_cert_url(url), signature

    def verify_body(self, headers: Headers, body: bytes) -> None:
        """Headers, chain and signature for `body` (the exact bytes received)."""
        url, signature = self.check_headers(headers)
        self.verify_signature(url, signature, body)

    def verify_signature(self, url: str, signature: bytes, body: bytes) -> None:
        """`signature` over `body` by the chain at `url` (canonical, from check_headers)."""
        try:
            self._verify(url, signature, body)
        except VerificationException:
            raise
        except Exception as exc:  # fail closed: any surprise is a 400, never a 500
            raise VerificationException("signature verification failed") from exc

    def _verify(self, url: str, signature: bytes, body: bytes) -> None:
        leaf, intermediates = self._chain(url)
        policy = verification.PolicyBuilder().store(self._store).time(self._clock())
        try:
            # Web PKI path validation at the current time: every certificate in date, signed by
            # the next, reaching a root in the store, and the leaf valid for echo-api.amazon.com.
            policy.build_server_verifier(verification.DNSName(SIGNING_NAME)).verify(
                leaf, intermediates
            )
        except verification.VerificationError as exc:
            raise VerificationException("certificate chain is not valid") from exc
        public_key = leaf.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise VerificationException("signing key is not RSA")
        try:
            public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise VerificationException("signature does not match the body") from exc

    def _chain(self, url: str) -> Chain:
        with self._lock:
            chain = self._good.get(url)
            if chain is not None:
                self._good.move_to_end(url)
                return chain
            now = self._ticker()
            failed = self._bad.get(url)
            if failed is not None and failed[0] > now:
                raise VerificationException(f"{failed[1]} (remembered)")
            flight = self._flights.get(url)
            leading = flight is None
            if flight is None:
                if not self._budget.take(now):
                    raise VerificationException("too many new certificate URLs; not fetched")
                flight = self._flights[url] = _Flight()
        if not leading:
            if not flight.done.wait(FETCH_TIMEOUT_S + 1):
                raise VerificationException("certificate chain fetch is taking too long")
            if flight.chain is None:
                raise flight.error or VerificationException("certificate chain fetch failed")
            return flight.chain
        try:
            flight.chain = self._load(url)
            return flight.chain
        except VerificationException as exc:
            flight.error = exc
            raise
        except Exception as exc:  # noqa: BLE001  (a fetch function's surprise is a failed fetch)
            flight.error = VerificationException("certificate chain fetch failed")
            raise flight.error from exc
        finally:
            with self._lock:
                if flight.chain is not None:
                    self._good[url] = flight.chain
                    while len(self._good) > self._cache_size:
                        self._good.popitem(last=False)
                else:
                    reason = str(flight.error or "certificate chain fetch failed")
                    self._bad[url] = (self._ticker() + self._failure_ttl_s, reason)
                    self._bad.move_to_end(url)
                    while len(self._bad) > self._failure_cache_size:
                        self._bad.popitem(last=False)
                del self._flights[url]
            flight.done.set()

    def _load(self, url: str) -> Chain:
        log.info("fetching the signing certificate chain (not cached)")
        self.fetches += 1
        try:
            certs = x509.load_pem_x509_certificates(self._fetch(url))
        except ValueError as exc:
            raise VerificationException("certificate chain is not PEM") from exc
        leaf = certs[0]
        try:
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound as exc:
            raise VerificationException("signing certificate has no SAN") from exc
        if SIGNING_NAME not in [n.lower() for n in names.value.get_values_for_type(x509.DNSName)]:
            raise VerificationException("signing certificate is not for echo-api.amazon.com")
        return leaf, certs[1:]


# --- the envelope, read once as plain JSON --------------------------------------------------

def _member(parent: Any, key: str) -> Any:
    return parent.get(key) if isinstance(parent, dict) else None


def parse_envelope(body: bytes) -> dict[str, Any]:
    """The body as a JSON object with the parts every check needs: one plain parse, no SDK."""
    if len(body) > MAX_BODY_BYTES:
        raise VerificationException("body is too large")
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # Recursion: deep nesting
        raise VerificationException("body is not a JSON envelope") from exc
    if not isinstance(envelope, dict):
        raise VerificationException("envelope has no request type")
    request = _member(envelope, "request")
    if not isinstance(_member(request, "type"), str):
        raise VerificationException("envelope has no request type")
    if not isinstance(_member(_member(envelope, "context"), "System"), dict):
        raise VerificationException("envelope has no context.System")
    return envelope


def check_timestamp(envelope: dict[str, Any], now: dt.datetime) -> None:
    """request.timestamp within 150 s of `now`, either way (an hour for AlexaSkillEvent.*)."""
    request = _member(envelope, "request")
    text = _member(request, "timestamp")
    if not isinstance(text, str) or len(text) > 40:
        raise VerificationException("request timestamp is missing")
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise VerificationException("request timestamp is not ISO 8601") from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    kind = _member(request, "type") or ""
    event = isinstance(kind, str) and kind.startswith(SKILL_EVENT_PREFIX)
    tolerance = SKILL_EVENT_TOLERANCE if event else TIMESTAMP_TOLERANCE
    try:
        late = abs(now - stamp) > tolerance
    except OverflowError:  # year 9999 with a negative offset, and the like
        late = True
    if late:
        raise VerificationException("request timestamp is out of tolerance")


def check_skill_id(envelope: dict[str, Any], skill_id: str) -> None:
    """Addressed to our skill: context.System.application, and the session's when there is one.

    ask-sdk-core's CustomSkill checks this too, but by raising an error that would be a 500;
    checking here first makes a wrong skill ID the 400 Amazon expects.
    """

    def application_id(part: Any) -> Any:
        return _member(_member(part, "application"), "applicationId")

    ids = [application_id(_member(_member(envelope, "context"), "System"))]
    if _member(envelope, "session") is not None:
        ids.append(application_id(envelope["session"]))
    if any(found != skill_id for found in ids):
        raise VerificationException("request is not for this skill")


@dataclass(frozen=True)
class RequestGate:
    """Everything a request must pass before the skill sees it, cheapest first.

    `check` raises VerificationException or returns the parsed envelope. With verify=False
    (local development only) the signature and timestamp are not checked; the skill ID is
    checked whenever one is configured.
    """

    skill_id: str | None
    signature: SignatureVerifier | None = None
    verify: bool = True
    clock: Clock = _utcnow

    def __post_init__(self) -> None:
        if self.verify and (not self.skill_id or self.signature is None):
            raise ValueError("verification needs a skill ID and a signature verifier")

    def check(self, headers: Headers, body: bytes) -> dict[str, Any]:
        if len(body) > MAX_BODY_BYTES:
            raise VerificationException("body is too large")
        signed: tuple[str, bytes] | None = None
        if self.verify:
            assert self.signature is not None
            signed = self.signature.check_headers(headers)  # no network
        envelope = parse_envelope(body)
        if self.verify:
            check_timestamp(envelope, self.clock())
        if self.skill_id:
            check_skill_id(envelope, self.skill_id)
        if signed is not None:
            assert self.signature is not None
            self.signature.verify_signature(*signed, body)  # the only step that may fetch
        return envelope


__all__ = [
    "RequestGate",
    "SignatureVerifier",
    "VerificationException",
    "canonical_cert_url",
    "check_cert_url",
    "check_skill_id",
    "check_timestamp",
    "fetch_cert_chain",
    "parse_envelope",
    "system_trust_roots",
]
