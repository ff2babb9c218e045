"""The skill as an HTTPS web service: flask-ask-sdk's SkillAdapter behind our request checks.

POST /        the Alexa endpoint. Every request is checked by webservice.verify (signature,
              timestamp, skill ID) before the skill sees it; a failed check is HTTP 400.
GET  /health  200 with a tiny JSON body; never calls the skill.

`python -m webservice` (or `make serve`) runs it under gunicorn on 127.0.0.1:$PORT with
verification on. Alexa only calls HTTPS on port 443 with a trusted certificate, so in production a
TLS-terminating proxy (Caddy, nginx, a load balancer) forwards to that loopback port.
SKILL_DEV=1 runs Flask's development server instead, with signature and timestamp checks OFF, for
virtual-alexa and curl on this machine only: it binds loopback and says so loudly.

Import trap: flask_ask_sdk imports ask_sdk_webservice_support.verifier, which cannot be imported on
OpenSSL >= 3.0.10 because of oscrypto 1.3.0. webservice.verify is imported first and installs a
narrow, documented guard (`webservice.verify._import_sdk_verifier_module`) that makes the import
succeed; the SDK's own verifiers that would need oscrypto are switched off below and replaced by
ours.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# webservice.verify must be imported before flask_ask_sdk: it installs the import guard.
from webservice import verify as checks

# isort: split
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, g, jsonify, request
from flask_ask_sdk.skill_adapter import (
    VERIFY_SIGNATURE_APP_CONFIG,
    VERIFY_TIMESTAMP_APP_CONFIG,
    SkillAdapter,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

if TYPE_CHECKING:
    from ask_sdk_core.skill import CustomSkill

log = logging.getLogger("webservice.app")  # the same name under `python -m webservice`

MAX_BODY_BYTES = 64 * 1024  # an Alexa request is a few KB; this is generous
DEFAULT_PORT = 5000
DEV_ENV = "SKILL_DEV"
DEV_BANNER = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  SKILL_DEV=1: DEVELOPMENT SERVER, REQUEST SIGNATURE AND TIMESTAMP CHECKS OFF  !!
!!  Anyone who can reach this port can drive the skill. Loopback only.          !!
!!  Never expose this to Alexa or the internet; unset SKILL_DEV for production.  !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


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

    app = Flask("webservice.app")  # so app.logger is this module's logger
    if not any(isinstance(f, _OneLineRejections) for f in app.logger.filters):
        app.logger.addFilter(_OneLineRejections())
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        # The SDK's default verifiers need certvalidator/oscrypto; webservice.verify replaces both.
        **{VERIFY_SIGNATURE_APP_CONFIG: False, VERIFY_TIMESTAMP_APP_CONFIG: False},
    )
    verifiers = checks.request_verifiers(
        skill_id, signature=signature_verifier, verify=verify
    )
    adapter = SkillAdapter(skill=skill, skill_id=skill_id or "unset", verifiers=verifiers, app=app)
    app.extensions["webservice.app"] = {"verify": verify}

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_type = "-"
        if not verify:
            log.warning("SKILL_DEV: request signature and timestamp checks are OFF")

    @app.post("/")
    def alexa() -> Any:
        body = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        if request.content_length is None and len(body) >= MAX_BODY_BYTES:
            # A chunked body is cut at the limit rather than refused: refuse it here.
            raise RequestEntityTooLarge()
        envelope = _parse_envelope(body, skill)
        if envelope is None:
            return _error(400, "not an Alexa request envelope")
        g.request_type = envelope.request.object_type or "-"
        return adapter.dispatch_request()

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


class _OneLineRejections(logging.Filter):
    """flask-ask-sdk logs every failed verification at ERROR with a full traceback: on a public
    endpoint that is one stack trace per scanner hit. Keep the reason (our messages name the rule
    broken, never request content), drop the traceback, and call it the warning it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Request verification failed" and record.exc_info:
            reason = record.exc_info[1]
            record.msg, record.args = "request rejected: %s", (reason,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def _parse_envelope(body: bytes, skill: CustomSkill) -> RequestEnvelope | None:
    """The envelope if `body` is one, else None (the caller answers 400).

    flask-ask-sdk would answer 500 to a body that is not UTF-8 or does not deserialize (an
    unknown request type, a wrong field type), and deserializes before any check runs. Parsing
    here first turns those into the 400 a bad request deserves. The reason is deliberately not
    logged: the SDK's error messages quote the body, which may hold what the user said.
    """
    try:
        envelope = skill.serializer.deserialize(
            payload=body.decode("utf-8"), obj_type=RequestEnvelope
        )
    except Exception:  # noqa: BLE001  (anything the SDK cannot read is the client's error)
        log.info("rejected a body that is not a request envelope")
        return None
    if (
        not isinstance(envelope, RequestEnvelope)
        or envelope.request is None
        or envelope.context is None
        or envelope.context.system is None
    ):
        log.info("rejected an envelope without request or context.System")
        return None
    return envelope


def run_gunicorn(
    app: Flask, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, workers: int | None = None
) -> None:
    """Serve `app` with gunicorn in this process until SIGTERM/SIGINT.

    gthread workers keep Alexa's (and wrk's) keep-alive connections open; the app is built once,
    before forking, so a misconfiguration fails at start rather than on the first request.
    """
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"{host}:{port}",
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY", "2")),
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 5,
        "keepalive": 5,
        "preload_app": True,
        "accesslog": None,  # our own request log line says what is safe to say
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "bedside-back-coach",
        # gunicorn >= 24 opens a control socket at ~/.gunicorn/gunicorn.ctl by default: two
        # servers on one machine (tests, bench) would fight over it, and we do not use it.
        "control_socket_disable": True,
    }

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _Server().run()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dev_mode() -> bool:
    return os.environ.get(DEV_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tools serve [--host H] [--port P]`; argv may start with "serve"."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["serve"]:
        args_in = args_in[1:]
    parser = argparse.ArgumentParser(prog="python -m tools serve", description="Serve the skill.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_PORT))
    args = parser.parse_args(args_in)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if dev_mode():
        if not _is_loopback(args.host):
            parser.error("SKILL_DEV=1 turns verification off: it only binds a loopback address")
        print(DEV_BANNER, file=sys.stderr, flush=True)
        create_app(verify=False).run(
            host=args.host, port=args.port, debug=False, use_reloader=False
        )
        return 0
    run_gunicorn(create_app(), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
