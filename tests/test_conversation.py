"""The conversation through the Lambda handler, turn by turn, as a person in bed would have it.

Every test talks through `skill.alexa.app.handler` with real request envelopes; session attributes
go back and forth as Alexa carries them, and the profile is kept in a fresh SQLite file. Every
response of every test is also checked against the platform rules (see the `talk` fixture).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import AskSdkException

from skill.alexa import app
from skill.core import content, pacing, routine
from skill.core.speech import estimate_seconds
from tests.conversation import SKILL_ID, Conversation, Turn
from tests.support.alexa_api import AlexaApi
from tests.support.ssml import response_errors

Talk = Callable[..., Conversation]
OPEN = "open bedside back coach"
STEPS = {"morning": 7, "bedtime": 5, "quick": 3}
SOFT = '<prosody rate="90%" volume="soft">'
DISCLAIMER = "not a doctor"


def one_of(key: str) -> tuple[str, ...]:
    """Every variant of a spoken line (the skill picks one, so it does not sound canned)."""
    lines = content.prompts("en-US").raw(key)
    return (lines,) if isinstance(lines, str) else tuple(lines)


def says_one_of(turn: Turn, key: str) -> Turn:
    assert said_one_of(turn, key), f"expected {key}: {turn}"
    return turn


def said_one_of(turn: Turn, key: str) -> bool:
    """Whether one wording of ``key`` was said, whatever its {placeholders} were filled with."""
    patterns = [re.escape(v.lower()).replace(r"\{", "{").replace(r"\}", "}") for v in one_of(key)]
    patterns = [re.sub(r"\{\w+\}", ".+?", p) for p in patterns]
    return any(re.search(p, turn.text.lower()) for p in patterns)


def step_body(turn: Turn) -> str:
    """What a step response says, without the closing question (its wording varies)."""
    return turn.text.rsplit(". ", 1)[0]


def hold_seconds_said(turn: Turn) -> int:
    found = re.search(r"(\d+) seconds", turn.text)
    assert found, f"expected the new hold length in seconds: {turn}"
    return int(found.group(1))


# -- launch -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "greeting", "offer"),
    [
        ("07:00", "greeting.morning", "offer.morning"),
        ("14:30", "greeting.afternoon", "offer.quick"),
        ("20:15", "greeting.evening", "offer.bedtime"),
        ("23:40", "greeting.night", "offer.bedtime"),
        ("02:10", "greeting.night", "offer.bedtime"),
    ],
)
def test_launch_greets_by_the_local_time_and_offers_the_routine_for_it(
    talk: Talk, at: str, greeting: str, offer: str
) -> None:
    # The Settings API is unreachable here, so the locale's zone (New York for en-US) is used.
    opening = talk(at=at).utter(OPEN)
    says_one_of(opening, greeting)
    says_one_of(opening, offer)
    opening.asks()
    assert opening.state["tz"] == "America/New_York"


def test_the_request_timestamp_sets_the_time_of_day_not_the_server_clock(talk: Talk) -> None:
    # 12:00 UTC is 07:00 in New York: a skill reading the clock in UTC would say good afternoon.
    opening = talk(at="12:00", tz="UTC").utter(OPEN)
    says_one_of(opening, "greeting.morning")


def test_launch_uses_the_device_time_zone_from_the_settings_api(talk: Talk) -> None:
    device = "amzn1.ask.device.LONDON"
    with AlexaApi(time_zones={device: "Europe/London"}) as api:
        # 07:30 in London is 02:30 in New York, the en-US locale's fallback zone.
        chat = talk(at="07:30", tz="Europe/London", device=device, api_endpoint=api.endpoint)
        opening = chat.utter(OPEN)
        assert any("System.timeZone" in call.path for call in api.calls)
    says_one_of(opening, "greeting.morning")
    says_one_of(opening, "offer.morning")
    assert opening.state["tz"] == "Europe/London"


@pytest.mark.parametrize(("locale", "tz"), [("en-GB", "Europe/London"),
                                            ("en-AU", "Australia/Sydney")])
def test_without_the_settings_api_the_locale_zone_is_used(talk: Talk, locale: str, tz: str
                                                         ) -> None:
    opening = talk(at="20:00", tz=tz, locale=locale).utter(OPEN)
    says_one_of(opening, "greeting.evening")
    says_one_of(opening, "offer.bedtime").asks()


# -- first use ----------------------------------------------------------------------------


def test_first_use_hears_the_disclaimer_once_and_not_in_the_next_session(
    talk: Talk, skill_db: Path
) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN).says(DISCLAIMER, "stop if you feel sharp pain").asks()
    chat.utter("yes").says("Step 1 of 7").does_not_say(DISCLAIMER).asks()
    chat.utter("stop").ended()

    with sqlite3.connect(skill_db) as db:
        rows = db.execute("select * from sqlite_master where type = 'table'").fetchall()
        assert rows, "the profile store was never written"

    chat.wait(hours=24)
    chat.utter(OPEN).does_not_say(DISCLAIMER).asks()


def test_a_session_that_times_out_still_remembers_the_disclaimer(talk: Talk) -> None:
    chat = talk(at="21:00")
    chat.utter(OPEN).says(DISCLAIMER)
    chat.end("EXCEEDED_MAX_REPROMPTS").silent()
    chat.wait(minutes=10)
    chat.utter(OPEN).does_not_say(DISCLAIMER).asks()


def test_another_person_still_hears_the_disclaimer(talk: Talk) -> None:
    talk(at="07:00").utter(OPEN).says(DISCLAIMER)
    first = talk(at="07:00")
    first.utter(OPEN)
    first.utter("stop").ended()
    talk(at="07:05", user="amzn1.ask.account.SOMEONEELSE").utter(OPEN).says(DISCLAIMER)


# -- starting a routine -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "routine_id"),
    [
        ("start my morning stretch", "morning"),
        ("bedtime routine", "bedtime"),
        ("quick stretch", "quick"),
        ("start my bedtime stretch", "bedtime"),
    ],
)
def test_a_routine_starts_directly_as_a_one_shot(talk: Talk, phrase: str, routine_id: str
                                                ) -> None:
    chat = talk(at="07:00")
    first = chat.utter(f"Alexa, ask bedside back coach to {phrase}")
    asked = chat.turns[0]  # the one-shot itself (the body check came first, answered "no")
    assert asked.request["request"]["type"] == "IntentRequest"
    assert asked.request["session"]["new"] is True
    first.says(DISCLAIMER, f"Step 1 of {STEPS[routine_id]}").asks(routine_id != "bedtime")
    # The disclaimer is said before the routine starts, not in the middle of it.
    assert first.text.lower().index(DISCLAIMER) < first.text.lower().index("step 1")


@pytest.mark.parametrize(("phrase", "routine_id"),
                         [("start my morning stretch", "morning"), ("bedtime routine", "bedtime"),
                          ("quick stretch", "quick")])
def test_a_routine_starts_directly_after_launch_whatever_was_offered(
    talk: Talk, phrase: str, routine_id: str
) -> None:
    chat = talk(at="14:00")  # the afternoon offers the quick stretch
    chat.utter(OPEN).asks()
    started = chat.utter(phrase)
    started.says(f"Step 1 of {STEPS[routine_id]}").does_not_say(DISCLAIMER)
    started.asks(reprompt=routine_id != "bedtime")
    assert chat.turns[-1].request["session"]["new"] is False


def test_the_whole_morning_routine_needs_only_yes_and_next(talk: Talk) -> None:
    chat = talk(at="06:45")
    chat.utter(OPEN).says("morning stretch").asks()
    replies = [chat.utter("yes")]
    while replies[-1].response.get("shouldEndSession") is False:
        assert len(replies) < 20, "the routine never ends"
        replies.append(chat.utter("next" if len(replies) % 2 else "yes"))
    assert len(replies) == 7, "one response per step, and nothing else to say"
    for number, reply in enumerate(replies, start=1):
        reply.says(f"Step {number} of 7")
    for reply in replies[:-1]:
        reply.asks()
    says_one_of(says_one_of(replies[-1].ended(), "finish.morning"), "finish.morning_after")
    # Seven steps, and the "no" to the one-off body check before the first.
    assert sum(turn.request_type == "IntentRequest" for turn in chat.turns) == 8


@pytest.mark.parametrize("routine_id", ["morning", "bedtime", "quick"])
def test_finishing_a_routine_closes_the_session(talk: Talk, routine_id: str) -> None:
    chat = talk(at="07:00")
    turn = chat.utter(f"ask bedside back coach to start my {routine_id} stretch")
    for _ in range(STEPS[routine_id] - 1):
        if turn.response.get("shouldEndSession"):
            break  # bedtime goes on by itself, in one or two long replies
        turn.asks(reprompt=routine_id != "bedtime")
        turn = chat.utter("next")
    turn.ended().says(f"Step {STEPS[routine_id]} of {STEPS[routine_id]}")
    says_one_of(turn, f"finish.{routine_id}")
    # A new session starts afresh: "next" is no longer in a routine.
    says_one_of(chat.utter("next"), "navigate.not_in_routine").asks()


def test_the_bedtime_routine_is_softer_and_slower_and_ends_with_goodnight(talk: Talk) -> None:
    chat = talk(at="22:00")
    turns = [chat.utter("ask bedside back coach to start my bedtime stretch")]
    while turns[-1].response.get("shouldEndSession") is False:
        turns[-1].asks(reprompt=False)  # silence ends the session quietly: no reprompt to wake
        turns.append(chat.utter("yes"))
    for turn in turns:
        assert turn.ssml.startswith(f"<speak>{SOFT}"), turn.ssml[:80]
        assert turn.ssml.endswith("</prosody></speak>"), turn.ssml[-80:]
    says_one_of(turns[-1].ended(), "finish.bedtime_after")
    assert any(turns[-1].text.endswith(line) for line in one_of("finish.bedtime_after"))
    # The morning routine keeps the normal voice.
    morning = talk(at="07:00").utter("ask bedside back coach to start my morning stretch")
    assert "<prosody" not in morning.ssml


def test_stopping_a_bedtime_stretch_says_good_night(talk: Talk) -> None:
    chat = talk(at="22:00")
    chat.utter("ask bedside back coach to start my bedtime stretch").asks(reprompt=False)
    says_one_of(chat.utter("stop").ended(), "goodbye.stop_bedtime")


# -- continuous mode ----------------------------------------------------------------------


@pytest.mark.parametrize("routine_id", ["morning", "quick"])
def test_keep_going_asks_only_about_every_two_minutes(talk: Talk, routine_id: str) -> None:
    chat = talk(at="07:00")
    chat.utter(f"ask bedside back coach to start my {routine_id} stretch").at_step(routine_id, 0)
    turns = [chat.utter("keep going").says("keep going")]
    while turns[-1].response.get("shouldEndSession") is False:
        assert len(turns) < 10, "continuous mode never finishes"
        turns.append(chat.utter("yes"))
    open_turns = turns[:-1]
    assert open_turns or routine_id == "quick", "continuous mode should check in"
    seconds = [estimate_seconds(t.ssml) for t in turns]
    for turn, spoken in zip(open_turns, seconds, strict=False):
        turn.asks()
        says_one_of(turn, "routine.continuous_check")
        assert 90 <= spoken <= 150, f"asked after {spoken:.0f} s of speech, not about two minutes"
    assert seconds[-1] <= 150
    turns[-1].ended()
    says_one_of(turns[-1], f"finish.{routine_id}")
    # Every step after the first is heard exactly once, in order.
    heard = [int(n) for t in turns for n in re.findall(r"step (\d+) of", t.text.lower())]
    assert heard == list(range(2, STEPS[routine_id] + 1))
    assert len(turns) < max(2, STEPS[routine_id] - 1), "continuous mode should chain steps"


def test_keep_going_from_the_menu_starts_the_offered_routine(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    turn = chat.utter("keep going").says("Step 1 of 7", "Step 2 of 7").asks()
    assert turn.state["coach"]["mode"] == "continuous"


def test_no_to_keep_going_returns_to_one_step_at_a_time(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    checked_in = chat.utter("keep going")
    at = checked_in.state["coach"]["step"]
    # "No" never goes on: one step at a time from here, and only when the person says so.
    guided = says_one_of(chat.utter("no"), "routine.one_at_a_time").does_not_say("Step").asks()
    assert guided.state["coach"]["mode"] == "guided"
    guided.at_step("morning", at)
    after = chat.utter("yes").says(f"Step {at + 2} of 7").asks()
    assert len(re.findall(r"step \d+ of", after.text.lower())) == 1


# -- moving around in a routine -----------------------------------------------------------


def test_next_skip_back_repeat_and_start_over(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch").at_step("morning", 0)
    chat.utter("next").says("Step 2 of 7").asks().at_step("morning", 1)
    skipped = says_one_of(chat.utter("skip"), "navigate.skipped").says("Step 3 of 7").asks()
    skipped.at_step("morning", 2)
    back = chat.utter("go back").says("Step 2 of 7").does_not_say("Step 3").asks()
    back.at_step("morning", 1)
    again = chat.utter("repeat").says("Step 2 of 7").asks().at_step("morning", 1)
    assert step_body(again) == step_body(back), "repeat says the same step again"
    chat.utter("next").at_step("morning", 2)
    over = says_one_of(chat.utter("start over"), "navigate.start_over").says("Step 1 of 7")
    over.asks().at_step("morning", 0)
    first = says_one_of(chat.utter("go back"), "navigate.back_at_start").says("Step 1 of 7")
    first.asks().at_step("morning", 0)


def test_repeat_says_the_last_question_again_outside_a_routine(talk: Talk) -> None:
    chat = talk(at="07:00")
    opening = chat.utter(OPEN)
    again = chat.utter("say that again").asks()
    assert again.text == opening.text


def test_pause_says_what_will_happen_and_resume_picks_up_the_interrupted_step(talk: Talk
                                                                             ) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next").at_step("morning", 1)
    # "Alexa, pause" a few seconds into step 2: Alexa cannot hold the speech, so the coach says
    # so, keeps the place, and tells the person how to come back.
    paused = chat.utter("pause").ended().says("step 2", "resume my stretch")
    assert "I'll wait here" not in paused.text
    chat.wait(minutes=20)
    resumed = chat.utter("ask bedside back coach to resume").says("Step 2 of 7").asks()
    says_one_of(resumed, "navigate.resume").at_step("morning", 1)
    tilt = content.movements("en-US")["pelvic_tilt"]
    assert any(line in resumed.text for line in tilt["movement"])


def test_a_pause_after_a_step_was_spoken_to_the_end_resumes_with_the_next(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next").at_step("morning", 1)
    chat.wait(minutes=2)  # step 2 has been spoken to the end, and its question asked
    chat.utter("pause").ended().says("step 3")
    chat.wait(minutes=5)
    chat.utter("ask bedside back coach to resume").says("Step 3 of 7").asks()


def test_asking_how_am_i_doing_mid_routine_keeps_its_place(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next").at_step("morning", 1)
    progress = chat.utter("how am i doing").says("You haven't finished a routine").asks()
    says_one_of(progress, "routine.next_question").at_step("morning", 1)
    chat.utter("yes").says("Step 3 of 7").at_step("morning", 2)


@pytest.mark.parametrize(("longer", "word"), [(True, "longer"), (False, "shorter")])
def test_longer_and_shorter_holds_stay_within_the_movement_bounds(
    talk: Talk, longer: bool, word: str
) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next")
    chat.utter("next").says("Step 3 of 7", "knee to chest").at_step("morning", 2)
    step = routine.get("morning").steps[2]
    words = pacing.CountWords.from_prompts(content.prompts("en-US").table)

    seen = [step.hold]
    for _ in range(8):
        changed = chat.utter(word).asks().at_step("morning", 2)
        if said_one_of(changed, f"pace.at_{'longest' if longer else 'shortest'}"):
            break
        seen.append(hold_seconds_said(changed))
        says_one_of(changed, "pace.redo_question")
    else:
        pytest.fail(f"'{word}' never reached its limit: {seen}")
    assert len(seen) >= 3, f"'{word}' should change the hold more than once: {seen}"
    expected = sorted(seen, reverse=not longer)
    assert seen == expected and len(set(seen)) == len(seen), seen
    assert all(step.min_hold <= s <= step.max_hold for s in seen), (seen, step)

    # Saying yes does the stretch again with the new hold, counted for its new length.
    redo = chat.utter("yes").says("Step 3 of 7").asks().at_step("morning", 2)
    new = seen[-1]
    assert pacing.hold_ssml(new, pacing.style_for(new), words) in redo.ssml
    assert pacing.hold_ssml(step.hold, pacing.style_for(step.hold), words) not in redo.ssml
    # One more asks nothing new: the limit holds.
    says_one_of(chat.utter(word), f"pace.at_{'longest' if longer else 'shortest'}").asks()
    # "next" moves on; the next step is held at the person's new pace as well.
    nxt = chat.utter("next").says("Step 4 of 7").at_step("morning", 3)
    held = routine.get("morning").steps[3].hold_for(redo.profile["prefs"]["hold_scale"])
    assert pacing.hold_ssml(held, pacing.style_for(held), words) in nxt.ssml


def test_longer_is_remembered_for_the_next_session(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    scale = chat.utter("make it longer").profile["prefs"]["hold_scale"]
    assert scale > 1
    chat.utter("stop").ended()
    chat.wait(days=1)
    assert chat.utter(OPEN).profile["prefs"]["hold_scale"] == scale


def test_that_hurts_stops_advises_and_yes_gives_the_easier_version(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next")
    hurt = chat.utter("that hurts").asks().at_step("morning", 1)
    for key in ("hurt.stop", "hurt.advice", "hurt.offer"):
        says_one_of(hurt, key)
    easier = says_one_of(chat.utter("yes"), "hurt.easier_intro").says("Step 2 of 7").asks()
    easier.at_step("morning", 1)
    tilt = content.movements("en-US")["pelvic_tilt"]
    assert any(line in easier.text for line in tilt["easier"])
    assert not any(line in easier.text for line in tilt["movement"])
    # Repeat keeps the easier version.
    says_one_of(chat.utter("repeat"), "hurt.easier_intro").says("Step 2 of 7")


def test_that_hurts_then_skip_moves_on_to_the_next_step(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    says_one_of(chat.utter("ouch"), "hurt.stop").asks().at_step("morning", 0)
    skipped = says_one_of(chat.utter("skip"), "navigate.skipped").says("Step 2 of 7").asks()
    assert not any(line.lower() in skipped.text.lower() for line in one_of("hurt.easier_intro"))


def test_that_hurts_outside_a_routine_is_careful_and_starts_nothing(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    hurt = says_one_of(chat.utter("it hurts"), "hurt.outside").does_not_say("Step").asks()
    assert "routine" not in hurt.state["coach"]


@pytest.mark.parametrize("leave", ["stop", "cancel", "goodbye"])
def test_stop_closes_the_session_in_and_out_of_a_routine(talk: Talk, leave: str) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    chat.utter(leave).ended().does_not_say("?")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next")
    says_one_of(chat.utter(leave).ended(), "goodbye.stop")
    # The unfinished routine is offered next time.
    chat.wait(minutes=30)
    chat.utter(OPEN).says("step 2").asks()


# -- help, fallback and the unexpected ------------------------------------------------------


def test_help_and_fallback_outside_a_routine_offer_the_menu(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    helped = chat.utter("help").says("lying in bed", "morning stretch", "bedtime stretch").asks()
    assert helped.text.lower().count("morning stretch") == 1, "the menu is said once, not twice"
    says_one_of(chat.utter("purple monkey dishwasher"), "fallback.first").says("stretch").asks()
    chat.intent("SomeIntentFromTheFutureIntent", thing="x").asks()
    chat.intent("AMAZON.NavigateHomeIntent").ended()


def test_help_and_fallback_inside_a_routine_keep_the_place(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next").at_step("morning", 1)
    helped = says_one_of(chat.utter("what can i say"), "help.in_routine").asks()
    helped.at_step("morning", 1)
    missed = says_one_of(chat.utter("purple monkey dishwasher"), "fallback.first")
    missed.says("next").asks().at_step("morning", 1)
    chat.intent("SomeIntentFromTheFutureIntent").asks().at_step("morning", 1)
    chat.utter("next").says("Step 3 of 7").at_step("morning", 2)


def test_a_question_mid_routine_returns_to_the_same_place(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    chat.utter("next").at_step("morning", 1)
    answer = chat.utter("why is my back worse in the morning").asks().at_step("morning", 1)
    says_one_of(answer, "routine.next_question")
    chat.utter("yes").says("Step 3 of 7")


@pytest.mark.parametrize("hostile", ['& < " > \'', "<speak>", "]]>&amp;", "", "   "])
def test_hostile_slot_values_are_answered_safely(talk: Talk, hostile: str) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    for intent, slot in [("QuestionIntent", "query"), ("StartRoutineIntent", "routine"),
                         ("CountingStyleIntent", "style"), ("VoiceStyleIntent", "voice"),
                         ("RoutineLengthIntent", "length"), ("SetReminderIntent", "time")]:
        chat.intent(intent, **{slot: hostile})
    assert all(t.text for t in chat.turns)  # the talk fixture checks escaping and the rest


# -- requests that say nothing back -------------------------------------------------------


@pytest.mark.parametrize("reason", ["USER_INITIATED", "EXCEEDED_MAX_REPROMPTS", "ERROR"])
def test_session_ended_gets_no_speech(talk: Talk, reason: str) -> None:
    chat = talk(at="07:00")
    chat.utter("ask bedside back coach to start my morning stretch")
    error = {"type": "INVALID_RESPONSE", "message": "boom"} if reason == "ERROR" else None
    ended = chat.end(reason, error=error).silent()
    assert response_errors(ended.envelope, request_type="SessionEndedRequest") == []


def test_exception_encountered_gets_no_speech(talk: Talk) -> None:
    chat = talk(at="07:00")
    envelope = chat.envelope({
        "type": "System.ExceptionEncountered",
        "error": {"type": "INVALID_RESPONSE", "message": "SSML error"},
        "cause": {"requestId": "amzn1.echo-api.request.1"},
    })
    del envelope["session"]  # Alexa sends these outside any session
    turn = chat.send_envelope(envelope).silent()
    assert turn.response.get("shouldEndSession") is not False


# -- broken requests ----------------------------------------------------------------------


def _broken_envelopes(chat: Conversation) -> dict[str, object]:
    good = chat.envelope({"type": "LaunchRequest"})
    no_request = {k: v for k, v in good.items() if k != "request"}
    no_context = {k: v for k, v in good.items() if k != "context"}
    return {
        "no request": no_request,
        "request is a string": {**good, "request": "LaunchRequest"},
        "unknown request type": {**good, "request": {**good["request"], "type": "Garbage.Type"}},
        "request without a type": {**good, "request": {"requestId": "r", "locale": "en-US"}},
        "garbage timestamp": {**good, "request": {**good["request"], "timestamp": "yesterday"}},
        "intent without a name": {**good, "request": {**good["request"], "type": "IntentRequest",
                                                      "intent": {"slots": {}}}},
        "slots are a list": {**good, "request": {**good["request"], "type": "IntentRequest",
                                                 "intent": {"name": "QuestionIntent",
                                                            "slots": [1, 2]}}},
        "no context": no_context,
        "session attributes corrupted": {
            **good,
            "request": {**good["request"], "type": "IntentRequest",
                        "intent": {"name": "AMAZON.NextIntent"}},
            "session": {**good["session"], "new": False, "attributes": {
                "coach": {"routine": "marathon", "step": "seven", "pending": 5, "said": None,
                          "spoken": "then", "repeat": [1]},
                "profile": "not a dict", "tz": 7}},
        },
        "unknown locale": {**good, "request": {**good["request"], "locale": "xx-YY"}},
        "empty object": {},
        "not even an object": ["LaunchRequest"],
    }


def test_malformed_envelopes_get_a_spoken_answer_never_an_exception(talk: Talk) -> None:
    chat = talk(at="07:00")
    problems = []
    for name, envelope in _broken_envelopes(chat).items():
        answer = app.handler(envelope, None)  # type: ignore[arg-type]
        json.dumps(answer)
        errors = response_errors(answer)
        response = answer.get("response") or {}
        if errors or response.get("shouldEndSession") is not False:
            problems.append(f"{name}: {errors or response}")
    assert not problems, "\n".join(problems)


# -- whose skill is this ------------------------------------------------------------------


def test_a_request_for_another_skill_is_refused(talk: Talk, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    monkeypatch.setenv("SKILL_ID", SKILL_ID)
    ours = app.build_skill(skill_id=SKILL_ID)
    mine = talk(at="07:00", handler=lambda event, ctx: app.invoke(ours, event, ctx))
    mine.utter(OPEN).says("Good morning").asks()

    stranger = Conversation(at="07:00", skill_id="amzn1.ask.skill.someone-else")
    with pytest.raises(AskSdkException, match="Skill ID"):
        app.invoke(ours, stranger.envelope({"type": "LaunchRequest"}))
    # The Lambda handler, built from SKILL_ID in the environment, refuses it too.
    with pytest.raises(AskSdkException, match="Skill ID"):
        app.handler(stranger.envelope({"type": "LaunchRequest"}), None)
    assert app.handler(mine.envelope({"type": "LaunchRequest"}), None)["response"]


def test_conversation_helper_carries_the_session_like_alexa(talk: Talk) -> None:
    """The helper itself: attributes go back, `new` only first, a closed session starts anew."""
    chat = talk(at="07:00", on=date(2024, 3, 5), nothing_to_declare=False)
    first = chat.utter(OPEN)
    second = chat.utter("yes")
    assert first.request["session"]["new"] is True
    assert second.request["session"]["new"] is False
    assert second.request["session"]["sessionId"] == first.request["session"]["sessionId"]
    assert second.request["session"]["attributes"] == first.state
    closing = chat.utter("stop").ended()
    after = chat.utter(OPEN)
    assert after.request["session"]["new"] is True
    assert after.request["session"]["sessionId"] != closing.request["session"]["sessionId"]
    assert after.request["session"]["attributes"] == {}
