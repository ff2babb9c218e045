"""Two sessions of one person changed the profile at once: what the merge keeps, field by field.

These are the pure rules (`skill.core.profile.merge`, three-way: the record as this session read
it, as this session leaves it, as the other session stored it). The same merges through the real
handler, on SQLite and on DynamoDB, are in tests/test_memory.py; the bounds that keep a record
small whatever a client does are at the end.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from skill.core import profile, routine
from skill.core.profile import (
    COUNTS,
    HISTORY_DAYS,
    MAX_COMPLETIONS_PER_DAY,
    MAX_RECORD_BYTES,
    MERGE_RULES,
    SCHEMA_VERSION,
    Profile,
    as_read,
    is_newer,
    merge,
    note_changes,
    record_bytes,
    stamp,
)

DAY = date(2024, 3, 5)
T_7 = datetime(2024, 3, 5, 7, tzinfo=ZoneInfo("America/New_York"))
AT_7, AT_701, AT_702 = (stamp(T_7 + timedelta(minutes=n)) for n in range(3))


def fresh(**changes: Any) -> dict[str, Any]:
    """A profile dict as `Profile.to_dict` gives it, with some fields set (``prefs`` merged)."""
    record = Profile().to_dict()
    prefs = changes.pop("prefs", {})
    record.update(changes)
    record["prefs"].update(prefs)
    return record


def merged(base: dict, mine: dict, theirs: dict, *, my_stamps: dict | None = None,
           base_stamps: dict | None = None, their_stamps: dict | None = None) -> profile.Merged:
    return merge(base, mine, theirs, base_stamps=base_stamps or {}, my_stamps=my_stamps or {},
                 their_stamps=their_stamps or {})


# ---------------------------------------------------------------- every field has a rule


def leaf_paths(record: dict[str, Any], prefix: str = "") -> list[str]:
    """The fields of a profile dict by dotted path, descending only into parents of rules."""
    paths = []
    for key, value in record.items():
        path = f"{prefix}{key}"
        parent = any(rule.startswith(f"{path}.") for rule in MERGE_RULES)
        paths += leaf_paths(value, f"{path}.") if parent and isinstance(value, dict) else [path]
    return paths


def test_every_field_of_the_profile_declares_how_it_merges() -> None:
    """A field added to Profile without a rule in MERGE_RULES fails here, by name."""
    fields = set(leaf_paths(Profile().to_dict())) - {"version"}
    assert fields - set(MERGE_RULES) == set(), "fields without a merge rule"
    assert set(MERGE_RULES) - fields == set(), "merge rules for fields that do not exist"


# ---------------------------------------------------------------- preferences: latest change


def test_different_preferences_changed_on_two_devices_are_both_kept() -> None:
    base = fresh()
    mine = fresh(prefs={"soft_voice": True})
    theirs = fresh(prefs={"counting": "every_second"})
    result = merged(base, mine, theirs, my_stamps={"prefs.soft_voice": AT_702},
                    their_stamps={"prefs.counting": AT_701})
    assert result.profile["prefs"]["soft_voice"] is True
    assert result.profile["prefs"]["counting"] == "every_second"
    assert result.stamps == {"prefs.soft_voice": AT_702, "prefs.counting": AT_701}
    assert result.contested == []


@pytest.mark.parametrize(("mine_at", "theirs_at", "winner"), [
    (AT_702, AT_701, "sparse"), (AT_701, AT_702, "every_second")])
def test_one_preference_changed_on_both_keeps_the_later_change(
    mine_at: str, theirs_at: str, winner: str
) -> None:
    base = fresh()
    result = merged(base, fresh(prefs={"counting": "sparse"}),
                    fresh(prefs={"counting": "every_second"}),
                    my_stamps={"prefs.counting": mine_at},
                    their_stamps={"prefs.counting": theirs_at})
    assert result.profile["prefs"]["counting"] == winner
    assert result.contested == ["prefs.counting"]


def test_a_preference_set_and_set_back_is_still_the_latest_change() -> None:
    """This session chose sparse counting, then auto again (the value it read), after the other
    session chose every second: auto is the latest word."""
    base = fresh()
    changes: dict[str, Any] = {}
    note_changes(changes, base, fresh(prefs={"counting": "sparse"}), T_7)
    note_changes(changes, fresh(prefs={"counting": "sparse"}), fresh(), T_7 + timedelta(minutes=2))
    assert changes == {"before": {"prefs.counting": "auto"}, "at": {"prefs.counting": AT_702}}
    result = merged(as_read(fresh(), changes), fresh(), fresh(prefs={"counting": "every_second"}),
                    my_stamps=changes["at"], their_stamps={"prefs.counting": AT_701})
    assert result.profile["prefs"]["counting"] == "auto"


def test_the_record_as_read_is_rebuilt_from_what_the_session_changed() -> None:
    """The session keeps no second copy of the record: each field's earlier value, from its
    first change (per day for history), is enough to rebuild it."""
    yesterday = (DAY - timedelta(days=1)).isoformat()
    old = (DAY - timedelta(days=HISTORY_DAYS + 1)).isoformat()
    read = fresh(history={old: ["bedtime"], yesterday: ["morning"]}, reminder="alert-1")
    person = Profile.from_dict(read)
    changes: dict[str, Any] = {}
    turns = [lambda: person.save_progress("morning", 1, datetime(2024, 3, 5, 12, tzinfo=UTC)),
             lambda: person.record_completion("morning", DAY),  # also drops the oldest day
             lambda: setattr(person.prefs, "soft_voice", True),
             lambda: setattr(person, "reminder", None)]
    for n, turn in enumerate(turns):
        before = person.to_dict()
        turn()
        note_changes(changes, before, person.to_dict(), T_7 + timedelta(minutes=n))
    now = person.to_dict()
    assert now["history"] == {yesterday: ["morning"], DAY.isoformat(): ["morning"]}
    assert as_read(now, changes) == read
    assert changes["before"]["history"] == {old: ["bedtime"], DAY.isoformat(): None}
    assert changes["at"] == {"unfinished": "2024-03-05T12:01:00.000000Z",
                             "prefs.soft_voice": "2024-03-05T12:02:00.000000Z",
                             "reminder": "2024-03-05T12:03:00.000000Z"}  # in UTC, as text
    assert len(json.dumps(changes)) < 400  # what the session carries besides the profile


def test_what_this_session_did_not_touch_is_taken_as_stored() -> None:
    base = fresh(prefs={"hold_scale": 1.2}, reminder="alert-1")
    theirs = fresh(prefs={"hold_scale": 1.4}, reminder=None)
    result = merged(base, base, theirs, their_stamps={"prefs.hold_scale": AT_701})
    assert result.profile["prefs"]["hold_scale"] == 1.4
    assert result.profile["reminder"] is None


def test_the_later_reminder_token_is_kept() -> None:
    base = fresh()
    result = merged(base, fresh(reminder="alert-mine"), fresh(reminder="alert-theirs"),
                    my_stamps={"reminder": AT_701},
                    their_stamps={"reminder": AT_702})
    assert result.profile["reminder"] == "alert-theirs"


def test_a_change_stored_by_a_release_without_stamps_loses_to_this_sessions() -> None:
    """Before stamps, nobody knew when: this session's change, made up to now, counts as later."""
    base = fresh()
    theirs = fresh(prefs={"counting": "every_second", "soft_voice": True})
    result = merged(base, fresh(prefs={"counting": "sparse"}), theirs,
                    my_stamps={"prefs.counting": AT_7})
    assert result.profile["prefs"]["counting"] == "sparse"
    assert result.profile["prefs"]["soft_voice"] is True
    assert result.contested == ["prefs.counting"]


# ---------------------------------------------------------------- history: a union


def test_completions_on_both_devices_are_all_kept() -> None:
    yesterday = (DAY - timedelta(days=1)).isoformat()
    base = fresh(history={yesterday: ["morning"]})
    mine = fresh(history={yesterday: ["morning"], DAY.isoformat(): ["morning"]})
    theirs = fresh(history={yesterday: ["morning"], DAY.isoformat(): ["quick", "bedtime"]})
    result = merged(base, mine, theirs)
    assert result.profile["history"] == {yesterday: ["morning"],
                                         DAY.isoformat(): ["quick", "bedtime", "morning"]}


def test_the_same_routine_done_on_both_devices_counts_twice() -> None:
    base = fresh()
    done = fresh(history={DAY.isoformat(): ["morning"]})
    assert merged(base, done, done).profile["history"] == {DAY.isoformat(): ["morning", "morning"]}


def test_a_merge_never_takes_a_completion_away() -> None:
    """The other session's record is older than what this session read (it was restored from
    before a completion): the completion this session knew of is not this session's to drop,
    and the other side kept what it had."""
    base = fresh(history={DAY.isoformat(): ["morning"]})
    theirs = fresh(history={DAY.isoformat(): ["morning"]})
    mine = fresh(history={DAY.isoformat(): ["morning", "bedtime"]})
    assert merged(base, mine, theirs).profile["history"] == {DAY.isoformat():
                                                             ["morning", "bedtime"]}


# ---------------------------------------------------------------- unfinished: the newer one


def unfinished(step: int, at: str) -> dict[str, Any]:
    saved = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return {"routine": "morning", "step": step, "saved_at": saved.isoformat()}


def test_a_routine_finished_later_on_the_other_device_is_not_offered_again() -> None:
    base = fresh()
    mine = fresh(unfinished=unfinished(2, AT_7))
    theirs = fresh(unfinished=None, history={DAY.isoformat(): ["morning"]})
    result = merged(base, mine, theirs, my_stamps={"unfinished": AT_7},
                    their_stamps={"unfinished": AT_702})
    assert result.profile["unfinished"] is None
    assert result.profile["history"] == {DAY.isoformat(): ["morning"]}


def test_a_routine_left_off_after_the_other_device_finished_is_offered() -> None:
    base = fresh()
    mine = fresh(unfinished=unfinished(3, AT_702))
    theirs = fresh(history={DAY.isoformat(): ["quick"]})
    result = merged(base, mine, theirs, my_stamps={"unfinished": AT_702},
                    their_stamps={"unfinished": AT_701})
    assert result.profile["unfinished"] == mine["unfinished"]
    assert result.profile["history"] == {DAY.isoformat(): ["quick"]}


# ---------------------------------------------------------------- once heard, heard


def test_the_disclaimer_heard_on_either_device_is_heard() -> None:
    base = fresh()
    assert merged(base, base, fresh(disclaimer_heard=True)).profile["disclaimer_heard"] is True
    assert merged(base, fresh(disclaimer_heard=True), base).profile["disclaimer_heard"] is True


# ---------------------------------------------------------------- fields this release does not know


def test_a_field_a_newer_release_added_is_kept_by_reading_and_by_merging() -> None:
    stored = fresh(variant="gentle", prefs={"pace": "slow"})
    read = Profile.from_dict(stored).to_dict()
    assert read["variant"] == "gentle" and read["prefs"]["pace"] == "slow"

    base = read
    mine = fresh(variant="gentle", prefs={"pace": "slow", "soft_voice": True})
    theirs = fresh(variant="gentler", prefs={"pace": "slow"}, pain={"2024-03-05": 3})
    result = merged(base, mine, theirs, my_stamps={"prefs.soft_voice": AT_7})
    assert result.profile["variant"] == "gentler"  # only the other side changed it
    assert result.profile["pain"] == {"2024-03-05": 3}  # only the other side has it
    assert result.profile["prefs"] == {**fresh()["prefs"], "pace": "slow", "soft_voice": True}


def test_a_field_declared_as_counts_adds_both_sides_increments(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule a tally (how often each movement was done) would declare."""
    monkeypatch.setitem(MERGE_RULES, "familiarity", COUNTS)
    base = fresh(familiarity={"knee_to_chest": 2})
    mine = fresh(familiarity={"knee_to_chest": 3, "pelvic_tilt": 1})
    theirs = fresh(familiarity={"knee_to_chest": 4})
    result = merged(base, mine, theirs)
    assert result.profile["familiarity"] == {"knee_to_chest": 5, "pelvic_tilt": 1}


# ---------------------------------------------------------------- newer schemas


def test_a_record_from_a_newer_schema_is_read_as_far_as_it_can_be() -> None:
    newer = fresh(version=SCHEMA_VERSION + 1, disclaimer_heard=True,
                  prefs={"soft_voice": True, "counting": "a way we do not know"},
                  history={DAY.isoformat(): ["morning"]}, coach_mood="sunny")
    assert is_newer(newer) and not is_newer(fresh()) and not is_newer({"version": True})
    read = Profile.from_dict(newer, keep_unknown=False).to_dict()
    assert read["version"] == SCHEMA_VERSION
    assert read["disclaimer_heard"] is True and read["prefs"]["soft_voice"] is True
    assert read["prefs"]["counting"] == "auto"
    assert read["history"] == {DAY.isoformat(): ["morning"]}
    assert "coach_mood" not in read


def test_a_record_from_an_older_schema_starts_afresh() -> None:
    assert Profile.from_dict({"version": 0, "disclaimer_heard": True}).to_dict() == fresh()


# ---------------------------------------------------------------- bounds


def test_a_day_records_at_most_its_cap_of_completions() -> None:
    person = Profile()
    for _ in range(500):
        person.record_completion("morning", DAY)
    assert person.history == {DAY.isoformat(): ["morning"] * MAX_COMPLETIONS_PER_DAY}
    assert person.completed_since(DAY) == MAX_COMPLETIONS_PER_DAY


def test_a_planted_history_is_cut_to_its_bounds_when_read() -> None:
    days = {(DAY - timedelta(days=n)).isoformat(): ["morning"] * 50 for n in range(1000)}
    read = Profile.from_dict(fresh(history=days)).to_dict()
    assert len(read["history"]) == HISTORY_DAYS + 1
    assert max(read["history"]) == DAY.isoformat()  # the latest days are the ones kept
    assert {len(done) for done in read["history"].values()} == {MAX_COMPLETIONS_PER_DAY}


def test_the_largest_profile_we_can_write_is_well_inside_the_record_bound() -> None:
    longest = max(routine.ids(), key=len)
    person = Profile()
    for n in range(HISTORY_DAYS, -1, -1):
        for _ in range(MAX_COMPLETIONS_PER_DAY):
            person.record_completion(longest, DAY - timedelta(days=n))
    person.save_progress("morning", 6, datetime(2024, 3, 5, 12, tzinfo=UTC))
    person.reminder = "amzn1.alert." + "x" * 200
    biggest = person.to_dict()
    assert len(biggest["history"]) == HISTORY_DAYS + 1
    size = record_bytes(biggest)
    # Twice (the session keeps the record as read too), with its stamps, far below Alexa's
    # 120 KB response; the cap itself leaves room for fields other releases add.
    assert size < MAX_RECORD_BYTES / 2, size
    assert json.loads(json.dumps(biggest)) == biggest


def test_an_unknown_field_that_is_not_plain_json_is_not_carried() -> None:
    """DynamoDB can hold a set, which no session attribute can carry."""
    read = Profile.from_dict(fresh(tags={"a", "b"}, note="kept")).to_dict()
    assert "tags" not in read and read["note"] == "kept"
    assert record_bytes(fresh(tags={"a"})) > 0
