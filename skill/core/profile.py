"""What the coach remembers about a person between sessions, as a plain versioned record.

The record is stored as JSON (DynamoDB or SQLite). Reading never raises: a record of an unknown
version starts afresh, and any field that is missing or corrupt falls back to its default alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from skill.core import pacing, routine

SCHEMA_VERSION = 1
#: How long an unfinished routine is offered for resuming.
RESUME_WITHIN = timedelta(hours=12)
#: How many days of history are kept: enough for streaks and a weekly summary.
HISTORY_DAYS = 120


class Prefs:
    """How a person likes their routine. (Plain classes, not dataclasses: importing dataclasses
    costs the Lambda cold start about 10 ms.)"""

    __slots__ = ("counting", "hold_scale", "length", "soft_voice")

    def __init__(self, counting: str = "auto", hold_scale: float = 1.0, length: str = "full",
                 soft_voice: bool = False) -> None:
        self.counting = counting
        self.hold_scale = hold_scale
        self.length = length
        self.soft_voice = soft_voice


class Profile:
    __slots__ = ("disclaimer_heard", "prefs", "unfinished", "history", "reminder", "familiar")

    def __init__(self) -> None:
        self.disclaimer_heard = False
        self.prefs = Prefs()
        #: {"routine": id, "step": index, "saved_at": ISO time in UTC}
        self.unfinished: dict[str, Any] | None = None
        #: local ISO date -> routine ids completed that day
        self.history: dict[str, list[str]] = {}
        #: alert token of the nightly reminder
        self.reminder: str | None = None
        #: movement id -> [days it was done, the last of those days (local ISO date)]
        self.familiar: dict[str, list[Any]] = {}

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict, which deep-copies: this runs every turn.
        return {
            "version": SCHEMA_VERSION,
            "disclaimer_heard": self.disclaimer_heard,
            "prefs": {"counting": self.prefs.counting, "hold_scale": self.prefs.hold_scale,
                      "length": self.prefs.length, "soft_voice": self.prefs.soft_voice},
            "unfinished": dict(self.unfinished) if self.unfinished else None,
            "history": {day: list(done) for day, done in self.history.items()},
            "reminder": self.reminder,
            "familiar": {m: list(v) for m, v in self.familiar.items()},
        }

    @classmethod
    def from_dict(cls, raw: Any) -> Profile:
        if not isinstance(raw, dict) or raw.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            # Not a record this release can read (corrupt, or written by a newer schema):
            # start afresh rather than guess. A future layout change adds its migration here.
            return cls()
        profile = cls()
        profile.disclaimer_heard = raw.get("disclaimer_heard") is True
        prefs = raw.get("prefs") if isinstance(raw.get("prefs"), dict) else {}
        if prefs.get("counting") in pacing.STYLES:
            profile.prefs.counting = prefs["counting"]
        scale = prefs.get("hold_scale")
        if isinstance(scale, int | float) and routine.MIN_SCALE <= scale <= routine.MAX_SCALE:
            profile.prefs.hold_scale = float(scale)
        if prefs.get("length") in ("full", "quick"):
            profile.prefs.length = prefs["length"]
        profile.prefs.soft_voice = prefs.get("soft_voice") is True
        profile.unfinished = _valid_unfinished(raw.get("unfinished"))
        history = raw.get("history")
        if isinstance(history, dict):
            profile.history = {
                day: [r for r in done if isinstance(r, str)]
                for day, done in history.items()
                if _is_date(day) and isinstance(done, list)
            }
        if isinstance(raw.get("reminder"), str):
            profile.reminder = raw["reminder"]
        familiar = raw.get("familiar")
        if isinstance(familiar, dict):
            profile.familiar = {
                m: [v[0], v[1]] for m, v in familiar.items()
                if isinstance(m, str) and isinstance(v, list) and len(v) == 2
                and isinstance(v[0], int) and not isinstance(v[0], bool) and _is_date(v[1])
            }
        return profile

    def record_completion(self, routine_id: str, today: date) -> None:
        self.history.setdefault(today.isoformat(), []).append(routine_id)
        self.unfinished = None
        cutoff = (today - timedelta(days=HISTORY_DAYS)).isoformat()
        self.history = {day: done for day, done in self.history.items() if day >= cutoff}

    def note_done(self, movement: str, today: date) -> None:
        """Count the days a movement was done, once per day: familiar ones get a short cue."""
        days, last = self.familiar.get(movement, [0, ""])
        if last != today.isoformat():
            self.familiar[movement] = [days + 1, today.isoformat()]

    def days_done(self, movement: str, today: date) -> int:
        """On how many days before today the person did this movement."""
        days, last = self.familiar.get(movement, [0, ""])
        return days - 1 if last == today.isoformat() else days

    def save_progress(self, routine_id: str, step: int, now_utc: datetime) -> None:
        self.unfinished = {"routine": routine_id, "step": step, "saved_at": now_utc.isoformat()}

    def resume_offer(self, now_utc: datetime) -> dict[str, Any] | None:
        """The unfinished routine, if it was left off recently enough to pick up again."""
        if not self.unfinished:
            return None
        saved = datetime.fromisoformat(self.unfinished["saved_at"])
        if timedelta(0) <= now_utc - saved <= RESUME_WITHIN:
            return self.unfinished
        return None

    def streak(self, kind: str, today: date) -> int:
        """Days in a row, ending today, with a completed routine of this kind."""
        kinds = {r: routine.get(r).kind for r in routine.ids()}
        count = 0
        day = today
        while any(kinds.get(r) == kind for r in self.history.get(day.isoformat(), [])):
            count += 1
            day -= timedelta(days=1)
        return count

    def day_streak(self, today: date) -> int:
        """Days in a row with any routine, ending today or yesterday."""
        day = today if self.history.get(today.isoformat()) else today - timedelta(days=1)
        count = 0
        while self.history.get(day.isoformat()):
            count += 1
            day -= timedelta(days=1)
        return count

    def completed_since(self, first_day: date) -> int:
        return sum(len(done) for day, done in self.history.items() if day >= first_day.isoformat())


def _is_date(text: Any) -> bool:
    try:
        date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return True


def _valid_unfinished(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("routine") not in routine.ids():
        return None
    step = value.get("step")
    if not isinstance(step, int) or not 0 <= step < len(routine.get(value["routine"]).steps):
        return None
    try:
        saved = datetime.fromisoformat(value["saved_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if saved.tzinfo is None:
        return None
    return {"routine": value["routine"], "step": step, "saved_at": saved.isoformat()}
