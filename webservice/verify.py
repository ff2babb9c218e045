"""Checks that a request to the HTTPS endpoint really comes from Alexa, for our skill, just now.

Amazon's rules for a skill hosted as a web service (platform-notes.md, "HTTPS endpoint"):
the SignatureCertChainUrl is https://s3.amazonaws.com[:443]/echo.api/...; the PEM chain there is
valid now, reaches a trusted root and its signing certificate names echo-api.amazon.com; the
Signature-256 header verifies over the raw body; request.timestamp is within 150 s; and the request
is addressed to our skill ID. Every failure raises the SDK's VerificationException, which
flask-ask-sdk's SkillAdapter turns into HTTP 400.

The verifiers plug into `SkillAdapter(verifiers=[...])`. They replace the SDK's own RequestVerifier,
which needs certvalidator/oscrypto (see the import guard below); path validation is done by
`cryptography.x509.verification`, which is maintained and implements the Web PKI profile.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import logging
import posixpath
import ssl
import sys
import threading
import types
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification


def _import_sdk_verifier_module() -> types.ModuleType:
    """Import ask_sdk_webservice_support.verifier, which flask-ask-sdk imports too.

    Why: that module does `from certvalidator import CertificateValidator` at import time;
    certvalidator 0.11.1 imports oscrypto 1.3.0, whose libcrypto version regex cannot read a
    two-digit patch number, so on OpenSSL >= 3.0.10 the import raises
    `oscrypto.errors.LibraryNotFoundError: Error detecting the version of libcrypto`
    (wbond/oscrypto#75 and #78; fixed in oscrypto's repository, never released). oscrypto raises
    the same error when it cannot find libcrypto at all (find_library without ldconfig, as in
    slim containers and possibly Lambda).

    What: only if importing certvalidator fails that way, register a stand-in `certvalidator`
    package whose one public name the SDK module binds, CertificateValidator, refuses to work
    (it raises certvalidator's own ValidationError, which the SDK's RequestVerifier turns into a
    400). certvalidator.errors, which is plain exception classes, stays the real module. Nothing
    in third-party code is patched or vendored, and nothing changes when the real import works.

    Safe because: we never run the SDK's RequestVerifier (the web app sets
    ASK_SDK_VERIFY_SIGNATURE off and uses SignatureVerifier below), so CertificateValidator is
    never called; if someone re-enabled it, every request would fail closed with 400.

    Remove when: an oscrypto release after 1.3.0 with the regex fix is on PyPI and installed, or
    ask-sdk-webservice-support stops importing certvalidator. Check with
    `python -c "import certvalidator"` on a machine with OpenSSL >= 3.0.10.
    """
    import importlib.util

    if "certvalidator" not in sys.modules and importlib.util.find_spec("certvalidator"):
        from oscrypto.errors import LibraryNotFoundError  # oscrypto/__init__ loads no libcrypto

        try:
            import certvalidator  # noqa: F401
        except (LibraryNotFoundError, OSError):
            _register_certvalidator_stand_in()
    import ask_sdk_webservice_support.verifier as sdk_verifier

    return sdk_verifier


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


_sdk_verifier = _import_sdk_verifier_module()
AbstractVerifier = _sdk_verifier.AbstractVerifier
VerificationException = _sdk_verifier.VerificationException

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
MAX_CHAIN_BYTES = 64 * 1024  # Amazon's chain is about 5 KB
FETCH_TIMEOUT_S = 3.0  # Alexa waits about 8 s for the whole answer

Clock = Callable[[], dt.datetime]
Fetch = Callable[[str], bytes]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and werkzeug Headers alike."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None


def check_cert_url(url: str) -> None:
    """Amazon's SignatureCertChainUrl rules; raises VerificationException if any is broken.

    The path is compared after percent-decoding and normalising, so /echo.api/../x is /x.
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise VerificationException("certificate URL is malformed") from exc
    if parts.scheme.lower() != "https":
        raise VerificationException("certificate URL is not https")
    if parts.hostname != CERT_URL_HOST or parts.username is not None:
        raise VerificationException("certificate URL host is not s3.amazonaws.com")
    if port not in (None, 443):
        raise VerificationException("certificate URL port is not 443")
    path = urllib.parse.unquote(parts.path)
    if "\\" in path or not posixpath.normpath(path or "/").startswith(CERT_URL_PATH_PREFIX):
        raise VerificationException("certificate URL path is not under /echo.api/")


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
            data = response.read(MAX_CHAIN_BYTES + 1)
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


class SignatureVerifier(AbstractVerifier):
    """Signature-256 over the raw body, by a certificate for echo-api.amazon.com that chains to a
    trusted root, fetched from an allowed SignatureCertChainUrl (parsed chains cached per URL)."""

    def __init__(
        self,
        *,
        trust_roots: Sequence[x509.Certificate] | None = None,
        fetch: Fetch | None = None,
        clock: Clock = _utcnow,
        cache_size: int = 8,
    ) -> None:
        # trust_roots and fetch exist for tests only (a private PKI; Amazon's certificate server
        # is unreachable there). Production passes neither, and no environment variable can.
        roots = list(trust_roots) if trust_roots is not None else system_trust_roots()
        if not roots:
            raise ValueError("at least one trust root is needed")
        self._store = verification.Store(roots)
        self._fetch = fetch or fetch_cert_chain
        self._clock = clock
        self._cache: collections.OrderedDict[str, tuple[x509.Certificate, list[x509.Certificate]]]
        self._cache = collections.OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def verify(
        self, headers: Mapping[str, Any], serialized_request_env: str, deserialized_request_env: Any
    ) -> None:
        # flask-ask-sdk hands us the body decoded as strict UTF-8 (the web app rejects anything
        # else first), so encoding it again gives back the exact bytes Alexa signed.
        self.verify_body(headers, serialized_request_env.encode("utf-8"))

    def verify_body(self, headers: Mapping[str, Any], body: bytes) -> None:
        try:
            self._verify(headers, body)
        except VerificationException:
            raise
        except Exception as exc:  # fail closed: any surprise is a 400, never a 500
            raise VerificationException("signature verification failed") from exc

    def _verify(self, headers: Mapping[str, Any], body: bytes) -> None:
        url = _header(headers, CERT_URL_HEADER)
        signature_b64 = _header(headers, SIGNATURE_HEADER)
        if not url or not signature_b64:
            raise VerificationException("signature headers are missing")
        check_cert_url(url)
        try:
            signature = base64.b64decode(signature_b64.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VerificationException("signature is not base64") from exc
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

    def _chain(self, url: str) -> tuple[x509.Certificate, list[x509.Certificate]]:
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None:
                self._cache.move_to_end(url)
                return cached
        log.info("fetching the signing certificate chain (not cached)")
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
        chain = (leaf, certs[1:])
        with self._lock:
            self._cache[url] = chain
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return chain


class TimestampVerifier(AbstractVerifier):
    """request.timestamp within 150 s of now, either way (an hour for AlexaSkillEvent.*)."""

    def __init__(self, *, clock: Clock = _utcnow) -> None:
        self._clock = clock

    def verify(
        self, headers: Mapping[str, Any], serialized_request_env: str, deserialized_request_env: Any
    ) -> None:
        request = getattr(deserialized_request_env, "request", None)
        stamp = getattr(request, "timestamp", None)
        if not isinstance(stamp, dt.datetime):
            raise VerificationException("request timestamp is missing")
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        kind = getattr(request, "object_type", None) or ""
        tolerance = (
            SKILL_EVENT_TOLERANCE if kind.startswith(SKILL_EVENT_PREFIX) else TIMESTAMP_TOLERANCE
        )
        if abs(self._clock() - stamp) > tolerance:
            raise VerificationException("request timestamp is out of tolerance")


class SkillIdVerifier(AbstractVerifier):
    """The envelope is addressed to our skill (context, and session when there is one).

    ask-sdk-core's CustomSkill checks this too, but by raising an error that flask-ask-sdk turns
    into a 500; checking here first makes a wrong skill ID the 400 Amazon expects.
    """

    def __init__(self, skill_id: str) -> None:
        if not skill_id:
            raise ValueError("skill_id is required")
        self._skill_id = skill_id

    def verify(
        self, headers: Mapping[str, Any], serialized_request_env: str, deserialized_request_env: Any
    ) -> None:
        def application_id(part: Any) -> Any:
            application = getattr(part, "application", None)
            return getattr(application, "application_id", None)

        context = getattr(deserialized_request_env, "context", None)
        ids = [application_id(getattr(context, "system", None))]
        session = getattr(deserialized_request_env, "session", None)
        if session is not None:
            ids.append(application_id(session))
        if any(found != self._skill_id for found in ids):
            raise VerificationException("request is not for this skill")


def request_verifiers(
    skill_id: str | None, *, signature: SignatureVerifier | None = None, verify: bool = True
) -> list[AbstractVerifier]:
    """What the web endpoint runs, cheapest first so stale or misaddressed requests never cost a
    certificate fetch. With verify=False (local development only) just the skill ID is checked."""
    checks: list[AbstractVerifier] = []
    if verify:
        checks.append(TimestampVerifier())
    if skill_id:
        checks.append(SkillIdVerifier(skill_id))
    if verify:
        checks.append(signature or SignatureVerifier())
    return checks


__all__ = [
    "AbstractVerifier",
    "SignatureVerifier",
    "SkillIdVerifier",
    "TimestampVerifier",
    "VerificationException",
    "check_cert_url",
    "request_verifiers",
    "system_trust_roots",
]
