"""The skill as ask-sdk assembles it, served the same way by Lambda, the web app and the console.

Memory: the profile is read once, at the first request of a session, into the session
attributes; it is written once, when the session ends, and only if it changed. A store that is
down costs the person their history for that session, never an answer, and never overwrites
what is already saved.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import Response

from skill.alexa import can_fulfill, handlers
from skill.core.profile import Profile

log = logging.getLogger(__name__)

#: Session attribute keys the shell owns (the coach owns the rest).
PROFILE = "profile"
STORED = "stored"  # digest of the profile as loaded, or None when memory is unavailable


def digest(profile: Any) -> str:
    """A fingerprint of the profile, to tell at the session's end whether it changed. CRC-32,
    not SHA-256: this is change detection, not security, and hashlib costs the cold start 3 ms."""
    return format(zlib.crc32(json.dumps(profile, sort_keys=True).encode()), "08x")


class LoadProfile(AbstractRequestInterceptor):
    """One read per session: at its first request, or when the session has no profile yet."""

    def __init__(self, has_store: bool) -> None:
        self.has_store = has_store

    def process(self, handler_input: HandlerInput) -> None:
        if handler_input.request_envelope.request.object_type == can_fulfill.REQUEST_TYPE:
            return  # a query about a request, not a visit: no read, no session attributes
        manager = handler_input.attributes_manager
        try:
            state = manager.session_attributes
        except Exception:  # noqa: BLE001 - no session on this request: nothing to load into
            return
        if PROFILE in state and STORED in state:
            return
        try:
            loaded = manager.persistent_attributes if self.has_store else {}
        except Exception as error:  # noqa: BLE001 - any store failure means "answer without memory"
            log.warning("profile store unavailable: %s", type(error).__name__)
            state[PROFILE], state[STORED] = {}, None
            return
        raw = loaded.get(PROFILE, {}) if isinstance(loaded, dict) else {}
        # Normalised through the schema: DynamoDB hands 1.0 back as 1, and an unchanged profile
        # must digest the same when the session ends, or every session would write.
        state[PROFILE] = Profile.from_dict(raw).to_dict()
        state[STORED] = digest(state[PROFILE])


class SaveProfile(AbstractResponseInterceptor):
    """One write per session: when it ends, if the profile changed and memory was available."""

    def __init__(self, has_store: bool) -> None:
        self.has_store = has_store

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        manager = handler_input.attributes_manager
        request_type = handler_input.request_envelope.request.object_type
        ending = request_type == "SessionEndedRequest" or (
            response is not None and response.should_end_session is True
        )
        if not ending or not self.has_store:
            return
        try:
            state = manager.session_attributes
        except Exception:  # noqa: BLE001 - no session: nothing to save
            return
        profile = state.get(PROFILE)
        if state.get(STORED) is None or not isinstance(profile, dict):
            return
        if digest(profile) == state[STORED]:
            return
        try:
            manager.persistent_attributes = {PROFILE: profile}
            manager.save_persistent_attributes()
            state[STORED] = digest(profile)
        except Exception as error:  # noqa: BLE001 - the answer matters more than the write
            log.warning("profile not saved: %s", type(error).__name__)


def default_adapter() -> AbstractPersistenceAdapter | None:
    from skill.alexa import storage

    try:
        return storage.adapter_from_env()
    except storage.StorageUnavailable as error:
        log.warning("running without memory: %s", error)
        return None


def build_skill(
    persistence: AbstractPersistenceAdapter | None = None,
    *,
    skill_id: str | None = None,
    use_default_store: bool = True,
) -> CustomSkill:
    """The skill. ``persistence`` overrides the store chosen from the environment."""
    if persistence is None and use_default_store:
        persistence = default_adapter()
    builder = CustomSkillBuilder(persistence_adapter=persistence)
    builder.skill_id = skill_id if skill_id is not None else (os.environ.get("SKILL_ID") or None)
    for handler in (
        can_fulfill.CanFulfillHandler(),
        handlers.LaunchHandler(),
        handlers.IntentHandler(),
        handlers.SessionEndedHandler(),
        handlers.ExceptionEncounteredHandler(),
        handlers.OtherRequestHandler(),
    ):
        builder.add_request_handler(handler)
    builder.add_exception_handler(handlers.ApologyHandler())
    builder.add_global_request_interceptor(LoadProfile(persistence is not None))
    builder.add_global_response_interceptor(SaveProfile(persistence is not None))
    return builder.create()


_skill: CustomSkill | None = None


def skill() -> CustomSkill:
    global _skill
    if _skill is None:
        _skill = build_skill()
    return _skill


def invoke(current: CustomSkill, event: Any, context: Any = None) -> dict[str, Any]:
    """Run one request envelope (a dict) through a skill and return the response dict.

    A request for another skill is refused by raising; anything else that goes wrong before
    the handlers run (a malformed envelope) still gets a spoken apology back.
    """
    from ask_sdk_model import RequestEnvelope

    serializer = current.serializer
    try:
        envelope = serializer.deserialize(json.dumps(event), RequestEnvelope)
        if envelope is None or envelope.request is None:
            raise ValueError("no request in the envelope")
        response = current.invoke(request_envelope=envelope, context=context)
    except AskSdkException as error:
        if "Skill ID Verification" in str(error):
            raise
        log.warning("unusable request: %s", type(error).__name__)
        return handlers.apology(event)
    except Exception as error:  # noqa: BLE001 - malformed envelopes must still be answered
        log.warning("unusable request: %s", type(error).__name__)
        return handlers.apology(event)
    return serializer.serialize(response)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point."""
    return invoke(skill(), event, context)
