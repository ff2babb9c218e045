"""Request envelopes for the benchmarks: a launch and a mid-routine "next"."""

from __future__ import annotations

import copy
from typing import Any

_BASE: dict[str, Any] = {
    "version": "1.0",
    "session": {
        "new": True,
        "sessionId": "amzn1.echo-api.session.bench",
        "application": {"applicationId": "amzn1.ask.skill.bench"},
        "user": {"userId": "amzn1.ask.account.bench"},
        "attributes": {},
    },
    "context": {
        "System": {
            "application": {"applicationId": "amzn1.ask.skill.bench"},
            "user": {"userId": "amzn1.ask.account.bench"},
            "device": {"deviceId": "bench-device", "supportedInterfaces": {}},
        }
    },
    "request": {
        "type": "LaunchRequest",
        "requestId": "amzn1.echo-api.request.bench",
        "timestamp": "2026-11-25T07:00:00Z",
        "locale": "en-US",
    },
}


def launch() -> dict[str, Any]:
    return copy.deepcopy(_BASE)


def intent(name: str, attributes: dict[str, Any], slots: dict[str, str] | None = None
           ) -> dict[str, Any]:
    event = copy.deepcopy(_BASE)
    event["session"]["new"] = False
    event["session"]["attributes"] = copy.deepcopy(attributes)
    event["request"] = {
        "type": "IntentRequest",
        "requestId": "amzn1.echo-api.request.bench",
        "timestamp": "2026-11-25T07:00:00Z",
        "locale": "en-US",
        "intent": {"name": name, "confirmationStatus": "NONE",
                   "slots": {k: {"name": k, "value": v} for k, v in (slots or {}).items()}},
    }
    return event
