"""Alexa SSML and response checks: ssml-check-core (the real validator) plus our platform rules.

ssml-check-core accepts things Alexa rejects (Polly-only <mark>, <amazon:auto-breaths>; a break of
"10.9s" because it truncates to whole seconds) and misses others (8000 characters, empty speech),
so the rules from docs/platform-notes are enforced here in Python as well. Every error names its
rule in brackets and quotes the offending snippet.

One node worker, started on first use and kept for the whole test run, does the checking:
`platform_errors_many` sends a whole batch to it in one message.
"""

from __future__ import annotations

import atexit
import html
import json
import re
import threading
from typing import Any
from xml.parsers import expat

from tests.support import REPO_ROOT, JsonLineProcess

MAX_SPEECH_CHARS = 8000
MAX_BREAK_MS = 10_000
MAX_RESPONSE_BYTES = 24 * 1024

ALLOWED_TAGS = frozenset(
    {
        "speak", "break", "emphasis", "p", "s", "prosody", "say-as", "sub", "phoneme", "w",
        "lang", "voice", "audio", "amazon:effect", "amazon:emotion", "amazon:domain",
    }
)  # fmt: skip
POLLY_ONLY_TAGS = frozenset({"mark", "amazon:auto-breaths", "amazon:max-duration", "amazon:breath"})
BREAK_STRENGTHS = frozenset({"none", "x-weak", "weak", "medium", "strong", "x-strong"})

_BREAK_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LT = re.compile(r"<(?![A-Za-z_/!?])")
_TAG = re.compile(r"<[^>]*>")
# ssml-check-core 0.3.9 crashes ("unknown error") on a break with no attributes, which is valid
# SSML meaning a medium pause: give the checker that explicit equivalent.
_BARE_BREAK = re.compile(r"<break\s*/>")

_worker: JsonLineProcess | None = None
_worker_lock = threading.Lock()


def snippet(text: str, index: int, width: int = 30) -> str:
    """The text around `index`, one line, for error messages."""
    start, end = max(0, index - width), min(len(text), index + width)
    piece = text[start:end].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


def spoken_text(ssml: str) -> str:
    """What a listener hears as words: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", ssml)).split())


def break_ms(time: str) -> float | None:
    """Milliseconds of a break's time attribute ("3s", "250ms", "1.5s"), or None without a unit."""
    match = _BREAK_TIME.match(time.strip())
    if not match:
        return None
    value = float(match.group(1))
    return value * 1000 if match.group(2) == "s" else value


def _elements(ssml: str) -> tuple[list[tuple[str, dict[str, str], int]], str | None]:
    """(name, attributes, character offset) of every element, and the XML error if any."""
    found: list[tuple[str, dict[str, str], int]] = []
    data = ssml.encode("utf-8")
    parser = expat.ParserCreate()  # no namespace processing: "amazon:effect" stays one name

    def start(name: str, attrs: dict[str, str]) -> None:
        offset = len(data[: parser.CurrentByteIndex].decode("utf-8", errors="replace"))
        found.append((name, attrs, offset))

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        line_start = sum(len(line) + 1 for line in ssml.split("\n")[: err.lineno - 1])
        where = snippet(ssml, line_start + err.offset)
        reason = expat.ErrorString(err.code)
        return found, f"{reason} at line {err.lineno} col {err.offset}: {where!r}"
    return found, None


def _own_errors(ssml: str) -> list[str]:
    if not ssml.strip():
        return ["[empty-speech] the speech is empty"]
    errors: list[str] = []
    if len(ssml) > MAX_SPEECH_CHARS:
        errors.append(
            f"[max-length] speech is {len(ssml)} characters; Alexa allows {MAX_SPEECH_CHARS}"
            f" (tags count): ends {snippet(ssml, len(ssml))!r}"
        )
    bare = [
        f"[bare-{name}] {char!r} must be escaped as {escaped}: {snippet(ssml, m.start())!r}"
        for pattern, name, char, escaped in (
            (_BARE_AMP, "ampersand", "&", "&amp;"),
            (_BARE_LT, "less-than", "<", "&lt;"),
        )
        for m in pattern.finditer(ssml)
    ]
    errors += bare
    elements, xml_error = _elements(ssml)
    stripped = ssml.strip()
    if not (stripped.startswith("<speak") and stripped.endswith("</speak>")):
        errors.append(
            f"[speak-root] speech must be one <speak>…</speak> element:"
            f" starts {snippet(stripped, 0)!r}, ends {snippet(stripped, len(stripped))!r}"
        )
    elif xml_error and "junk after document element" in xml_error:
        errors.append(f"[speak-root] more than one root element: {xml_error}")
    elif xml_error and not bare:
        errors.append(f"[xml] not well-formed: {xml_error}")
    for name, attrs, offset in elements:
        where = snippet(ssml, offset)
        if name in POLLY_ONLY_TAGS:
            errors.append(f"[polly-only-tag] <{name}> is Amazon Polly only, not Alexa: {where!r}")
        elif name not in ALLOWED_TAGS:
            errors.append(f"[unknown-tag] <{name}> is not an Alexa SSML tag: {where!r}")
        elif name == "break":
            errors += _break_errors(attrs, where)
    if not xml_error and not spoken_text(ssml) and not any(n == "audio" for n, _, _ in elements):
        errors.append(f"[empty-speech] nothing is said: {snippet(ssml, 0, 60)!r}")
    return errors


def _break_errors(attrs: dict[str, str], where: str) -> list[str]:
    errors = [
        f"[break-attribute] unknown attribute {a!r}: {where!r}"
        for a in attrs
        if a not in ("time", "strength")
    ]
    if "time" in attrs:
        ms = break_ms(attrs["time"])
        if ms is None:
            errors.append(
                f"[break-unit] time={attrs['time']!r} needs a unit, e.g. '3s' or '250ms': {where!r}"
            )
        elif ms > MAX_BREAK_MS:
            errors.append(
                f"[break-max] time={attrs['time']!r} is over 10 s; chain breaks instead: {where!r}"
            )
    if "strength" in attrs and attrs["strength"] not in BREAK_STRENGTHS:
        errors.append(f"[break-strength] strength={attrs['strength']!r} is not valid: {where!r}")
    return errors


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
    own = [_own_errors(ssml) for ssml in items]
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


def _speech(output_speech: Any, where: str) -> tuple[str | None, str, list[str]]:
    """(SSML to validate or None, the words said, structural errors) of an outputSpeech object."""
    if not isinstance(output_speech, dict):
        return None, "", [f"[{where}] is not an object: {output_speech!r}"]
    kind = output_speech.get("type")
    if kind == "SSML":
        ssml = output_speech.get("ssml")
        if not isinstance(ssml, str):
            return None, "", [f"[{where}] type SSML without an 'ssml' string"]
        return ssml, spoken_text(ssml), []
    if kind == "PlainText":
        text = output_speech.get("text")
        if not isinstance(text, str) or not text.strip():
            return None, "", [f"[{where}] PlainText with no text"]
        if len(text) > MAX_SPEECH_CHARS:
            return None, text, [f"[{where}] [max-length] {len(text)} characters"]
        return None, text.strip(), []
    return None, "", [f"[{where}] unknown type {kind!r}"]


def response_errors(
    response_envelope: dict[str, Any],
    *,
    request_type: str | None = None,
    locale: str = "en-US",
) -> list[str]:
    """Everything in a skill's response envelope that Alexa or certification would reject.

    Pass `request_type="SessionEndedRequest"` for the answer to one: it must say nothing and
    needs no shouldEndSession.
    """
    errors: list[str] = []
    size = len(json.dumps(response_envelope).encode("utf-8"))
    if size > MAX_RESPONSE_BYTES:
        errors.append(f"[response-size] response JSON is {size} bytes; keep it under 24 KB")
    response = response_envelope.get("response")
    if not isinstance(response, dict):
        body = snippet(json.dumps(response_envelope), 0, 80)
        return [*errors, f"[envelope] no 'response' object: {body!r}"]

    speech = response.get("outputSpeech")
    reprompt = (response.get("reprompt") or {}).get("outputSpeech")
    if request_type == "SessionEndedRequest":
        if speech is not None or reprompt is not None:
            errors.append("[session-ended] a SessionEndedRequest's response cannot speak")
        return errors

    to_check: list[tuple[str, str]] = []
    said = reprompt_said = ""
    if speech is not None:
        ssml, said, found = _speech(speech, "outputSpeech")
        errors += found
        if ssml is not None:
            to_check.append(("outputSpeech", ssml))
    if reprompt is not None:
        ssml, reprompt_said, found = _speech(reprompt, "reprompt")
        errors += found
        if ssml is not None:
            to_check.append(("reprompt", ssml))
    if to_check:
        checked = platform_errors_many([ssml for _, ssml in to_check], locale)
        for (where, _), found in zip(to_check, checked, strict=True):
            errors += [f"{where}: {e}" for e in found]

    end = response.get("shouldEndSession", "missing")
    if end is False:
        # A reprompt is optional (silence then ends the session), but one that says nothing
        # holds the microphone open for nothing, which certification rejects.
        if reprompt is not None and not reprompt_said:
            errors.append(
                "[open-session-reprompt] shouldEndSession is false and the reprompt says nothing"
            )
        if not said.endswith("?"):
            errors.append(
                f"[open-session-question] the session stays open but the speech does not end with"
                f" a question: {snippet(said, len(said))!r}"
            )
    elif end == "missing":
        errors.append(
            "[should-end-session] shouldEndSession is missing (ask-sdk leaves it out after only"
            " .speak()): set it to true to close the session, or .ask() a question"
        )
    elif end is not True:
        errors.append(f"[should-end-session] shouldEndSession must be a boolean, not {end!r}")
    return errors
