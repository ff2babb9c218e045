"""The conversation's state within one session, typed, and how it travels in session attributes.

Alexa carries session attributes between the turns of a session; the shell stores this state
under its own key ("coach") beside its keys (the profile, the time zone, the store digest), so
the core never reads or writes the shell's keys. Reading never raises: whatever a malformed or
hostile request sends back, each field falls back to its default alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

MODES = ("guided", "continuous")

_NO_COUNTS: Mapping[str, int] = MappingProxyType({})


class Pending(NamedTuple):
    """The open question: which offer (see :mod:`offers`) and its argument, such as the
    routine offered ("morning"), the step it is about ("3") or a time ("22:00")."""

    offer: str
    arg: str = ""


class Spoken(NamedTuple):
    """When the last reply began to be spoken and where each of its steps started in it, so
    that a barge-in ("Alexa, pause") can tell which step it interrupted."""

    at: float  # request time, seconds since the epoch
    seconds: float  # estimated length of the whole speech
    steps: tuple[tuple[int, float], ...] = ()  # (step index, offset in seconds)


class ReplaySteps(NamedTuple):
    """What "repeat" says after steps: step ``step`` rendered again with the wording counts it
    was first said with (``said``), so that it is the same words. Steps are rendered again
    rather than stored: session attributes travel with every request and response, and a step's
    speech is thousands of characters."""

    step: int  # 0-based
    easier: bool = False
    full: bool = False
    said: Mapping[str, int] = _NO_COUNTS


class ReplaySpeech(NamedTuple):
    """What "repeat" says after a short reply: that reply, verbatim."""

    speech: str
    reprompt: str | None = None


Replay = ReplaySteps | ReplaySpeech


class Undo(NamedTuple):
    """What "keep it as it was" puts back: the profile's fields as they were before a change
    (None: a field the change left alone)."""

    levels: dict[str, int] | None = None
    level_since: dict[str, str] | None = None
    easier: dict[str, list[str]] | None = None
    body: list[str] | None = None


class Session:
    """Everything the coach keeps between the turns of one session. (A plain class, not a
    dataclass: see records.py on import cost.)"""

    __slots__ = ("routine", "step", "mode", "pending", "repeat", "answer", "answered", "misses",
                 "hurts", "spoken", "said", "waiting", "easier", "gentlest", "pain", "body",
                 "undo")

    def __init__(self) -> None:
        #: the routine under way and the step last spoken (0-based)
        self.routine: str | None = None
        self.step = 0
        self.mode = "guided"
        self.pending: Pending | None = None
        #: what "repeat" says again: a step, or the last short reply verbatim
        self.repeat: Replay | None = None
        #: the answer "tell me more" expands, and whether any question was answered
        self.answer: str | None = None
        self.answered = False
        #: misunderstandings in a row, and "that hurts" so far this session
        self.misses = 0
        self.hurts = 0
        self.spoken: Spoken | None = None
        #: how often each prompt was said this session (to vary lines repeated within it)
        self.said: dict[str, int] = {}
        #: a reminder time waiting for the device API's answer
        self.waiting: str | None = None
        #: movements the person asked to make easier this session
        self.easier: list[str] = []
        #: today's routine is its gentlest version (the back is bad today)
        self.gentlest = False
        #: the pain check-in's rating before the routine, zero to ten (kept for this session
        #: only, never stored: docs/privacy.md)
        self.pain: int | None = None
        #: the body check's answers so far, as variant ids
        self.body: list[str] | None = None
        #: what "keep it as it was" puts back: the profile fields as they were before a change
        self.undo: Undo | None = None

    # -- the wire -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.step, "mode": self.mode}
        if self.routine:
            out["routine"] = self.routine
        if self.pending:
            out["pending"] = list(self.pending)
        if isinstance(self.repeat, ReplaySteps):
            out["repeat"] = {**self.repeat._asdict(), "said": dict(self.repeat.said)}
        elif self.repeat is not None:
            out["repeat"] = self.repeat._asdict()
        if self.answer:
            out["answer"] = self.answer
        if self.answered:
            out["answered"] = True
        if self.misses:
            out["misses"] = self.misses
        if self.hurts:
            out["hurts"] = self.hurts
        if self.spoken:
            out["spoken"] = [self.spoken.at, self.spoken.seconds,
                             [list(s) for s in self.spoken.steps]]
        if self.said:
            out["said"] = dict(self.said)
        if self.waiting:
            out["waiting"] = self.waiting
        if self.easier:
            out["easier"] = list(self.easier)
        if self.gentlest:
            out["gentlest"] = True
        if self.pain is not None:
            out["pain"] = self.pain
        if self.body is not None:
            out["body"] = list(self.body)
        if self.undo is not None:
            out["undo"] = {k: v for k, v in self.undo._asdict().items() if v is not None}
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Session:
        s = cls()
        if not isinstance(raw, dict):
            return s
        if isinstance(raw.get("routine"), str):
            s.routine = raw["routine"]
        s.step = _int(raw.get("step"), 0, 0, 99)
        s.mode = raw["mode"] if raw.get("mode") in MODES else "guided"
        pending = raw.get("pending")
        if (isinstance(pending, list) and len(pending) == 2
                and all(isinstance(p, str) for p in pending)):
            s.pending = Pending(pending[0], pending[1])
        s.repeat = _replay(raw.get("repeat"))
        if isinstance(raw.get("answer"), str):
            s.answer = raw["answer"]
        s.answered = raw.get("answered") is True
        s.misses = _int(raw.get("misses"), 0, 0, 99)
        s.hurts = _int(raw.get("hurts"), 0, 0, 99)
        s.spoken = _spoken(raw.get("spoken"))
        said = raw.get("said")
        if isinstance(said, dict):
            s.said = {k: v for k, v in said.items() if isinstance(k, str) and isinstance(v, int)}
        if isinstance(raw.get("waiting"), str):
            s.waiting = raw["waiting"]
        easier = raw.get("easier")
        if isinstance(easier, list):
            s.easier = [m for m in easier if isinstance(m, str)]
        s.gentlest = raw.get("gentlest") is True
        pain = raw.get("pain")
        s.pain = pain if type(pain) is int and 0 <= pain <= 10 else None
        body = raw.get("body")
        if isinstance(body, list):
            s.body = [v for v in body if isinstance(v, str)]
        s.undo = _undo(raw.get("undo"))
        return s


def _int(value: Any, default: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value if low <= value <= high else default


def _spoken(value: Any) -> Spoken | None:
    try:
        at, seconds, steps = value
        pairs = tuple((int(i), float(o)) for i, o in steps)
        return Spoken(float(at), float(seconds), pairs)
    except (TypeError, ValueError):
        return None


def _said(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and type(v) is int}


def _replay(value: Any) -> Replay | None:
    if not isinstance(value, dict):
        return None
    step = value.get("step")
    if type(step) is int:
        return ReplaySteps(step, value.get("easier") is True, value.get("full") is True,
                           _said(value.get("said")))
    speech, again = value.get("speech"), value.get("reprompt")
    if isinstance(speech, str):
        return ReplaySpeech(speech, again if isinstance(again, str) else None)
    return None


def _strings(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return list(value)


def _undo(value: Any) -> Undo | None:
    """Each field as the coach wrote it, or None: a field put back wrong would be stored."""
    if not isinstance(value, dict):
        return None
    levels, since, easier = value.get("levels"), value.get("level_since"), value.get("easier")
    undo = Undo(
        levels=({k: n for k, n in levels.items() if type(n) is int}
                if isinstance(levels, dict) else None),
        level_since=({k: d for k, d in since.items() if isinstance(d, str)}
                     if isinstance(since, dict) else None),
        easier=({k: m for k, v in easier.items() if (m := _strings(v)) is not None}
                if isinstance(easier, dict) else None),
        body=_strings(value.get("body")),
    )
    return None if undo == Undo() else undo
