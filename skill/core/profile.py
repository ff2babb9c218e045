"""What the coach remembers about a person between sessions, as a plain versioned record.

The record is stored as JSON (DynamoDB or SQLite). Reading never raises: a record of an older
version starts afresh, and any field that is missing or corrupt falls back to its default alone.
A field this release does not know (one a newer release added) is kept as it is, so a write from
here does not drop it. A record from a newer schema is read as far as it can be; the shell keeps
it read-only (see `is_newer`).

Bounds, so that no client, however scripted, can grow a record past Alexa's 120 KB response (the
session carries the profile twice: as it is and as it was read) or DynamoDB's 400 KB item:

* at most `MAX_COMPLETIONS_PER_DAY` completions are recorded per local day (more are still
  congratulated, only not counted);
* history keeps the days within `HISTORY_DAYS` of the latest completion, and never more than
  `HISTORY_DAYS + 1` days whatever their dates;
* a record whose JSON is over `MAX_RECORD_BYTES` is not loaded for writing (the shell answers
  from it read-only): our own fields stay far below it (about 12 KB at most).

Two sessions of one person (two Echos) can change the record at once. `merge` reconciles them
field by field, three-way (the record as this session read it, as this session leaves it, and as
it is stored now), by the rules in `MERGE_RULES`: the one place a new field declares how it
merges.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from skill.core import pacing, routine

SCHEMA_VERSION = 1
#: How long an unfinished routine is offered for resuming.
RESUME_WITHIN = timedelta(hours=12)
#: How many days of history are kept: enough for streaks and a weekly summary.
HISTORY_DAYS = 120
#: A morning, a bedtime and a few quick ones is a full day; a scripted client gets no further.
MAX_COMPLETIONS_PER_DAY = 8
#: The largest record (its JSON, UTF-8) a session loads for writing; see the module notes.
MAX_RECORD_BYTES = 32 * 1024

_KNOWN = frozenset({"version", "disclaimer_heard", "prefs", "unfinished", "history", "reminder",
                    "familiar", "body", "body_asked", "levels", "level_since", "easier"})
_KNOWN_PREFS = frozenset({"counting", "hold_scale", "length", "soft_voice"})


class Unfinished(NamedTuple):
    """A routine left part-way: stored as ``{"routine", "step", "saved_at"}``."""

    routine: str
    step: int  # the step to pick up at, 0-based
    saved_at: str  # ISO time in UTC


class Practice(NamedTuple):
    """How well a movement is known: stored as ``[days, last]``."""

    days: int  # days it was done
    last: str  # the last of those days (local ISO date)


_NEVER = Practice(0, "")


class Prefs:
    """How a person likes their routine. (Plain classes, not dataclasses: importing dataclasses
    costs the Lambda cold start about 10 ms.)"""

    __slots__ = ("counting", "hold_scale", "length", "soft_voice", "extras")

    def __init__(self, counting: str = "auto", hold_scale: float = 1.0, length: str = "full",
                 soft_voice: bool = False) -> None:
        self.counting = counting
        self.hold_scale = hold_scale
        self.length = length
        self.soft_voice = soft_voice
        #: preferences a newer release added, kept verbatim
        self.extras: dict[str, Any] = {}


class Profile:
    __slots__ = ("disclaimer_heard", "prefs", "unfinished", "history", "reminder", "familiar",
                 "body", "body_asked", "levels", "level_since", "easier", "extras")

    def __init__(self) -> None:
        self.disclaimer_heard = False
        self.prefs = Prefs()
        self.unfinished: Unfinished | None = None
        #: local ISO date -> routine ids completed that day
        self.history: dict[str, list[str]] = {}
        #: alert token of the nightly reminder
        self.reminder: str | None = None
        #: movement id -> how often it was done
        self.familiar: dict[str, Practice] = {}
        #: routine variant ids the person chose in the body check (never the condition behind
        #: them: docs/privacy.md), and the local date the check was last offered
        self.body: list[str] = []
        self.body_asked: str | None = None
        #: routine id -> progression level, and the local date that level (or its count) began
        self.levels: dict[str, int] = {}
        self.level_since: dict[str, str] = {}
        #: routine id -> movement ids spoken in their easier version (found too much before)
        self.easier: dict[str, list[str]] = {}
        #: top-level fields a newer release added, kept verbatim
        self.extras: dict[str, Any] = {}

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict, which deep-copies: this runs every turn.
        # Extras first, so that a known field always has the last word.
        return {
            **self.extras,
            "version": SCHEMA_VERSION,
            "disclaimer_heard": self.disclaimer_heard,
            "prefs": {**self.prefs.extras,
                      "counting": self.prefs.counting, "hold_scale": self.prefs.hold_scale,
                      "length": self.prefs.length, "soft_voice": self.prefs.soft_voice},
            "unfinished": self.unfinished._asdict() if self.unfinished else None,
            "history": {day: list(done) for day, done in self.history.items()},
            "reminder": self.reminder,
            "familiar": {m: list(v) for m, v in self.familiar.items()},
            "body": list(self.body),
            "body_asked": self.body_asked,
            "levels": dict(self.levels),
            "level_since": dict(self.level_since),
            "easier": {r: list(m) for r, m in self.easier.items()},
        }

    @classmethod
    def from_dict(cls, raw: Any, *, keep_unknown: bool = True) -> Profile:
        """The profile in `raw`, field by field; a fresh one if `raw` is no record of ours.

        A record from a newer schema is read as far as its fields look like ours (the shell
        never writes it back); ``keep_unknown=False`` leaves out the fields this release does
        not know, for a read-only session that has no use for them.
        """
        version = raw.get("version", SCHEMA_VERSION) if isinstance(raw, dict) else None
        if not (version == SCHEMA_VERSION or is_newer(raw)):
            # Not a record this release can read (corrupt, or an older layout): start afresh
            # rather than guess. A future layout change adds its migration here.
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
        profile.history = _valid_history(raw.get("history"))
        if isinstance(raw.get("reminder"), str):
            profile.reminder = raw["reminder"]
        familiar = raw.get("familiar")
        if isinstance(familiar, dict):
            profile.familiar = {
                m: Practice(v[0], v[1]) for m, v in familiar.items()
                if isinstance(m, str) and isinstance(v, list) and len(v) == 2
                and isinstance(v[0], int) and not isinstance(v[0], bool) and _is_date(v[1])
            }
        body = raw.get("body")
        if isinstance(body, list):
            profile.body = sorted(routine.known_variants(v for v in body if isinstance(v, str)))
        if _is_date(raw.get("body_asked")):
            profile.body_asked = raw["body_asked"]
        levels = raw.get("levels")
        if isinstance(levels, dict):
            profile.levels = {
                r: n for r, n in levels.items() if r in routine.ids() and type(n) is int
                and 0 <= n <= routine.max_level(r)}
        since = raw.get("level_since")
        if isinstance(since, dict):
            profile.level_since = {r: d for r, d in since.items()
                                   if r in routine.ids() and _is_date(d)}
        easier = raw.get("easier")
        if isinstance(easier, dict):
            profile.easier = {r: sorted({m for m in moves if isinstance(m, str)})
                              for r, moves in easier.items()
                              if r in routine.ids() and isinstance(moves, list)}
        if keep_unknown and version == SCHEMA_VERSION:
            profile.extras = {k: v for k, v in raw.items() if k not in _KNOWN and _plain(v)}
            profile.prefs.extras = {k: v for k, v in prefs.items()
                                    if k not in _KNOWN_PREFS and _plain(v)}
        return profile

    def record_completion(self, routine_id: str, today: date) -> None:
        done = self.history.setdefault(today.isoformat(), [])
        if len(done) < MAX_COMPLETIONS_PER_DAY:
            done.append(routine_id)
        self.unfinished = None
        cutoff = (today - timedelta(days=HISTORY_DAYS)).isoformat()
        self.history = {day: done for day, done in self.history.items() if day >= cutoff}

    def note_done(self, movement: str, today: date) -> None:
        """Count the days a movement was done, once per day: familiar ones get a short cue."""
        days, last = self.familiar.get(movement, _NEVER)
        if last != today.isoformat():
            self.familiar[movement] = Practice(days + 1, today.isoformat())

    def days_done(self, movement: str, today: date) -> int:
        """On how many days before today the person did this movement."""
        days, last = self.familiar.get(movement, _NEVER)
        return days - 1 if last == today.isoformat() else days

    def save_progress(self, routine_id: str, step: int, now_utc: datetime) -> None:
        self.unfinished = Unfinished(routine_id, step, now_utc.isoformat())

    def resume_offer(self, now_utc: datetime) -> Unfinished | None:
        """The unfinished routine, if it was left off recently enough to pick up again."""
        if not self.unfinished:
            return None
        saved = datetime.fromisoformat(self.unfinished.saved_at)
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


def is_newer(raw: Any) -> bool:
    """Whether `raw` is a record from a newer schema than this release's (keep it read-only)."""
    if not isinstance(raw, dict):
        return False
    version = raw.get("version")
    return type(version) is int and version > SCHEMA_VERSION


def record_bytes(raw: Any) -> int:
    """The size of a record as stored: its JSON in UTF-8 (anything JSON lacks, as text)."""
    return len(json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
               .encode("utf-8"))


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether `value` is plain JSON (what a session can carry), not too deeply nested."""
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if depth > 16:
        return False
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _is_date(text: Any) -> bool:
    try:
        date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return True


def _valid_history(value: Any) -> dict[str, list[str]]:
    # Runs every turn (the coach reads the profile afresh): one pass, no sorting unless a record
    # holds more days than it may, when the latest are the ones kept.
    if not isinstance(value, dict):
        return {}
    history = {
        day: [r for r in done if isinstance(r, str)]
        for day, done in value.items()
        if isinstance(done, list) and _is_date(day)
    }
    for done in history.values():
        if len(done) > MAX_COMPLETIONS_PER_DAY:
            del done[MAX_COMPLETIONS_PER_DAY:]
    if len(history) > HISTORY_DAYS + 1:
        kept = sorted(history)[-(HISTORY_DAYS + 1):]
        history = {day: history[day] for day in kept}
    return history


def _valid_unfinished(value: Any) -> Unfinished | None:
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
    return Unfinished(value["routine"], step, saved.isoformat())


# ---------------------------------------------------------------- merging two sessions' changes


class _Missing:
    """A field absent from a record (distinct from a field that is None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

#: A change stamp: when a field last changed, "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC, so that
#: stamps compare as text.
Stamp = str | None


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Side(NamedTuple):
    """One field on one side of a merge: its value and when it last changed (if known)."""

    value: Any
    stamp: Stamp


class Rule(NamedTuple):
    """How one field merges. `merge(base, mine, theirs)` gets the field as this session read it,
    as this session leaves it, and as it is stored now, and returns the merged field.
    `stamped`: the field's changes are stamped with their time, turn by turn, so that when both
    sides changed it the later change wins. `keyed`: the field is a mapping that changes a key
    at a time (a day of history), so a session remembers what it read key by key."""

    name: str
    merge: Callable[[Side, Side, Side], Side]
    stamped: bool = False
    keyed: bool = False


def _mine_changed(base: Side, mine: Side) -> bool:
    # This session's stamps come from its own log: a stamp means it changed the field, even if
    # it then set it back.
    return mine.stamp is not None or mine.value != base.value


def _theirs_changed(base: Side, theirs: Side) -> bool:
    return theirs.stamp != base.stamp or theirs.value != base.value


def _latest(base: Side, mine: Side, theirs: Side) -> Side:
    if not _mine_changed(base, mine):
        return theirs
    if not _theirs_changed(base, theirs):
        return mine
    # Both changed it: the later change wins. A change with no stamp was made by a release
    # that kept none; this session's, made turn by turn up to now, counts as the later one.
    if theirs.stamp is None or (mine.stamp or "") >= theirs.stamp:
        return mine
    return theirs


def _ever(base: Side, mine: Side, theirs: Side) -> Side:
    return Side(mine.value is True or theirs.value is True, None)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _daily_log(base: Side, mine: Side, theirs: Side) -> Side:
    # What this session added to each day (a multiset: two mornings are two), on top of what
    # is stored now. Nothing is ever taken away by a merge; the bounds trim afterwards.
    b, m, t = _mapping(base.value), _mapping(mine.value), _mapping(theirs.value)
    merged: dict[str, Any] = {}
    for day in sorted({*t, *m}):
        stored, mine_day, base_day = _list(t.get(day)), _list(m.get(day)), _list(b.get(day))
        added = Counter(_hashable(mine_day)) - Counter(_hashable(base_day))
        merged[day] = [*stored, *(r for r, n in added.items() for _ in range(n))]
    return Side(merged, None)


def _counts(base: Side, mine: Side, theirs: Side) -> Side:
    # A tally per key (how often each thing happened): both sides' increments add up.
    b, m, t = _mapping(base.value), _mapping(mine.value), _mapping(theirs.value)
    merged = dict(t)
    for key, n in m.items():
        if _is_number(n):
            merged[key] = (_number(t.get(key)) + n - _number(b.get(key)))
    return Side(merged, None)


def _most_days(base: Side, mine: Side, theirs: Side) -> Side:
    # movement -> [days done, last day]: whichever side has done it on more days (then the later
    # last day) knows it better; a day done on both devices is not counted twice.
    m, t = _mapping(mine.value), _mapping(theirs.value)
    merged = dict(t)
    for key, value in m.items():
        other = t.get(key)
        if not isinstance(other, list) or (isinstance(value, list) and value > other):
            merged[key] = value
    return Side(merged, None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float:
    return value if _is_number(value) else 0


def _hashable(items: Iterable[Any]) -> list[Any]:
    return [item if isinstance(item, str | int | float | bool) else json.dumps(item)
            for item in items]


#: Each preference (and anything else set by a choice): the latest change wins.
LATEST = Rule("latest", _latest, stamped=True)
#: Once true, true (something the person has been through).
EVER = Rule("ever", _ever)
#: A day -> list-of-events log (history): a union; what either side added is kept.
DAILY_LOG = Rule("daily log", _daily_log, keyed=True)
#: A key -> number tally: both sides' increments are added.
COUNTS = Rule("counts", _counts, keyed=True)
#: A key -> [days, last day] record of practice: the side that has more of it.
MOST_DAYS = Rule("most days", _most_days, keyed=True)

#: The merge rule of every field, by its dotted path. A field added to `Profile` declares its
#: rule here (tests/test_profile_merge.py fails for a field without one).
MERGE_RULES: dict[str, Rule] = {
    "disclaimer_heard": EVER,
    "prefs.counting": LATEST,
    "prefs.hold_scale": LATEST,
    "prefs.length": LATEST,
    "prefs.soft_voice": LATEST,
    # The newer of two unfinished routines, or finishing (None) if that came later.
    "unfinished": LATEST,
    "history": DAILY_LOG,
    "reminder": LATEST,
    "familiar": MOST_DAYS,
    # The routine settings the person chose (docs/privacy.md): each its latest change.
    "body": LATEST,
    "body_asked": LATEST,
    "levels": LATEST,
    "level_since": LATEST,
    "easier": LATEST,
}
#: A field no rule names (a newer release's): kept; if both sides changed it, the later change.
UNRULED = LATEST
_PARENTS = frozenset(path.rsplit(".", 1)[0] for path in MERGE_RULES if "." in path)


def field(record: Any, path: str) -> Any:
    """The value at a dotted path in a profile dict, or MISSING."""
    node = record
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def _put(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = record
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


# A session does not carry the whole record as it read it (the profile is in the session once
# already, and a response must stay small): it notes, per field, what the field held before the
# session first changed it, and when the session last changed it. The record as read is the
# profile now with those earlier values put back (`as_read`).


def note_changes(changes: dict[str, Any], before: dict[str, Any], now: dict[str, Any],
                 at: datetime) -> None:
    """After a turn: note in `changes` what the turn changed, `before` being the profile as the
    turn found it, `now` as it leaves it, `at` when the person spoke.

    `changes` is ``{"before": {path: earlier value}, "at": {path: stamp}}``: the earlier value
    is kept from the first change only (for a keyed field, key by key, None for a key that was
    not there); the stamp from the latest. Run after every turn; it costs a comparison per field.
    """
    earlier = changes.setdefault("before", {})
    stamps = changes.setdefault("at", {})
    if before == now:
        return
    when = stamp(at)
    for path, rule in MERGE_RULES.items():
        top = path.partition(".")[0]
        if before.get(top) == now.get(top):
            continue  # the whole of "prefs" unchanged, say: no need to look closer
        old, new = field(before, path), field(now, path)
        if old == new:
            continue
        if rule.stamped:
            stamps[path] = when
        if rule.keyed:
            old_map, new_map = _mapping(old), _mapping(new)
            kept = earlier.setdefault(path, {})
            for key in {*old_map, *new_map}:
                if old_map.get(key) != new_map.get(key) and key not in kept:
                    kept[key] = old_map.get(key)
        elif path not in earlier:
            earlier[path] = None if old is MISSING else old


#: What a JSON copy keeps as it is (a float may be NaN, which JSON makes anew: see below).
_SAME = frozenset((str, int, bool, type(None)))


def json_copy(value: Any) -> Any:
    """``json.loads(json.dumps(value))``, the same copy, without the text in between for what
    copies as it is (strings, numbers, lists and string-keyed dicts of them); anything else
    (a tuple, a non-string key, a value JSON cannot hold) goes through JSON, as before. The
    shell copies the session's profile and attributes with it on every request."""
    kind = type(value)
    if kind is dict and all(type(key) is str for key in value):
        return {key: item if type(item) in _SAME else json_copy(item)
                for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _SAME else json_copy(item) for item in value]
    if kind in _SAME or (kind is float and value == value):  # NaN is not itself
        return value
    return json.loads(json.dumps(value))


def as_read(now: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The profile as the session read it: `now` with each changed field's earlier value back."""
    earlier = changes.get("before") if isinstance(changes.get("before"), dict) else {}
    if not earlier:
        return now
    record: dict[str, Any] = json_copy(now)
    for path, value in earlier.items():
        rule = MERGE_RULES.get(path)
        if rule is None:
            continue
        if rule.keyed:
            current = field(record, path)
            restored = dict(current) if isinstance(current, dict) else {}
            for key, old in _mapping(value).items():
                if old is None:
                    restored.pop(key, None)
                else:
                    restored[key] = old
            _put(record, path, restored)
        else:
            _put(record, path, value)
    return record


class Merged(NamedTuple):
    profile: dict[str, Any]
    #: the change stamp of every stamped field that has one
    stamps: dict[str, str]
    #: the fields both sides had changed, by path (for the log: names only, never values)
    contested: list[str]


def merge(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any], *,
          base_stamps: dict[str, str], my_stamps: dict[str, str],
          their_stamps: dict[str, str]) -> Merged:
    """Three-way merge of profile dicts (as `Profile.to_dict` gives them), field by field.

    `base`: the record as this session read it; `mine`: as this session leaves it; `theirs`: as
    another session stored it since. `my_stamps` are this session's change stamps (the ``"at"``
    of `note_changes`), the others the records' own. Every field of either side is in the result
    (a field no rule names merges as `UNRULED`); the result is bounded by going through
    `Profile` again.
    """
    mine_stamps = {path: at for path, at in my_stamps.items() if isinstance(at, str)}
    stamps: dict[str, str] = {}
    contested: list[str] = []

    def walk(path: str, b: Any, m: Any, t: Any) -> Any:
        rule = MERGE_RULES.get(path)
        if rule is None and (path == "" or path in _PARENTS) and isinstance(m, dict) \
                and isinstance(t, dict):
            out = {}
            for key in dict.fromkeys([*t, *m]):
                if path == "" and key == "version":
                    continue
                sub = f"{path}.{key}" if path else key
                value = walk(sub, b.get(key, MISSING) if isinstance(b, dict) else MISSING,
                             m.get(key, MISSING), t.get(key, MISSING))
                if value is not MISSING:
                    out[key] = value
            return out
        rule = rule or UNRULED
        sides = (Side(b, base_stamps.get(path)), Side(m, mine_stamps.get(path)),
                 Side(t, their_stamps.get(path)))
        if _mine_changed(sides[0], sides[1]) and _theirs_changed(sides[0], sides[2]):
            contested.append(path)
        won = rule.merge(*sides)
        if rule.stamped and won.stamp is not None:
            stamps[path] = won.stamp
        return won.value

    merged = walk("", base, mine, theirs)
    merged["version"] = SCHEMA_VERSION
    return Merged(Profile.from_dict(merged).to_dict(), stamps, contested)


def stamps_after(base_stamps: dict[str, str], my_stamps: dict[str, str]) -> dict[str, str]:
    """The stamps to store with this session's profile when nothing else was written since."""
    return {**base_stamps, **{p: at for p, at in my_stamps.items() if isinstance(at, str)}}
