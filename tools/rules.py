"""Alexa's platform rules, each written once.

The linter (``python -m tools validate``) checks every string the content can become with
:func:`ssml_problems`; the tests check every response the skill gives with :func:`response_problems`
(tests/support/ssml.py adds the real validator, ssml-check-core, on top), and the conversation
tests' ``Turn.asks`` / ``ended`` / ``silent`` use the session rules. The facts come from
/work/shared/platform-notes.md:

- speech: one ``<speak>`` element of well-formed XML, at most 8000 characters (tags count), every
  ``&`` and ``<`` escaped, only the tags Alexa accepts (not Polly's), a break at most 10 s and
  with its unit; and it says something;
- sessions: an open session's speech ends with a question, and its reprompt, if it has one, says
  something; every other response sets ``shouldEndSession`` true (ask-sdk leaves it out after
  only ``.speak()``); the answer to a SessionEndedRequest says nothing;
- the whole response stays under 24 KB (Alexa allows 120 KB; older docs said 24).

Each rule has a name (``break-max``) and, for the linter's coarser report, a group
(``ssml-break``). Pure Python (the standard library, and the limits the skill builds speech
to in skill.core.speech), so the linter runs from the venv alone.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from xml.parsers import expat

from skill.core import speech

MAX_SPEECH_CHARS = speech.MAX_SPEECH_CHARS
MAX_BREAK_MS = speech.MAX_BREAK_MS
#: Alexa's limit on a whole response, and the older documented one we keep under.
MAX_RESPONSE_BYTES = 120 * 1024
RESPONSE_BYTES_BUDGET = 24 * 1024

ALLOWED_TAGS = frozenset({
    "speak", "break", "emphasis", "p", "s", "prosody", "say-as", "sub", "phoneme", "w",
    "lang", "voice", "audio", "amazon:effect", "amazon:emotion", "amazon:domain",
})  # fmt: skip
POLLY_ONLY_TAGS = frozenset({"mark", "amazon:auto-breaths", "amazon:max-duration", "amazon:breath"})
BREAK_STRENGTHS = frozenset({"none", "x-weak", "weak", "medium", "strong", "x-strong"})

#: Each speech rule's group in the linter's report.
GROUPS = {
    "empty-speech": "ssml-empty",
    "max-length": "ssml-length",
    "bare-ampersand": "ssml-bare-character",
    "bare-less-than": "ssml-bare-character",
    "speak-root": "ssml-root",
    "xml": "ssml-xml",
    "polly-only-tag": "ssml-tag",
    "unknown-tag": "ssml-tag",
    "break-attribute": "ssml-break",
    "break-unit": "ssml-break",
    "break-max": "ssml-break",
    "break-strength": "ssml-break",
}

_BREAK_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LT = re.compile(r"<(?![A-Za-z_/!?])")
_TAG = re.compile(r"<[^>]*>")


class Problem(NamedTuple):
    """One broken rule: its name, why it is broken, and where in the SSML (a character offset)
    when one place is to blame."""

    rule: str
    why: str
    at: int | None = None

    @property
    def group(self) -> str:
        return GROUPS.get(self.rule, self.rule)

    def message(self, text: str = "") -> str:
        """``[rule] why: 'the text around it'``, the form the tests print."""
        where = f": {snippet(text, self.at)!r}" if self.at is not None and text else ""
        return f"[{self.rule}] {self.why}{where}"


def snippet(text: str, index: int, width: int = 30) -> str:
    """The text around ``index``, on one line."""
    start, end = max(0, index - width), min(len(text), index + width)
    piece = text[start:end].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


def spoken(ssml: str) -> str:
    """What a listener hears as words: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", ssml)).split())


def break_ms(time: str) -> float | None:
    """Milliseconds of a break's time ("3s", "250ms", "1.5s"), or None without a unit."""
    match = _BREAK_TIME.match(time.strip())
    if not match:
        return None
    value = float(match.group(1))
    return value * 1000 if match.group(2) == "s" else value


# --- speech ---------------------------------------------------------------------------------


def ssml_problems(ssml: str) -> list[Problem]:
    """Everything in ``ssml`` that would make Alexa reject the response (empty: valid)."""
    if not ssml.strip():
        return [Problem("empty-speech", "the speech is empty")]
    problems: list[Problem] = []
    if len(ssml) > MAX_SPEECH_CHARS:
        problems.append(Problem("max-length", f"speech is {len(ssml)} characters; Alexa allows"
                                              f" {MAX_SPEECH_CHARS} (tags count)", len(ssml)))
    # One bare character makes Alexa reject the whole response.
    for pattern, rule, char, entity in ((_BARE_AMP, "bare-ampersand", "&", "&amp;"),
                                        (_BARE_LT, "bare-less-than", "<", "&lt;")):
        problems += [Problem(rule, f"{char!r} must be escaped as {entity}", m.start())
                     for m in pattern.finditer(ssml)]
    bare = any(p.rule.startswith("bare-") for p in problems)
    elements, xml_error = _elements(ssml)
    stripped = ssml.strip()
    if not (stripped.startswith("<speak") and stripped.endswith("</speak>")):
        problems.append(Problem(
            "speak-root", f"speech must be one <speak>…</speak> element: starts"
                          f" {snippet(stripped, 0)!r}, ends {snippet(stripped, len(stripped))!r}"))
    elif xml_error and "junk after document element" in xml_error:
        problems.append(Problem("speak-root", f"more than one root element: {xml_error}"))
    elif xml_error and not bare:
        problems.append(Problem("xml", f"not well-formed: {xml_error}"))
    for name, attrs, offset in elements:
        if name in POLLY_ONLY_TAGS:
            problems.append(Problem("polly-only-tag", f"<{name}> is Amazon Polly only, not"
                                                      " Alexa", offset))
        elif name not in ALLOWED_TAGS:
            problems.append(Problem("unknown-tag", f"<{name}> is not an Alexa SSML tag", offset))
        elif name == "break":
            problems += _break_problems(attrs, offset)
    if not xml_error and not spoken(ssml) and not any(n == "audio" for n, _, _ in elements):
        problems.append(Problem("empty-speech", "nothing is said", 0))
    return problems


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


def _break_problems(attrs: dict[str, str], offset: int) -> list[Problem]:
    problems = [Problem("break-attribute", f"<break> has no attribute {a!r}", offset)
                for a in attrs if a not in ("time", "strength")]
    if "time" in attrs:
        ms = break_ms(attrs["time"])
        if ms is None:
            problems.append(Problem("break-unit", f"time={attrs['time']!r} needs a unit, e.g."
                                                  " '3s' or '250ms'", offset))
        elif ms > MAX_BREAK_MS:
            problems.append(Problem("break-max", f"time={attrs['time']!r} is over 10 s, Alexa's"
                                                 " longest break: chain breaks instead", offset))
    if "strength" in attrs and attrs["strength"] not in BREAK_STRENGTHS:
        problems.append(Problem("break-strength",
                                f"strength={attrs['strength']!r} is not a break strength", offset))
    return problems


# --- sessions -------------------------------------------------------------------------------


def open_session_problems(said: str, reprompt_said: str | None) -> list[Problem]:
    """A session that stays open (``said``: the words of its speech; ``reprompt_said``: of its
    reprompt, None when it has none). A reprompt is optional (silence then ends the session),
    but one that says nothing holds the microphone open for nothing, and certification fails an
    open session whose last words are not a question: people answer the last thing they hear."""
    problems = []
    if reprompt_said is not None and not reprompt_said.strip():
        problems.append(Problem("open-session-reprompt",
                                "shouldEndSession is false and the reprompt says nothing"))
    if not said.strip().endswith("?"):
        problems.append(Problem("open-session-question",
                                "the session stays open but the speech does not end with a"
                                " question", len(said)))
    return problems


def end_session_problems(should_end: object) -> list[Problem]:
    """``shouldEndSession`` of a response that is not an open question (``...`` when absent)."""
    if should_end is True:
        return []
    if should_end is ...:
        return [Problem("should-end-session",
                        "shouldEndSession is missing (ask-sdk leaves it out after only .speak()):"
                        " set it to true to close the session, or .ask() a question")]
    return [Problem("should-end-session",
                    f"shouldEndSession must be a boolean, not {should_end!r}")]


def session_ended_problems(speaks: bool, reprompts: bool) -> list[Problem]:
    """The answer to a SessionEndedRequest (or System.ExceptionEncountered) says nothing."""
    if speaks or reprompts:
        return [Problem("session-ended", "a SessionEndedRequest's response cannot speak")]
    return []


def response_size_problems(envelope: Mapping[str, Any]) -> list[Problem]:
    size = len(json.dumps(envelope).encode("utf-8"))
    if size > RESPONSE_BYTES_BUDGET:
        return [Problem("response-size", f"response JSON is {size} bytes; keep it under"
                                         f" {RESPONSE_BYTES_BUDGET // 1024} KB")]
    return []


# --- a whole response -----------------------------------------------------------------------

#: Checks a batch of SSML strings: a list of messages for each (tests add ssml-check-core).
SsmlCheck = Callable[[list[str]], list[list[str]]]


def check_ssml_many(items: list[str]) -> list[list[str]]:
    """This module's speech rules, as messages, for each string."""
    return [[p.message(ssml) for p in ssml_problems(ssml)] for ssml in items]


def response_problems(envelope: Mapping[str, Any], *, request_type: str | None = None,
                      check: SsmlCheck = check_ssml_many) -> list[str]:
    """Everything in a skill's response envelope that Alexa or certification would reject, as
    messages. ``request_type="SessionEndedRequest"``: the answer to one, which must say nothing
    and needs no shouldEndSession. ``check`` validates the speech and the reprompt, in one batch.
    """
    errors = [p.message() for p in response_size_problems(envelope)]
    response = envelope.get("response")
    if not isinstance(response, dict):
        body = snippet(json.dumps(envelope), 0, 80)
        return [*errors, f"[envelope] no 'response' object: {body!r}"]
    output = response.get("outputSpeech")
    reprompt = (response.get("reprompt") or {}).get("outputSpeech")
    if request_type == "SessionEndedRequest":
        return errors + [p.message() for p in session_ended_problems(output is not None,
                                                                     reprompt is not None)]
    to_check: list[tuple[str, str]] = []
    said = reprompt_said = ""
    for where, part in (("outputSpeech", output), ("reprompt", reprompt)):
        if part is None:
            continue
        ssml, words, found = _speech(part, where)
        errors += found
        if ssml is not None:
            to_check.append((where, ssml))
        if where == "outputSpeech":
            said = words
        else:
            reprompt_said = words
    if to_check:
        checked = check([ssml for _, ssml in to_check])
        for (where, _), found_here in zip(to_check, checked, strict=True):
            errors += [f"{where}: {e}" for e in found_here]
    end = response.get("shouldEndSession", ...)
    if end is False:
        errors += [p.message(said) for p in
                   open_session_problems(said, reprompt_said if reprompt is not None else None)]
    else:
        errors += [p.message() for p in end_session_problems(end)]
    return errors


def _speech(output_speech: Any, where: str) -> tuple[str | None, str, list[str]]:
    """(SSML to validate or None, the words said, structural errors) of an outputSpeech object."""
    if not isinstance(output_speech, dict):
        return None, "", [f"[{where}] is not an object: {output_speech!r}"]
    kind = output_speech.get("type")
    if kind == "SSML":
        ssml = output_speech.get("ssml")
        if not isinstance(ssml, str):
            return None, "", [f"[{where}] type SSML without an 'ssml' string"]
        return ssml, spoken(ssml), []
    if kind == "PlainText":
        text = output_speech.get("text")
        if not isinstance(text, str) or not text.strip():
            return None, "", [f"[{where}] PlainText with no text"]
        if len(text) > MAX_SPEECH_CHARS:
            return None, text, [f"[{where}] [max-length] {len(text)} characters"]
        return None, text.strip(), []
    return None, "", [f"[{where}] unknown type {kind!r}"]
