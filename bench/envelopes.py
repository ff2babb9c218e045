"""Request envelopes for the benchmarks: a launch and a mid-routine "next", from the one builder
(tools/envelopes.py) with fixed ids and a fixed clock, so every run sends the same bytes."""

from __future__ import annotations

from typing import Any

from tools import envelopes

_CALLER = {"user_id": "amzn1.ask.account.bench", "device_id": "bench-device",
           "skill_id": "amzn1.ask.skill.bench"}
#: 07:00 in New York (en-US's default zone when the device has not said its own): a morning, so
#: "next" is a step inside the morning routine. (07:00Z was 2 a.m. there: a bedtime routine whose
#: continuous run finished, and wrote, on every "next".)
_STAMP = {"request_id": "amzn1.echo-api.request.bench", "timestamp": "2026-11-25T12:00:00Z"}
SESSION = "amzn1.echo-api.session.bench"


def launch() -> dict[str, Any]:
    caller = envelopes.Caller(session_id=SESSION, new=True, **_CALLER)
    return envelopes.envelope(envelopes.launch_request(), caller, **_STAMP)


def intent(name: str, attributes: dict[str, Any], slots: dict[str, str] | None = None
           ) -> dict[str, Any]:
    """An IntentRequest in the open session whose attributes are ``attributes`` (slots as given,
    without resolutions: the bench measures the skill, not entity resolution)."""
    caller = envelopes.Caller(session_id=SESSION, new=False, attributes=attributes, **_CALLER)
    request = envelopes.intent_request(None, name, slots or {}, dialog_state=None)
    return envelopes.envelope(request, caller, **_STAMP)
