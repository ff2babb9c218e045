"""Request envelopes as Alexa sends them: one builder for `make chat`, the tests and the bench.

    request = intent_request(language_model("en-US"), "StartRoutineIntent", {"routine": "quick"})
    event = envelope(request, Caller(session_id="amzn1.echo-api.session.1", new=True))

The request parts (``launch_request``, ``intent_request``, ``session_ended_request``,
``can_fulfill_request``) are wrapped by ``envelope`` with the session and the context:
application, user, device and the device-API endpoint. Slots are sent the way Alexa sends them:
every slot the intent declares, a custom type's value with its entity resolution (the value's id
on a match, ER_SUCCESS_NO_MATCH otherwise), and an empty slot with only its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.resolver import spoken

#: A skill ID of the right shape, for envelopes that need one.
TEST_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000c0de"


@dataclass
class Caller:
    """Who is speaking, on which device, in which session, and when."""

    session_id: str | None = None
    new: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)
    user_id: str = "amzn1.ask.account.TESTUSER"
    device_id: str = "amzn1.ask.device.TESTDEVICE"
    skill_id: str = TEST_SKILL_ID
    #: the device APIs' base URL and token; None leaves them out (virtual-alexa does that)
    api_endpoint: str | None = None
    api_token: str | None = None
    supported_interfaces: dict[str, Any] = field(default_factory=dict)


def envelope(request: dict[str, Any], caller: Caller, *, request_id: str, timestamp: str,
             locale: str = "en-US") -> dict[str, Any]:
    """A whole request envelope: ``request`` (from the functions below) with the session and
    the context. ``timestamp`` is ISO 8601 UTC ("2026-03-02T07:00:00Z"). A request without a
    session (``caller.session_id`` None) has no session object, as Alexa sends some
    CanFulfillIntentRequests."""
    application = {"applicationId": caller.skill_id}
    user = {"userId": caller.user_id}
    system: dict[str, Any] = {
        "application": application,
        "user": user,
        "device": {"deviceId": caller.device_id,
                   "supportedInterfaces": json.loads(json.dumps(caller.supported_interfaces))},
    }
    if caller.api_endpoint is not None:
        system["apiEndpoint"] = caller.api_endpoint
    if caller.api_token is not None:
        system["apiAccessToken"] = caller.api_token
    event: dict[str, Any] = {"version": "1.0"}
    if caller.session_id is not None:
        event["session"] = {
            "new": caller.new,
            "sessionId": caller.session_id,
            "application": application,
            # A copy through JSON: what travels is text, never the caller's own objects.
            "attributes": json.loads(json.dumps(caller.attributes)),
            "user": user,
        }
    event["context"] = {"System": system}
    event["request"] = {"requestId": request_id, "timestamp": timestamp, "locale": locale,
                        **request}
    return event


def launch_request() -> dict[str, Any]:
    """ "Alexa, open <name>"."""
    return {"type": "LaunchRequest"}


def intent_request(language_model: Mapping[str, Any] | None, name: str,
                   values: Mapping[str, str] | None = None, *,
                   dialog_state: str | None = "COMPLETED", skill_id: str = TEST_SKILL_ID
                   ) -> dict[str, Any]:
    """An IntentRequest for ``name`` with these slot values (as Alexa sends them: AMAZON.TIME as
    "HH:MM"). With the model, every declared slot is sent and custom types are resolved."""
    request: dict[str, Any] = {"type": "IntentRequest", "intent": {
        "name": name, "confirmationStatus": "NONE",
        "slots": slots(language_model, name, values or {}, skill_id)}}
    if dialog_state is not None:
        request["dialogState"] = dialog_state
    return request


def can_fulfill_request(language_model: Mapping[str, Any] | None, name: str,
                        values: Mapping[str, str] | None = None, *,
                        skill_id: str = TEST_SKILL_ID) -> dict[str, Any]:
    """What Alexa asks before routing a request said without the skill's name to it: can you
    fulfil ``name`` with these slots? (No dialogState, no confirmation status.)"""
    request = intent_request(language_model, name, values, dialog_state=None, skill_id=skill_id)
    request["type"] = "CanFulfillIntentRequest"
    del request["intent"]["confirmationStatus"]
    return request


def session_ended_request(reason: str = "USER_INITIATED",
                          error: Mapping[str, Any] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"type": "SessionEndedRequest", "reason": reason}
    if error:
        request["error"] = dict(error)
    return request


def slots(language_model: Mapping[str, Any] | None, intent_name: str,
          values: Mapping[str, str], skill_id: str = TEST_SKILL_ID) -> dict[str, Any]:
    """Every slot of the intent, as Alexa sends them: custom types with entity resolutions.
    Names the model does not declare are sent too (hostile tests use them)."""
    declared: dict[str, str] = {}
    types: dict[str, Any] = {}
    if language_model is not None:
        types = {t["name"]: t for t in language_model.get("types") or []}
        for intent in language_model.get("intents") or []:
            if intent["name"] == intent_name:
                declared = {s["name"]: s["type"] for s in intent.get("slots") or []}
    names = dict(declared)
    names.update({k: "" for k in values if k not in names})
    found: dict[str, Any] = {}
    for name, slot_type in names.items():
        slot: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
        value = values.get(name)
        if value is not None:
            slot["value"] = value
            if slot_type in types:
                slot["resolutions"] = resolutions(types[slot_type], value, skill_id)
        found[name] = slot
    return found


def resolutions(slot_type: Mapping[str, Any], value: str, skill_id: str = TEST_SKILL_ID
                ) -> dict[str, Any]:
    """Entity resolution of a custom slot value, as Alexa reports it."""
    authority = f"amzn1.er-authority.echo-sdk.{skill_id}.{slot_type['name']}"
    said = spoken(value)
    for entry in slot_type.get("values") or []:
        words = [entry["name"]["value"], *entry["name"].get("synonyms", [])]
        if said in (spoken(w) for w in words):
            match = {"value": {"name": entry["name"]["value"], "id": entry["id"]}}
            return {"resolutionsPerAuthority": [
                {"authority": authority, "status": {"code": "ER_SUCCESS_MATCH"},
                 "values": [match]}]}
    return {"resolutionsPerAuthority": [
        {"authority": authority, "status": {"code": "ER_SUCCESS_NO_MATCH"}}]}
