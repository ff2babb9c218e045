"""What crosses the core's boundary: what the person did, where and when, and what to say back.

Plain named tuples: immutable, typed, cheap to import (dataclasses pull in ``inspect``, which
costs the Lambda cold start about 10 ms).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Literal, NamedTuple

#: The Alexa permission a nightly reminder needs; the manifest declares it.
REMINDER_PERMISSION = "alexa::alerts:reminders:skill:readwrite"

_NO_SLOTS: Mapping[str, str] = MappingProxyType({})


class Event(NamedTuple):
    """What the person did: "Launch", an intent name, "SessionEnded"; or "EffectResult", the
    outcome of the work a reply asked the shell for (``result``, from the shell only)."""

    name: str
    slots: Mapping[str, str] = _NO_SLOTS
    result: EffectResult | None = None


class Context(NamedTuple):
    locale: str
    now: datetime  # aware, in the device's time zone
    invocation: str = "bedside back coach"
    reminders_permitted: bool = False


class Card(NamedTuple):
    title: str
    text: str
    ask_permissions: tuple[str, ...] = ()


class ReminderRequest(NamedTuple):
    """Create a recurring reminder at local ``hour``:``minute``, starting today."""

    hour: int
    minute: int
    text: str


class ReminderCancel(NamedTuple):
    token: str


class ForgetProfile(NamedTuple):
    """Delete everything kept about this person, in the store; write nothing back."""


#: Work the shell does with a device API or the store; its outcome comes back as an
#: "EffectResult" event.
Effect = ReminderRequest | ReminderCancel | ForgetProfile


class EffectResult(NamedTuple):
    """How the shell's work went: "ok"; "permission" (the device API wants the person's
    consent first); "failed" (anything else: the API or the store did not answer)."""

    effect: Effect
    outcome: Literal["ok", "permission", "failed"]
    token: str | None = None  # a new reminder's alert token


class StepScreen(NamedTuple):
    """One step as an Echo Show shows it, timed from the start of the reply's speech."""

    # 1-based. It hides tuple.index(), which nothing calls on a screen; the name is the one the
    # screen's APL data uses (and tests/test_display.py builds a StepScreen with it).
    index: int  # type: ignore[assignment]
    total: int
    name: str
    movement: str
    instruction: str
    seconds: int  # one hold
    holds: int
    hold_starts: tuple[float, ...]  # seconds from the start of this step
    offset: float = 0.0  # when this step starts, seconds from the start of the speech


class StepsScreen(NamedTuple):
    routine: str
    title: str
    soft: bool
    steps: tuple[StepScreen, ...]


class AnswerScreen(NamedTuple):
    text: str
    soft: bool = False


Screen = StepsScreen | AnswerScreen


class Reply(NamedTuple):
    """What to say. ``reprompt`` None with ``end_session`` False means: listen once, and let
    silence end the session (a reprompt is optional on Alexa; bedtime leaves it out)."""

    speech: str
    reprompt: str | None = None
    end_session: bool = False
    card: Card | None = None
    screen: Screen | None = None
    effect: Effect | None = None
