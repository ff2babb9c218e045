"""Thin ask-sdk handlers: an Alexa request becomes a coach event, a coach reply a response."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ask_sdk_core.dispatch_components import (
    AbstractExceptionHandler,
    AbstractRequestHandler,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from ask_sdk_model.ui import AskForPermissionsConsentCard, SimpleCard

from skill.alexa import display, reminders
from skill.alexa.device import context_for, slot_values, system_of
from skill.core import content
from skill.core import conversation as coach
from skill.core.profile import Profile

log = logging.getLogger(__name__)


def state_of(handler_input: HandlerInput) -> dict[str, Any]:
    """The coach's session state; a request without a session gets a fresh one."""
    try:
        state = handler_input.attributes_manager.session_attributes
    except Exception:  # noqa: BLE001 - ask-sdk raises its own error when there is no session
        return {}
    return state if state is not None else {}  # None only out of session, where it raises


def request_time(handler_input: HandlerInput) -> datetime | None:
    """When the person spoke: the request's timestamp (UTC when it names no zone)."""
    stamp = getattr(handler_input.request_envelope.request, "timestamp", None)
    if not isinstance(stamp, datetime):
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


#: The session attribute holding the conversation's own state; the shell's keys sit beside it.
COACH = "coach"
#: The person's profile, as the session carries it (read and written by skill.alexa.app).
PROFILE = "profile"
#: What the session knows of the stored record: {"revision", "stamps" (the record's change
#: stamps), "changes" (this session's, from `profile.note_changes`)}; {"read_only": why} for a
#: record this release must not write; None when memory is unavailable (or was deleted).
STORED = "stored"


def run(handler_input: HandlerInput, event: coach.Event) -> Response:
    state = state_of(handler_input)
    # The request's own time, not the clock of whatever machine runs us: it is when the person
    # spoke, and it makes a conversation replayable.
    ctx = context_for(handler_input, state, now=request_time(handler_input))
    session = coach.Session.from_dict(state.get(COACH))
    profile = Profile.from_dict(state.get(PROFILE))
    reply = coach.respond(event, session, profile, ctx)
    if reply.effect is not None:
        result = perform(handler_input, reply.effect, state)
        reply = coach.respond(coach.Event("EffectResult", result=result), session, profile, ctx)
    state[COACH] = session.to_dict()
    state[PROFILE] = profile.to_dict()
    return render(handler_input, reply)


def perform(handler_input: HandlerInput, effect: coach.Effect, state: dict[str, Any]
            ) -> coach.EffectResult:
    """Carry out an effect with a device API or the store; its outcome goes back to the coach."""
    if isinstance(effect, coach.ForgetProfile):
        return forget(handler_input, effect, state)
    system = system_of(handler_input)
    endpoint = system.api_endpoint if system is not None else None
    token = system.api_access_token if system is not None else None
    if not (endpoint and token):  # Alexa sends both with every request; a malformed one may not
        log.warning("reminder call failed: the request names no device API")
        return coach.EffectResult(effect, "failed")
    try:
        if isinstance(effect, coach.ReminderRequest):
            # The first night is counted from when the person asked, where they are: the
            # request's timestamp in the device's zone, not this server's clock.
            locale = getattr(handler_input.request_envelope.request, "locale", None)
            alert = reminders.create_nightly(
                endpoint, token, hour=effect.hour, minute=effect.minute,
                time_zone=state.get("tz") or "UTC", text=effect.text,
                locale=locale or content.DEFAULT_LOCALE, now=request_time(handler_input),
            )
            return coach.EffectResult(effect, "ok", alert)
        reminders.delete(endpoint, token, effect.token)
        return coach.EffectResult(effect, "ok")
    except reminders.ReminderPermissionMissing:
        return coach.EffectResult(effect, "permission")
    except reminders.ReminderError as error:
        log.warning("reminder call failed: %s", type(error).__name__)
        return coach.EffectResult(effect, "failed")


def forget(handler_input: HandlerInput, effect: coach.ForgetProfile, state: dict[str, Any]
           ) -> coach.EffectResult:
    """Delete the person's record from the store, and write nothing back this session."""
    try:
        handler_input.attributes_manager.delete_persistent_attributes()
    except Exception as error:  # noqa: BLE001 - any store failure: say so, keep the session
        log.warning("storage_failure op=delete cause=%s outcome=not_deleted",
                    type(error).__name__)
        return coach.EffectResult(effect, "failed")
    state[STORED] = None  # the session no longer writes: the record stays deleted
    return coach.EffectResult(effect, "ok")


def render(handler_input: HandlerInput, reply: coach.Reply) -> Response:
    builder = handler_input.response_builder
    if reply.speech:
        builder.speak(reply.speech)
    if reply.reprompt:
        builder.ask(reply.reprompt)
    builder.set_should_end_session(reply.end_session)
    if reply.card is not None:
        if reply.card.ask_permissions:
            builder.set_card(AskForPermissionsConsentCard(list(reply.card.ask_permissions)))
        else:
            builder.set_card(SimpleCard(reply.card.title, reply.card.text))
    if reply.screen is not None:
        directive = display.directive(handler_input.request_envelope, reply.screen)
        if directive is not None:
            builder.add_directive(directive)
    return builder.response


class LaunchHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return run(handler_input, coach.Event("Launch"))


class IntentHandler(AbstractRequestHandler):
    """Every intent, known or not: the coach decides, and answers unknown ones usefully."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        intent = getattr(handler_input.request_envelope.request, "intent", None)
        name = getattr(intent, "name", None) or "AMAZON.FallbackIntent"
        return run(handler_input, coach.Event(name, slot_values(intent)))


class SessionEndedHandler(AbstractRequestHandler):
    """Alexa allows no speech here. The coach still hears of it (a bedtime routine left in its
    last step counts as done); the profile is saved by the response interceptor."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        error = getattr(request, "error", None)
        if error is not None:
            log.warning("session ended with error %s", getattr(error, "object_type", error))
        state = state_of(handler_input)
        ctx = context_for(handler_input, state, now=request_time(handler_input))
        session = coach.Session.from_dict(state.get(COACH))
        profile = Profile.from_dict(state.get(PROFILE))
        coach.respond(coach.Event("SessionEnded"), session, profile, ctx)
        state[PROFILE] = profile.to_dict()
        return handler_input.response_builder.response


class ExceptionEncounteredHandler(AbstractRequestHandler):
    """Alexa reports that our last response failed; it expects no speech back."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("System.ExceptionEncountered")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        error = getattr(handler_input.request_envelope.request, "error", None)
        log.error("Alexa reported an error with our response: %s",
                  getattr(error, "object_type", None))
        return handler_input.response_builder.response


class OtherRequestHandler(AbstractRequestHandler):
    """Request types this skill does not use (display events and the like): a useful prompt."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        log.info("unhandled request type %s",
                 getattr(handler_input.request_envelope.request, "object_type", None))
        return run(handler_input, coach.Event("AMAZON.FallbackIntent"))


SILENT_REQUESTS = ("SessionEndedRequest", "System.ExceptionEncountered")


def apology_ssml(locale: str | None) -> tuple[str, str]:
    say = content.prompts(locale).say
    question = say("error.general_question")
    return f"<speak>{say('error.general')} {question}</speak>", f"<speak>{question}</speak>"


def apology(event: Any) -> dict[str, Any]:
    """A whole response envelope for a request too broken to reach the handlers."""
    request = event.get("request") if isinstance(event, dict) else None
    request = request if isinstance(request, dict) else {}
    if request.get("type") in SILENT_REQUESTS:
        return {"version": "1.0", "response": {}}
    locale = request.get("locale") if isinstance(request.get("locale"), str) else None
    speech, reprompt = apology_ssml(locale)
    return {
        "version": "1.0",
        "response": {
            "outputSpeech": {"type": "SSML", "ssml": speech},
            "reprompt": {"outputSpeech": {"type": "SSML", "ssml": reprompt}},
            "shouldEndSession": False,
        },
    }


class ApologyHandler(AbstractExceptionHandler):
    """Anything that goes wrong still gets a kind answer and an open door, never silence."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.exception("handler failed: %s", type(exception).__name__)
        request = handler_input.request_envelope.request
        if getattr(request, "object_type", None) in SILENT_REQUESTS:
            return handler_input.response_builder.response
        speech, reprompt = apology_ssml(getattr(request, "locale", None))
        return handler_input.response_builder.speak(speech).ask(reprompt).response
