"""What the coach needs to know about the device: its local time, locale and permissions."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ask_sdk_core.handler_input import HandlerInput

from skill.alexa import reminders
from skill.core import content
from skill.core.conversation import Context

if TYPE_CHECKING:
    from ask_sdk_model.interfaces.system.system_state import SystemState

#: Where the Settings API cannot be reached, a zone typical for the locale is the best guess.
LOCALE_ZONES = {
    "en-US": "America/New_York",
    "en-GB": "Europe/London",
    "en-CA": "America/Toronto",
    "en-AU": "Australia/Sydney",
    "en-IN": "Asia/Kolkata",
}


def zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def system_of(handler_input: HandlerInput) -> SystemState | None:
    """The request's ``context.System`` (the device, the user, the device APIs), if it has one:
    Alexa always sends it, a malformed request may not."""
    context = handler_input.request_envelope.context
    return context.system if context is not None else None


def time_zone_name(handler_input: HandlerInput, state: dict[str, Any], locale: str) -> str:
    """The device's zone, asked once per session (the Settings API call has a short timeout)."""
    cached = state.get("tz")
    if isinstance(cached, str) and zone(cached):
        return cached
    system = system_of(handler_input)
    found = None
    if system is not None:
        device_id = getattr(system.device, "device_id", None) if system.device else None
        found = reminders.time_zone(system.api_endpoint, system.api_access_token, device_id)
    for name in (found, os.environ.get("SKILL_TIME_ZONE"), LOCALE_ZONES.get(locale), "UTC"):
        if name and zone(name):
            state["tz"] = name
            return name
    return "UTC"


def context_for(handler_input: HandlerInput, state: dict[str, Any], now: datetime | None = None
                ) -> Context:
    envelope = handler_input.request_envelope
    locale = getattr(envelope.request, "locale", None) or content.DEFAULT_LOCALE
    tz = zone(time_zone_name(handler_input, state, locale)) or UTC
    system = system_of(handler_input)
    user = system.user if system is not None else None
    permissions = getattr(user, "permissions", None) if user is not None else None
    return Context(
        locale=locale,
        now=(now or datetime.now(UTC)).astimezone(tz),
        invocation=content.invocation_name(locale),
        reminders_permitted=bool(permissions and permissions.consent_token),
    )


def slot_values(intent: Any) -> dict[str, str]:
    """Slot values as the coach wants them: the resolved id of a custom value, else the words."""
    values: dict[str, str] = {}
    for name, slot in (getattr(intent, "slots", None) or {}).items():
        value = getattr(slot, "value", None)
        resolved = None
        try:
            for authority in slot.resolutions.resolutions_per_authority:
                if authority.status.code.value == "ER_SUCCESS_MATCH" and authority.values:
                    resolved = authority.values[0].value.id
                    break
        except (AttributeError, TypeError):
            pass
        if resolved is None and isinstance(value, str):
            resolved = content.slot_value_id(name, value)
        if resolved:
            values[name] = resolved
    return values
