"""Talk to the skill the way Alexa would, and assert on what it says.

    talk = Conversation(at="07:00")                 # America/New_York, a Tuesday in March
    talk.utter("open bedside back coach").says("Good morning").asks()
    talk.utter("yes").says("Step 1 of 7").asks()
    talk.utter("stop").ended()

Each turn is a real request envelope (LaunchRequest, IntentRequest with slots and entity
resolutions, SessionEndedRequest; built by tools/envelopes.py) sent through
``skill.alexa.app.handler``, the Lambda entry point. Utterances are resolved by tools/resolver.py
with the skill's own interaction model, as virtual-alexa matches them (exact samples, slot
samples, the phrasings Alexa's built-in intents know); anything else is AMAZON.FallbackIntent,
as on a device. Slot values go as Alexa sends them ("ten p.m." as 22:00). "open <name>" is a
launch and "ask <name> to ..." a one-shot: both start a new session.

Sessions behave like Alexa's: ``new`` is true only on a session's first request, the
sessionAttributes of each response go back in the next request's ``session.attributes``, and a
response with shouldEndSession true ends the session (the next request starts a new one).
Every response is kept in ``responses`` so a test can check them all against the platform rules.
"""

from __future__ import annotations

import itertools
import json
import re
import string
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from tests.support import REPO_ROOT
from tools import envelopes, rules
from tools import resolver as resolving

MODELS = REPO_ROOT / "interaction_model" / "interactionModels" / "custom"
SKILL_ID = envelopes.TEST_SKILL_ID
#: A closed loopback port: the Settings API is "unreachable", as it is for any test.
UNREACHABLE_API = "http://127.0.0.1:9"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@cache
def language_model(locale: str) -> dict[str, Any]:
    return resolving.language_model(locale, MODELS)


def resolve(utterance: str, locale: str = "en-US") -> tuple[str, dict[str, str]]:
    """The intent Alexa would hear in what the person said, and the slot words as heard
    (``utter`` sends them as Alexa does: an AMAZON.TIME as "HH:MM")."""
    found = resolving.Resolver.for_locale(locale).resolve(utterance)
    return found.intent, dict(found.heard)


def slot_json(locale: str, intent_name: str, values: dict[str, str]) -> dict[str, Any]:
    """Every slot of the intent, as Alexa sends them: custom types with entity resolutions."""
    return envelopes.slots(language_model(locale), intent_name, values, SKILL_ID)


def line_patterns(key: str, locale: str = "en-US", **fields: object) -> list[re.Pattern[str]]:
    """Every wording of the prompt ``key``, as patterns over what is heard: a placeholder given
    in ``fields`` must be said as given, any other matches whatever was said there."""
    from skill.core import content

    lines = content.prompts(locale).raw(key)
    patterns = []
    for line in [lines] if isinstance(lines, str) else lines:
        pattern = ""
        for literal, name, _, _ in string.Formatter().parse(line.lower()):
            pattern += re.escape(literal)
            if name is not None:
                pattern += re.escape(str(fields[name]).lower()) if name in fields else ".+?"
        patterns.append(re.compile(pattern))
    return patterns


class Turn:
    """One response from the skill, with assertions that read like the conversation."""

    def __init__(self, request: dict[str, Any], envelope: dict[str, Any]) -> None:
        self.request = request
        self.envelope = envelope
        self.response: dict[str, Any] = envelope.get("response") or {}
        speech = self.response.get("outputSpeech") or {}
        reprompt = (self.response.get("reprompt") or {}).get("outputSpeech") or {}
        self.ssml: str = speech.get("ssml", "")
        self.reprompt_ssml: str = reprompt.get("ssml", "")
        self.text = rules.spoken(self.ssml)
        self.reprompt = rules.spoken(self.reprompt_ssml)
        self.state: dict[str, Any] = envelope.get("sessionAttributes") or {}

    def __repr__(self) -> str:
        end = self.response.get("shouldEndSession", "missing")
        return f"<Turn end={end} says={self.text!r} reprompt={self.reprompt!r}>"

    @property
    def request_type(self) -> str:
        return str(self.request["request"].get("type"))

    @property
    def pending(self) -> list[str] | None:
        """The open question the coach is waiting on: [offer, argument]."""
        return (self.state.get("coach") or {}).get("pending")

    @property
    def profile(self) -> dict[str, Any]:
        return self.state.get("profile") or {}

    def says(self, *fragments: str) -> Turn:
        """Each fragment is heard (case and entities ignored)."""
        heard = self.text.lower()
        for fragment in fragments:
            assert fragment.lower() in heard, f"expected {fragment!r} in what was said: {self}"
        return self

    def says_line(self, key: str, **fields: object) -> Turn:
        """One of the wordings of prompt ``key`` is heard (the skill varies its lines)."""
        heard = self.text.lower()
        assert any(p.search(heard) for p in line_patterns(key, **fields)), (
            f"expected a wording of {key} {fields or ''}: {self}")
        return self

    def does_not_say_line(self, key: str, **fields: object) -> Turn:
        heard = self.text.lower()
        assert not any(p.search(heard) for p in line_patterns(key, **fields)), (
            f"did not expect {key}: {self}")
        return self

    def does_not_say(self, *fragments: str) -> Turn:
        heard = self.text.lower()
        for fragment in fragments:
            assert fragment.lower() not in heard, f"did not expect {fragment!r}: {self}"
        return self

    def asks(self, reprompt: bool = True) -> Turn:
        """The session stays open: the speech ends with a question and a real reprompt follows
        (``reprompt=False``: none at all, so silence ends the session, as at bedtime)."""
        assert self.response.get("shouldEndSession") is False, f"session should stay open: {self}"
        has_reprompt = "reprompt" in self.response
        broken = rules.open_session_problems(self.text, self.reprompt if has_reprompt else None)
        assert not broken, f"{[p.message(self.text) for p in broken]}: {self}"
        if reprompt:
            assert has_reprompt, f"expected a spoken reprompt: {self}"
        else:
            assert not has_reprompt, f"expected no reprompt: {self}"
        return self

    def ended(self) -> Turn:
        """The session closes, with something said and no reprompt."""
        broken = rules.end_session_problems(self.response.get("shouldEndSession", ...))
        assert not broken, f"session should end: {[p.message() for p in broken]}: {self}"
        assert self.text, f"a closing response still says something: {self}"
        assert not self.reprompt_ssml, f"a closing response has no reprompt: {self}"
        return self

    def silent(self) -> Turn:
        """No speech at all (the answer to SessionEndedRequest or System.ExceptionEncountered)."""
        broken = rules.session_ended_problems("outputSpeech" in self.response,
                                              "reprompt" in self.response)
        assert not broken, f"expected no speech: {self}"
        return self

    def at_step(self, routine: str, index: int) -> Turn:
        """The coach is in ``routine`` at step ``index`` (0-based) after this turn."""
        coach = self.state.get("coach") or {}
        where = (coach.get("routine"), coach.get("step"))
        assert where == (routine, index), f"expected {routine} step {index}, at {where}: {self}"
        return self


class Conversation:
    """One person on one device, talking to the skill across turns and sessions."""

    def __init__(
        self,
        *,
        at: str = "07:00",
        on: date = date(2024, 3, 5),
        tz: str = "America/New_York",
        locale: str = "en-US",
        user: str = "amzn1.ask.account.TESTUSER",
        device: str = "amzn1.ask.device.TESTDEVICE",
        skill_id: str = SKILL_ID,
        api_endpoint: str = UNREACHABLE_API,
        handler: Handler | None = None,
        seconds_per_turn: float = 5.0,
        nothing_to_declare: bool = True,
    ) -> None:
        """``nothing_to_declare``: this person answers the one-off body check ("is anything
        different about your body?") with "no" as soon as it is asked, and the turn after it is
        what `utter` returns (both are in `turns`); tests of the check turn it off."""
        self.now = datetime.combine(on, time.fromisoformat(at), ZoneInfo(tz))
        self.nothing_to_declare = nothing_to_declare
        self.locale = locale
        self.user = user
        self.device = device
        self.skill_id = skill_id
        self.api_endpoint = api_endpoint
        self.seconds_per_turn = seconds_per_turn
        self._handler = handler
        self.invocation: str = language_model(locale)["invocationName"]
        self.session_id: str | None = None
        self.attributes: dict[str, Any] = {}
        self.new = True
        self.turns: list[Turn] = []
        self._ids = itertools.count(1)

    # -- the clock -------------------------------------------------------------------------

    def wait(self, **delta: float) -> Conversation:
        """Let time pass (``minutes=5``, ``hours=20``)."""
        self.now += timedelta(**delta)
        return self

    def set_time(self, at: str, on: date | None = None) -> Conversation:
        zone = self.now.tzinfo
        self.now = datetime.combine(on or self.now.date(), time.fromisoformat(at), zone)
        return self

    # -- what the person does --------------------------------------------------------------

    def utter(self, text: str) -> Turn:
        """Say something: a launch, a one-shot, or words resolved in the open session."""
        heard = resolving.heard(text, self.invocation)
        if heard.kind == "launch":
            return self.launch()
        if heard.kind == "end":
            return self.end("USER_INITIATED")
        if heard.kind == "one_shot":
            self.new_session()
        found = resolving.Resolver.for_locale(self.locale).resolve(heard.words)
        return self.intent(found.intent, **found.slots)

    def launch(self) -> Turn:
        """ "Alexa, open <name>": always a new session."""
        self.new_session()
        return self.send(envelopes.launch_request())

    def intent(self, name: str, **slots: str) -> Turn:
        """An IntentRequest for ``name`` with these slot values, in the current session."""
        return self.send(envelopes.intent_request(language_model(self.locale), name, slots,
                                                  skill_id=SKILL_ID))

    def end(self, reason: str = "EXCEEDED_MAX_REPROMPTS", error: dict | None = None) -> Turn:
        """Alexa ends the open session (the person said nothing, or left)."""
        return self.send(envelopes.session_ended_request(reason, error))

    def new_session(self) -> None:
        self.session_id = None

    # -- the wire --------------------------------------------------------------------------

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        """A whole request envelope around ``request`` for this person, device and moment."""
        if self.session_id is None:
            self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
            self.attributes, self.new = {}, True
        caller = envelopes.Caller(
            session_id=self.session_id, new=self.new, attributes=self.attributes,
            user_id=self.user, device_id=self.device, skill_id=self.skill_id,
            api_endpoint=self.api_endpoint, api_token="test-api-access-token")
        stamp = self.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return envelopes.envelope(request, caller, request_id=f"amzn1.echo-api.request."
                                  f"{next(self._ids)}", timestamp=stamp, locale=self.locale)

    def send(self, request: dict[str, Any]) -> Turn:
        return self.send_envelope(self.envelope(request))

    def send_envelope(self, envelope: dict[str, Any]) -> Turn:
        """Send a whole envelope (possibly a broken one) and carry the session on."""
        handler = self._handler
        if handler is None:
            from skill.alexa.app import handler
        answer = handler(envelope, None)
        json.dumps(answer)  # what Lambda would do: a response must serialise
        turn = Turn(envelope, answer)
        self.turns.append(turn)
        self.now += timedelta(seconds=self.seconds_per_turn)
        request = envelope.get("request") if isinstance(envelope.get("request"), dict) else {}
        ended = request.get("type") == "SessionEndedRequest"
        if ended or turn.response.get("shouldEndSession") is True:
            self.session_id = None
            self.attributes = {}
        else:
            self.attributes = turn.state
            self.new = False
        said_no = request.get("intent", {}).get("name") == "AMAZON.NoIntent"
        if self.nothing_to_declare and turn.pending and turn.pending[0] == "body" \
                and not said_no:  # once: a "no" that leaves the question open stays open
            return self.intent("AMAZON.NoIntent")
        return turn
