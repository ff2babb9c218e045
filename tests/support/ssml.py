"""Alexa SSML and response checks: ssml-check-core (the real validator) on top of our platform
rules (tools/rules.py, the one definition the linter uses too).

ssml-check-core accepts things Alexa rejects (Polly-only <mark>, <amazon:auto-breaths>; a break of
"10.9s" because it truncates to whole seconds) and misses others (8000 characters, empty speech),
so both run. Every error names its rule in brackets and quotes the offending snippet.

One node worker, started on first use and kept for the whole test run, does the checking:
`platform_errors_many` sends a whole batch to it in one message.
"""

from __future__ import annotations

import atexit
import json
import re
import threading
from typing import Any

from tests.support import REPO_ROOT, JsonLineProcess
from tools import rules
from tools.rules import break_ms, snippet
from tools.rules import spoken as spoken_text

__all__ = ["break_ms", "close_checker", "platform_errors", "platform_errors_many",
           "response_errors", "snippet", "spoken_text"]

# ssml-check-core 0.3.9 crashes ("unknown error") on a break with no attributes, which is valid
# SSML meaning a medium pause: give the checker that explicit equivalent.
_BARE_BREAK = re.compile(r"<break\s*/>")

_worker: JsonLineProcess | None = None
_worker_lock = threading.Lock()


def _checker_message(ssml: str, error: dict[str, Any]) -> str:
    where = f": {snippet(ssml, error['position'])!r}" if "position" in error else ""
    if error.get("type") == "tag":
        if "attribute" in error:
            value = f"={error['value']!r}" if "value" in error else ""
            what = f"<{error['tag']}> attribute {error['attribute']}{value} is invalid"
        else:
            what = f"<{error['tag']}> is not valid here"
        return f"[ssml-check-core] {what}{where}"
    return f"[ssml-check-core] {error.get('type', json.dumps(error))}{where}"


def _checker() -> JsonLineProcess:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.alive:
            _worker = JsonLineProcess(
                REPO_ROOT / "tests" / "support" / "ssml_check.js", package="ssml-check-core"
            )
        return _worker


def close_checker() -> None:
    """Stop the node worker (also done at interpreter exit)."""
    global _worker
    with _worker_lock:
        if _worker is not None:
            _worker.close()
            _worker = None


atexit.register(close_checker)


def platform_errors_many(items: list[str], locale: str = "en-US") -> list[list[str]]:
    """Errors for each SSML string (empty list = valid), checked in one node round trip."""
    own = rules.check_ssml_many(items)
    for_checker = [_BARE_BREAK.sub('<break strength="medium"/>', ssml) for ssml in items]
    reply = _checker().request({"items": for_checker, "locale": locale}, timeout=60)
    result = []
    for ssml, mine, theirs in zip(items, own, reply["results"], strict=True):
        if not ssml.strip():
            result.append(mine)  # the checker's "<speak> is not valid" only repeats empty-speech
            continue
        xml_reported = any(e.startswith(("[bare-", "[xml]", "[speak-root]")) for e in mine)
        for error in theirs:
            # "Invalid & character" and "Can't parse SSML" repeat what our XML rules said better.
            if xml_reported and error.get("type") in ("Invalid & character", "Can't parse SSML"):
                continue
            mine.append(_checker_message(ssml, error))
        result.append(mine)
    return result


def platform_errors(ssml: str, locale: str = "en-US") -> list[str]:
    """Errors that would make Alexa reject this SSML (empty list = valid)."""
    return platform_errors_many([ssml], locale)[0]


def response_errors(
    response_envelope: dict[str, Any],
    *,
    request_type: str | None = None,
    locale: str = "en-US",
) -> list[str]:
    """Everything in a skill's response envelope that Alexa or certification would reject
    (tools.rules.response_problems, its speech checked by ssml-check-core too).

    Pass `request_type="SessionEndedRequest"` for the answer to one: it must say nothing and
    needs no shouldEndSession.
    """
    return rules.response_problems(
        response_envelope, request_type=request_type,
        check=lambda items: platform_errors_many(items, locale))


def responses_errors(responses: list[tuple[dict[str, Any], str | None]],
                     locale: str = "en-US") -> list[list[str]]:
    """`response_errors` for each (response envelope, request type), every distinct speech and
    reprompt checked in one node round trip."""
    texts: list[str] = []
    for envelope, _ in responses:
        response = envelope.get("response")
        if not isinstance(response, dict):
            continue
        reprompt = response.get("reprompt")
        for part in (response.get("outputSpeech"),
                     reprompt.get("outputSpeech") if isinstance(reprompt, dict) else None):
            if isinstance(part, dict) and isinstance(part.get("ssml"), str):
                texts.append(part["ssml"])
    unique = list(dict.fromkeys(texts))
    checked = dict(zip(unique, platform_errors_many(unique, locale) if unique else [],
                       strict=True))

    def check(items: list[str]) -> list[list[str]]:
        return [list(checked[i]) if i in checked else platform_errors(i, locale) for i in items]

    return [rules.response_problems(envelope, request_type=kind, check=check)
            for envelope, kind in responses]
