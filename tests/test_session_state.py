"""The conversation's session state is typed inside the core and travels as the same JSON it
always has: what a session sends back is read field by field, and a value that is not what the
coach wrote is dropped rather than acted on."""

from __future__ import annotations

from typing import Any

from skill.core.conversation import Pending, ReplaySpeech, ReplaySteps, Session, Undo
from skill.core.profile import Practice, Profile, Unfinished


def wire(session: Session) -> dict[str, Any]:
    return Session.from_dict(session.to_dict()).to_dict()


def test_what_repeat_says_after_steps_travels_as_before() -> None:
    session = Session()
    session.routine, session.step, session.pending = "morning", 2, Pending("next")
    session.repeat = ReplaySteps(2, easier=True, full=False, said={"count.halfway": 3})
    assert session.to_dict()["repeat"] == {"step": 2, "easier": True, "full": False,
                                           "said": {"count.halfway": 3}}
    assert wire(session) == session.to_dict()
    assert Session.from_dict(session.to_dict()).repeat == session.repeat


def test_what_repeat_says_after_a_short_reply_is_that_reply() -> None:
    session = Session()
    session.repeat = ReplaySpeech("<speak>Hello.</speak>", None)
    assert session.to_dict()["repeat"] == {"speech": "<speak>Hello.</speak>", "reprompt": None}
    assert Session.from_dict(session.to_dict()).repeat == session.repeat


def test_keep_it_as_it_was_carries_only_the_fields_a_change_touched() -> None:
    session = Session()
    session.undo = Undo(levels={"morning": 1}, level_since={"morning": "2024-03-04"})
    assert session.to_dict()["undo"] == {"levels": {"morning": 1},
                                         "level_since": {"morning": "2024-03-04"}}
    assert Session.from_dict(session.to_dict()).undo == session.undo
    session.undo = Undo(body=[])  # the body check had chosen nothing before: put back nothing
    assert session.to_dict()["undo"] == {"body": []}
    assert Session.from_dict(session.to_dict()).undo == Undo(body=[])


def test_a_session_sent_back_altered_loses_only_the_altered_fields() -> None:
    sent = {"step": 1, "mode": "guided", "routine": "morning",
            "repeat": {"step": "two", "speech": 7},
            "undo": {"levels": "all of them", "easier": {"morning": ["pelvic_tilt", 3],
                                                         "bedtime": ["double_knee_hug"]},
                     "body": ["side_lying"]}}
    session = Session.from_dict(sent)
    assert session.routine == "morning" and session.step == 1
    assert session.repeat is None
    assert session.undo == Undo(easier={"bedtime": ["double_knee_hug"]}, body=["side_lying"])
    assert Session.from_dict({"undo": {"levels": None, "colour": "blue"}}).undo is None
    said = Session.from_dict({"repeat": {"step": 0, "said": {"a": 1, "b": "x", "c": True}}})
    assert said.repeat == ReplaySteps(0, said={"a": 1})


def test_the_stored_profile_keeps_its_layout() -> None:
    profile = Profile()
    profile.unfinished = Unfinished("morning", 3, "2024-03-05T12:00:00+00:00")
    profile.familiar = {"pelvic_tilt": Practice(4, "2024-03-05")}
    stored = profile.to_dict()
    assert stored["unfinished"] == {"routine": "morning", "step": 3,
                                    "saved_at": "2024-03-05T12:00:00+00:00"}
    assert stored["familiar"] == {"pelvic_tilt": [4, "2024-03-05"]}
    again = Profile.from_dict(stored)
    assert again.unfinished == profile.unfinished and again.familiar == profile.familiar
