"""The skill as an HTTPS web service: flask-ask-sdk's SkillAdapter behind our own request gate.

POST /        the Alexa endpoint. Every request passes webservice.verify's RequestGate (body size,
              signature headers, one plain JSON parse for timestamp and skill ID, then the
              certificate chain and signature) on the raw body; a failed check is HTTP 400 and
              costs no more than it must. Only a request that passed is handed to SkillAdapter,
              which deserializes it and dispatches to the skill.
GET  /health  200 with a tiny JSON body; never calls the skill.

`python -m webservice` (or `make serve`) runs the production setup (webservice.server): nginx on
127.0.0.1:$PORT reading every request in full, however slowly it arrives, in front of gunicorn on
a private Unix socket, verification on. SKILL_DEV=1 runs Flask's development server instead, with
signature and timestamp checks OFF, for virtual-alexa and curl on this machine only: it refuses
to start on anything that looks like production (see `dev_mode_refusals`) and says so loudly.

flask-ask-sdk on its own would deserialize every body into model objects before its verifiers
run, and answer 500, logging a traceback that quotes the body, to anything it cannot read. So the
gate runs first and the adapter is configured with the checking already done (its signature and
timestamp verifiers off, no verifiers of its own); the adapter reads the body the route cached,
never the stream again; and `_dispatch` turns its failures into a 400 (a body it cannot read) or
a 500 (the skill failed) that quote nothing, logging only the exception's type.

Import trap: flask_ask_sdk imports ask_sdk_webservice_support.verifier, which cannot be imported on
OpenSSL >= 3.0.10 because of oscrypto 1.3.0. webservice.verify is imported first and installs a
narrow, documented guard (`webservice.verify._guard_certvalidator_import`) that makes the import
succeed; the SDK verifiers that would need oscrypto are switched off below.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

# webservice.verify must be imported before flask_ask_sdk: it installs the import guard.
from webservice import verify as checks

# isort: split
from ask_sdk_core.exceptions import SerializationException
from flask import Flask, Response, g, jsonify, request
from flask_ask_sdk.skill_adapter import (
    VERIFY_SIGNATURE_APP_CONFIG,
    VERIFY_TIMESTAMP_APP_CONFIG,
    SkillAdapter,
)
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

if TYPE_CHECKING:
    from ask_sdk_core.skill import CustomSkill

log = logging.getLogger("webservice.app")  # the same name under `python -m webservice`

MAX_BODY_BYTES = checks.MAX_BODY_BYTES
DEFAULT_PORT = 5000
DEV_ENV = "SKILL_DEV"
DEV_BANNER = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  SKILL_DEV=1: DEVELOPMENT SERVER, REQUEST SIGNATURE AND TIMESTAMP CHECKS OFF  !!
!!  Anyone who can reach this port can drive the skill. Loopback only.          !!
!!  Never expose this to Alexa or the internet; unset SKILL_DEV for production.  !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""
# The IDs Amazon gives real skills; made-up ones for local testing ("amzn1.ask.skill.test") differ.
REAL_SKILL_ID = re.compile(
    r"amzn1\.ask\.skill\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I
)
# Loggers at INFO; everything else (the ask-sdk, urllib3, werkzeug) at WARNING.
INFO_LOGGERS = ("webservice", "skill", "gunicorn.error")


def create_app(
    skill: CustomSkill | None = None,
    *,
    verify: bool = True,
    skill_id: str | None = None,
    signature_verifier: checks.SignatureVerifier | None = None,
) -> Flask:
    """The Flask app serving `skill` (default: skill.alexa.app.build_skill()).

    verify=False switches off the signature and timestamp checks (development only); the skill ID
    is still checked whenever one is known (argument, env SKILL_ID, or the skill's own).
    `signature_verifier` lets tests supply a SignatureVerifier that trusts their own PKI.
    """
    if skill is None:
        from skill.alexa.app import build_skill

        skill = build_skill()
    skill_id = skill_id or os.environ.get("SKILL_ID") or getattr(skill, "skill_id", None)
    if verify and not skill_id:
        raise ValueError("set SKILL_ID: an Alexa endpoint must check the skill ID of each request")
    own_id = getattr(skill, "skill_id", None)
    if own_id and skill_id and own_id != skill_id:
        # The skill would refuse every request we let through, as a 500: fail at start instead.
        raise ValueError("the skill was built for another skill ID than the one configured")
    gate = checks.RequestGate(
        skill_id,
        signature=(signature_verifier or checks.SignatureVerifier()) if verify else None,
        verify=verify,
    )

    app = Flask("webservice.app")  # so app.logger is this module's logger
    if not any(isinstance(f, _NoSdkTracebacks) for f in app.logger.filters):
        app.logger.addFilter(_NoSdkTracebacks())
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        # The gate has checked signature and timestamp before the adapter sees a request; the
        # SDK's own verifiers would do it again, after deserializing, and need oscrypto.
        **{VERIFY_SIGNATURE_APP_CONFIG: False, VERIFY_TIMESTAMP_APP_CONFIG: False},
    )
    # skill_id only names the adapter in app.extensions: SkillAdapter does not check it (the gate
    # does, and CustomSkill again).
    adapter = SkillAdapter(skill=skill, skill_id=skill_id or "unset", verifiers=[], app=app)
    app.extensions["webservice.app"] = {"verify": verify, "gate": gate, "adapter": adapter}

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_type = "-"
        if not verify:
            log.warning("SKILL_DEV: request signature and timestamp checks are OFF")

    @app.post("/")
    def alexa() -> Any:
        # Cached: the adapter reads these same bytes (request.data), not the spent stream.
        body = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        if request.content_length is None and len(body) >= MAX_BODY_BYTES:
            # A chunked body is cut at the limit rather than refused: refuse it here.
            raise RequestEntityTooLarge()
        try:
            checked = gate.check(request.headers, body)
        except checks.VerificationException as rejected:
            # The reason names the rule broken, never request content.
            log.warning("request rejected: %s", rejected)
            return _error(400, "request failed verification")
        g.request_type = checked["request"]["type"]
        return _dispatch(adapter)

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok", verify=verify)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        return _error(exc.code or 500, exc.name)

    @app.after_request
    def _log(response: Response) -> Response:
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        # Method, path, status, time and request type only: never user IDs, slots or utterances.
        log.info(
            "%s %s %s %.1fms %s",
            request.method, request.path, response.status_code, elapsed_ms, g.get("request_type"),
        )
        return response

    return app


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def _dispatch(adapter: SkillAdapter) -> Any:
    """The adapter's answer to a request the gate passed, or an error that quotes nothing.

    SkillAdapter answers every SDK failure with a bare 500. Its cause tells them apart: a body the
    SDK cannot deserialize (Amazon may sign a request type this SDK version does not know) is the
    client's 400; anything else is the skill's 500. Only the exception's type is logged, because
    SDK messages quote the request.
    """
    try:
        return adapter.dispatch_request()
    except InternalServerError as failed:  # raised while handling the SDK's own exception
        error = failed.__context__ or failed
    except HTTPException:
        raise
    except Exception as failed:  # noqa: BLE001  (not an AskSdkException: the adapter lets it out)
        error = failed
    if isinstance(error, SerializationException):
        log.info("rejected a body the SDK cannot read")
        return _error(400, "not an Alexa request envelope")
    log.error("skill dispatch failed: %s", type(error).__name__)
    return _error(500, "the skill could not answer")


class _NoSdkTracebacks(logging.Filter):
    """SkillAdapter logs each failure at ERROR on the app's logger (this module's) with the
    traceback, and SDK exception messages quote the request, values a person said included.
    `_dispatch` logs the failure's type instead, so those records are dropped."""

    SDK_MESSAGES = frozenset({"Skill dispatch exception", "Request verification failed"})

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg in self.SDK_MESSAGES and record.exc_info)


def configure_logging() -> None:
    """Levels set here, not inherited from whatever the root logger happens to be.

    Our loggers (INFO_LOGGERS) say one line per request and what went wrong, never what a person
    said or who they are; libraries are held at WARNING. What people say is logged only when an
    operator asks for it, and then minimised: see skill.core.answers.log_unanswered.
    """
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger().setLevel(logging.WARNING)
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dev_mode(env: Mapping[str, str] = os.environ) -> bool:
    return env.get(DEV_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def dev_mode_refusals(host: str, env: Mapping[str, str] = os.environ) -> list[str]:
    """Why development mode (verification off) must not start here; empty when it may.

    Verification off is safe only where nobody else can reach the port and nothing real is at
    stake: a loopback address, no production table, no real skill's ID.
    """
    reasons = []
    if not _is_loopback(host):
        reasons.append(f"--host {host} is not a loopback address")
    if env.get("SKILL_TABLE", "").strip():
        reasons.append("SKILL_TABLE is set: that is the production DynamoDB table")
    if REAL_SKILL_ID.fullmatch(env.get("SKILL_ID", "").strip()):
        reasons.append("SKILL_ID is a real skill's ID: unset it or use a made-up one")
    return reasons


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m webservice [--host H] [--port P]`; argv may start with "serve"."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["serve"]:
        args_in = args_in[1:]
    parser = argparse.ArgumentParser(prog="python -m webservice", description="Serve the skill.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_PORT))
    args = parser.parse_args(args_in)
    configure_logging()
    if dev_mode():
        refusals = dev_mode_refusals(args.host)
        if refusals:
            parser.exit(2, "SKILL_DEV=1 turns request verification off, so it refuses to start "
                           "on a production configuration:\n  - " + "\n  - ".join(refusals)
                           + "\nUnset SKILL_DEV to serve with verification on.\n")
        print(DEV_BANNER, file=sys.stderr, flush=True)
        create_app(verify=False).run(
            host=args.host, port=args.port, debug=False, use_reloader=False
        )
        return 0
    from webservice.server import serve

    return serve(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
