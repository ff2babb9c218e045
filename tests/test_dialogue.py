"""A conversation that keeps track: what "yes", "no", "not yet", "I'm done", "um" and silence mean
to every open question, at bedtime and across days. Through the Lambda handler, as a sleepy
person would have it (see tests/conversation.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from skill.core import content, conversation, speech
from skill.core.conversation import offers
from skill.core.conversation.words import Words
from tests.conversation import Conversation, Turn, line_patterns
from tools import rules

Talk = Callable[..., Conversation]
OPEN = "open bedside back coach"
WAIT_BREAK = '<break time="10000ms"/>'


def morning_at_step_two(talk: Talk, **options: Any) -> Conversation:
    chat = talk(at="07:00", **options)
    chat.utter("ask bedside back coach to start my morning stretch").at_step("morning", 0)
    chat.utter("next").at_step("morning", 1).says_line("routine.next_question")
    return chat


def steps_said(turn: Turn) -> int:
    return len(re.findall(r"\bstep \d+\b", turn.text.lower()))


# -- not yet, hold on: a real wait, and the same question ----------------------------------------


@pytest.mark.parametrize("words", ["not yet", "hold on", "give me a second", "no"])
def test_not_yet_waits_and_then_asks_again(talk: Talk, words: str) -> None:
    chat = morning_at_step_two(talk)
    waited = chat.utter(words).says_line("wait.lead").asks().at_step("morning", 1)
    assert WAIT_BREAK in waited.ssml, "waiting is ten seconds of quiet, then the question"
    assert steps_said(waited) == 0, "nothing moves on while the person is not ready"
    waited.says_line("routine.next_short")
    assert waited.reprompt, "the reprompt says how to carry on"
    assert any(p.search(waited.reprompt.lower()) for p in line_patterns("wait.reprompt"))
    chat.utter("yes").says("Step 3 of 7").at_step("morning", 2)


def test_waiting_outside_a_routine_keeps_the_offer(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN).says_line("offer.morning")
    chat.utter("not yet").says_line("wait.lead").asks()
    chat.utter("yes").says("Step 1 of 7")


# -- I'm done, that's enough: end kindly ---------------------------------------------------------


@pytest.mark.parametrize("words", ["i'm done", "that's enough", "finish"])
def test_done_ends_the_routine_kindly_and_leaves_nothing_to_resume(talk: Talk, words: str
                                                                   ) -> None:
    chat = morning_at_step_two(talk)
    chat.utter(words).ended().says_line("goodbye.done").does_not_say("Step")
    chat.wait(minutes=10)
    chat.utter(OPEN).does_not_say_line("resume.question").says_line("offer.morning")


# -- an either/or question takes either answer by name -----------------------------------------


@pytest.mark.parametrize(("answer", "expect"), [("the easier one", "hurt.easier_intro"),
                                                ("easier", "hurt.easier_intro"),
                                                ("skip it", "navigate.skipped")])
def test_that_hurts_offers_a_choice_and_takes_it_by_name(talk: Talk, answer: str, expect: str
                                                         ) -> None:
    chat = morning_at_step_two(talk)
    chat.utter("that hurts").says_line("hurt.offer").asks().at_step("morning", 1)
    chosen = chat.utter(answer).says_line(expect).asks()
    chosen.at_step("morning", 1 if expect == "hurt.easier_intro" else 2)


def test_a_question_in_between_keeps_the_choice_open(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    chat.utter("that hurts").says_line("hurt.offer")
    aside = chat.utter("why is my back worse in the morning").asks().at_step("morning", 1)
    aside.says_line("hurt.offer")
    chat.utter("the easier one").says_line("hurt.easier_intro").at_step("morning", 1)


def test_hurting_again_offers_to_stop_for_today(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    first = chat.utter("that hurts").says_line("hurt.advice")
    second = chat.utter("that hurts").says_line("hurt.again")
    second.says_line("hurt.stop_today_question").asks().at_step("morning", 1)
    assert len(second.text) < len(first.text), "the second time is not the same long paragraph"
    chat.utter("yes").ended().says_line("hurt.stopped_for_today")
    chat.wait(hours=1)
    chat.utter(OPEN).does_not_say_line("resume.question")


def test_no_to_an_either_or_question_asks_which_by_name(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    chat.utter("that hurts").says_line("hurt.offer")
    which = chat.utter("no").says_line("clarify.lead").says_line("hurt.short").asks()
    which.at_step("morning", 1)
    assert steps_said(which) == 0
    chat.utter("skip it").says_line("navigate.skipped").at_step("morning", 2)


def test_no_to_stopping_for_today_goes_back_to_the_choice(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    chat.utter("ouch")
    chat.utter("ouch").says_line("hurt.stop_today_question")
    chat.utter("no").says_line("hurt.offer").asks().at_step("morning", 1)


# -- no never goes on -----------------------------------------------------------------------------


def test_no_to_shall_we_go_on_never_goes_on(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    for _ in range(4):  # "shorter" until the hold cannot get shorter
        chat.utter("shorter").at_step("morning", 1)
    at_limit = chat.utter("shorter").says_line("pace.at_shortest")
    at_limit.asks().at_step("morning", 1)
    refused = chat.utter("no").at_step("morning", 1)
    assert steps_said(refused) == 0, refused
    refused.asks()


def test_no_after_a_new_hold_length_does_not_move_on(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    chat.utter("longer").says_line("pace.redo_question")
    answer = chat.utter("no").says_line("pace.from_next").asks().at_step("morning", 1)
    assert steps_said(answer) == 0
    chat.utter("yes").says("Step 3 of 7")


def test_longer_says_exactly_what_changes_and_for_how_long(talk: Talk) -> None:
    chat = morning_at_step_two(talk)  # pelvic tilts: 5 s holds
    longer = chat.utter("longer").says_line("pace.longer", old=5, seconds=6)
    assert "from now on" in longer.text.lower() or "everywhere" in longer.text.lower()


# -- hesitation and misunderstanding keep the question -------------------------------------------


@pytest.mark.parametrize("words", ["um", "hmm", "what", "sorry"])
def test_hesitation_asks_the_same_question_again(talk: Talk, words: str) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN).says_line("offer.morning")
    chat.utter(words).says_line("hesitate.lead").says_line("offer.morning").asks()
    chat.utter("yes").says("Step 1 of 7")  # the stretch it offered is not lost


def test_hesitation_mid_routine_keeps_the_place(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    chat.utter("um").says_line("routine.next_question").asks().at_step("morning", 1)
    chat.utter("yes").says("Step 3 of 7")


def test_a_second_misunderstanding_is_shorter_and_different(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    first = chat.utter("purple monkey dishwasher").says_line("fallback.first").asks()
    second = chat.utter("purple monkey dishwasher").says_line("fallback.again").asks()
    assert len(second.text) < len(first.text) and second.text != first.text
    third = chat.utter("purple monkey dishwasher").asks()
    assert third.text != second.text or third.pending == second.pending
    chat.utter("yes").says("Step 1 of 7")  # the offer survives misunderstandings


def test_many_misunderstandings_in_a_row_end_the_session_kindly(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    turns = [chat.utter("purple monkey dishwasher") for _ in range(4)]
    assert len({t.text for t in turns[:3]}) >= 2, "the same words are not said again and again"
    turns[-1].ended().says_line("fallback.give_up", invocation="bedside back coach")


def test_help_at_launch_says_the_menu_once(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    helped = chat.utter("help").says_line("help.menu").asks()
    assert speech.estimate_seconds(helped.ssml) < 18, "help is not the menu twice"


# -- bedtime lets the person fall asleep ----------------------------------------------------------


def test_bedtime_goes_on_by_itself_softly_and_never_wakes_the_sleeper(talk: Talk) -> None:
    chat = talk(at="22:00")
    turns = [chat.utter("ask bedside back coach to start my bedtime stretch")]
    assert turns[0].state["coach"]["mode"] == "continuous"
    while turns[-1].response.get("shouldEndSession") is False:
        turns[-1].asks(reprompt=False)
        turns[-1].does_not_say("still with me")
        turns.append(chat.utter("yes"))
    assert len(turns) <= 2, "as few questions as the platform allows: one check-in at most"
    turns[-1].ended().says_line("finish.bedtime")


def test_keep_going_at_bedtime_asks_nothing_extra(talk: Talk) -> None:
    chat = talk(at="22:00")
    chat.utter("ask bedside back coach to start my bedtime stretch")
    kept = chat.utter("keep going")
    kept.does_not_say("still with me")
    if kept.response.get("shouldEndSession") is False:
        kept.asks(reprompt=False)


def test_silence_in_the_last_bedtime_step_counts_as_done(talk: Talk) -> None:
    chat = talk(at="22:00")
    chat.utter("ask bedside back coach to start my bedtime stretch")
    chat.utter("no").says_line("routine.one_at_a_time")  # one step at a time from here
    step = chat.utter("yes")
    while step.state["coach"]["step"] < 3:
        step = chat.utter("yes")
    step.at_step("bedtime", 3)  # the last step, 5 of 5, is all that is left
    chat.wait(minutes=2)  # the step was spoken to the end, and the question went unanswered
    chat.end().silent()  # the person fell asleep
    chat.wait(hours=9)
    chat.utter("ask bedside back coach how am i doing").says_line(
        "progress.summary_one", total=1)


def test_last_nights_bedtime_stretch_is_never_offered_in_the_morning(talk: Talk) -> None:
    chat = talk(at="22:00")
    chat.utter("ask bedside back coach to start my bedtime stretch").at_step("bedtime", 2)
    chat.end().silent()
    chat.set_time("06:40", on=chat.now.date() + timedelta(days=1))
    morning = chat.utter(OPEN).does_not_say_line("resume.question").says_line("offer.morning")
    assert "good night" not in morning.text.lower()
    chat.utter("yes").says("Step 1 of 7").does_not_say("good night")


# -- times people say ------------------------------------------------------------------------------


def test_an_hour_without_am_or_pm_is_asked_about(talk: Talk) -> None:
    chat = talk(at="20:30")
    chat.utter(OPEN)
    asked = chat.intent("SetReminderIntent", time="07:00")  # "set a reminder for seven"
    asked.says_line("reminder.meridiem_question", hour="7").asks()
    morning = chat.intent("SetReminderIntent", time="MO")  # "in the morning"
    morning.says_line("reminder.confirm_question", time="7 a.m.", when="every morning").asks()


def test_a_time_at_night_is_confirmed_as_said(talk: Talk) -> None:
    chat = talk(at="20:30")
    chat.utter(OPEN)
    chat.intent("SetReminderIntent", time="22:30").says_line(
        "reminder.confirm_question", time="10:30 p.m.", when="every night").asks()


def test_yes_to_night_or_morning_means_the_night(talk: Talk) -> None:
    chat = talk(at="20:30")
    chat.utter(OPEN)
    chat.intent("SetReminderIntent", time="10:00").says_line("reminder.meridiem_question")
    chat.utter("yes").says_line("reminder.confirm_question", time="10 p.m.")


# -- the same script every day? no ----------------------------------------------------------------


COUNT_WORDS = set(content.prompts("en-US").raw("count.numbers")) | {
    "halfway", "breathe in", "breathe out", "breathe"}
NAMES = {m["name"].lower() for m in content.movements("en-US").values()}


def sentences(text: str) -> list[str]:
    found = []
    for piece in re.split(r"(?<=[.?!])\s+", text):
        words = piece.strip().rstrip(".?!").lower()
        if not words:
            continue
        # Counts are not sentences: strip the counting words a hold is made of.
        kept = " ".join(w for w in words.replace(",", " ").split()
                        if w not in COUNT_WORDS and w not in ("to", "go"))
        if kept and not any(kept == n for n in NAMES):
            found.append(kept)
    return found


def one_morning(chat: Conversation, on: date) -> list[Turn]:
    chat.set_time("07:00", on=on)
    turns = [chat.utter(OPEN), chat.utter("yes")]
    while turns[-1].response.get("shouldEndSession") is False:
        # A sixth session in two weeks moves the routine up a level: "yes" keeps it.
        turns.append(chat.utter("yes" if turns[-1].pending == ["level_up", "morning"]
                                else "next"))
        assert len(turns) < 12
    return turns


def test_seven_mornings_never_repeat_a_long_sentence_on_consecutive_days(talk: Talk) -> None:
    chat = talk(at="07:00")
    first = date(2024, 3, 4)
    said = []
    for n in range(7):
        turns = one_morning(chat, first + timedelta(days=n))
        said.append({s for t in turns for s in sentences(t.text) if len(s.split()) > 6})
    repeats = [(n + 2, sorted(said[n] & said[n + 1])) for n in range(6) if said[n] & said[n + 1]]
    assert not repeats, repeats


def test_a_line_heard_more_than_once_a_week_has_three_wordings(
    talk: Talk, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: dict[str, set[int]] = {}
    real = Words.say

    def say(self: Words, key: str, **fields: object) -> str:
        heard.setdefault(key, set()).add(self.day)
        return real(self, key, **fields)

    monkeypatch.setattr(Words, "say", say)
    chat = talk(at="07:00")
    for n in range(7):
        one_morning(chat, date(2024, 3, 4) + timedelta(days=n))
    prompts = content.prompts("en-US")
    thin = [key for key, days in heard.items() if len(days) > 1 and not key.startswith("card.")
            and isinstance(prompts.raw(key), list) and len(prompts.raw(key)) < 3]
    assert not thin, thin
    moves = content.movements("en-US")
    # Every movement, not only those of the routines as written: a person with a variant hears
    # its replacements each day just as often.
    for movement, words in moves.items():
        for field in ("position", "movement", "safety", "easier", "hold", "release", "cue"):
            assert isinstance(words[field], list) and len(words[field]) >= 3, (movement, field)


def mornings_in_the_core(days: int) -> list[list[conversation.Reply]]:
    """The morning stretch on ``days`` consecutive mornings, "yes" then "next" to the end, for
    one person (the profile carries over): the coach's replies, with their screens."""
    profile = conversation.Profile.from_dict({"body_asked": "2024-03-01"})  # checked before
    replies = []
    for n in range(days):
        now = datetime(2024, 3, 4, 7, 0, tzinfo=ZoneInfo("America/New_York")) + timedelta(days=n)
        ctx = conversation.Context("en-US", now)
        session = conversation.Session()
        said = [conversation.respond(conversation.Event("Launch"), session, profile, ctx)]
        said.append(conversation.respond(conversation.Event("AMAZON.YesIntent"), session,
                                         profile, ctx))
        while not said[-1].end_session:
            assert len(said) < 12, said[-1]
            said.append(conversation.respond(conversation.Event("AMAZON.NextIntent"), session,
                                             profile, ctx))
        replies.append(said)
    return replies


def setup_and_holds(replies: list[conversation.Reply]) -> tuple[float, list[int]]:
    """The seconds spoken before each step's first hold (its setup), summed, and the holds."""
    setup, holds = 0.0, []
    for reply in replies:
        if isinstance(reply.screen, conversation.StepsScreen):
            for shown in reply.screen.steps:
                setup += shown.hold_starts[0]
                holds += [shown.seconds] * shown.holds
    return setup, holds


def test_a_regular_hears_short_cues_and_the_same_holds(record_property: Any) -> None:
    days = mornings_in_the_core(5)
    day_one, day_one_holds = setup_and_holds(days[0])
    day_five, day_five_holds = setup_and_holds(days[4])
    record_property("setup_seconds_day_1", round(day_one, 1))
    record_property("setup_seconds_day_5", round(day_five, 1))
    print(f"\nspoken setup before the holds: day 1 {day_one:.1f} s, day 5 {day_five:.1f} s"
          f" ({1 - day_five / day_one:.0%} shorter)")
    assert day_five <= 0.6 * day_one, (day_one, day_five)
    assert day_five_holds == day_one_holds and day_one_holds, "holds are unchanged"


def test_explain_it_again_gives_the_full_setup_to_a_regular(talk: Talk) -> None:
    chat = talk(at="07:00")
    for n in range(3):
        one_morning(chat, date(2024, 3, 4) + timedelta(days=n))
    chat.set_time("07:00", on=date(2024, 3, 7))
    chat.utter(OPEN)
    short = chat.utter("yes")
    breath = content.movements("en-US")["settle_breath"]
    assert not any(line in short.text for line in breath["position"]), "a short cue"
    assert any(line in short.text for line in breath["cue"])
    full = chat.utter("explain it again").at_step("morning", 0)
    assert any(line in full.text for line in breath["position"])


def test_a_returning_person_is_welcomed_back(talk: Talk) -> None:
    chat = talk(at="07:00")
    one_morning(chat, date(2024, 3, 4))
    chat.set_time("07:00", on=date(2024, 3, 5))
    chat.utter(OPEN).says_line("greeting.morning_back")


def test_a_first_routine_ends_in_order(talk: Talk) -> None:
    chat = talk(at="07:00")
    last = one_morning(chat, date(2024, 3, 4))[-1].says_line("finish.first_ever")
    said = last.text.lower()
    done = next(m.start() for p in line_patterns("finish.morning") if (m := p.search(said)))
    first = next(m.start() for p in line_patterns("finish.first_ever") if (m := p.search(said)))
    assert done < first, "done first, then 'your first one'"


# -- every open question, every kind of answer ---------------------------------------------


ROUTINE_OFFERS = [name for name, offer in offers.OFFERS.items() if offer.routine]
ANSWERS = {"yes": "AMAZON.YesIntent", "no": "AMAZON.NoIntent", "wait": "WaitIntent",
           "done": "EndRoutineIntent", "hesitate": "HesitationIntent",
           "misheard": "AMAZON.FallbackIntent"}
ARGS = {"start": "morning", "reminder": "22:00", "meridiem": "07:00",
        "which": "mattress|sleeping_position"}


def posed(talk: Talk, offer: str) -> Conversation:
    """A session left with ``offer`` open, at step 3 of the morning stretch where it is a
    routine's question, with an unfinished routine to offer where it is "resume"."""
    chat = talk(at="07:00", nothing_to_declare=False)
    chat.utter(OPEN)  # a real session, then the question it is left with
    state = dict(chat.attributes)
    coach = {"mode": "guided", "step": 2,
             "pending": [offer, ARGS.get(offer, "")]}
    if offers.OFFERS[offer].routine:
        coach["routine"] = "morning"
    state["coach"] = coach
    if offer == "resume":
        profile = dict(state["profile"])
        profile["unfinished"] = {"routine": "morning", "step": 2,
                                 "saved_at": chat.now.astimezone(UTC).isoformat()}
        state["profile"] = profile
    chat.attributes = state
    return chat


@pytest.mark.parametrize("offer", list(offers.OFFERS))
@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_open_question_survives_every_kind_of_answer(talk: Talk, offer: str,
                                                           answer: str) -> None:
    chat = posed(talk, offer)
    before = chat.attributes["coach"]
    turn = chat.intent(ANSWERS[answer])
    after = turn.state.get("coach") or {}
    open_now = turn.response.get("shouldEndSession") is False
    in_routine = offers.OFFERS[offer].routine
    if answer in ("wait", "hesitate", "misheard"):
        # Only hesitated: the session stays open, on the same question, at the same place.
        assert open_now, turn
        assert after.get("pending") == before["pending"], turn
        assert after.get("step") == before["step"] and after.get("routine") == before.get(
            "routine"), turn
    if answer == "no" and in_routine:
        assert steps_said(turn) == 0, f"'no' went on: {turn}"
        assert after.get("step") == before["step"], turn
    if answer == "done" and in_routine:
        assert not open_now and steps_said(turn) == 0, turn
    if answer == "yes" and open_now:
        assert not rules.open_session_problems(turn.text, None), turn


@pytest.mark.parametrize("offer", ROUTINE_OFFERS)
def test_silence_on_a_routine_question_keeps_the_place_for_later(talk: Talk, offer: str) -> None:
    chat = posed(talk, offer)
    chat.end().silent()
    chat.wait(minutes=20)
    chat.utter(OPEN).says_line("resume.question", step=4)


@pytest.mark.parametrize("offer", list(offers.OFFERS))
def test_every_named_choice_of_every_question_is_taken(talk: Talk, offer: str) -> None:
    for intent in offers.OFFERS[offer].choices:
        chat = posed(talk, offer)
        turn = chat.intent(intent)
        assert turn.text, (offer, intent)


# -- the red-flag screen comes first, at any point, at three levels --------------------------------


def test_an_emergency_sign_mid_routine_stops_everything_and_sends_for_help(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    said = chat.intent("QuestionIntent", query="my legs are numb and i can't control my bladder")
    said.ended().says_line("answer.red_flag_end")
    assert "emergency" in said.text.lower() or "nine one one" in said.text.lower(), said
    chat.wait(minutes=5)
    chat.utter(OPEN).does_not_say_line("resume.question")  # no stretch to go back to


def test_an_urgent_sign_sends_to_a_doctor_today_and_starts_no_stretch(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    said = chat.intent("QuestionIntent", query="i fell down the stairs and now my back hurts")
    said.ended().does_not_say("Step")
    assert "today" in said.text.lower(), said


def test_the_calm_pattern_is_a_pointer_not_an_alarm(talk: Talk) -> None:
    chat = talk(at="07:00")
    chat.utter(OPEN)
    said = chat.intent("QuestionIntent", query=(
        "i am thirty and for six months my back has been stiff for an hour every morning "
        "and it gets better when i move"))
    said.asks()
    assert "doctor" in said.text.lower(), said


def test_a_denied_sign_gets_a_kind_word_and_no_article_passage(talk: Talk) -> None:
    chat = morning_at_step_two(talk)
    said = chat.intent("QuestionIntent", query="i don't have any numbness")
    said.asks().at_step("morning", 1).says_line("routine.next_question")
    assert len(said.text.split()) < 40, "an acknowledgement, not a passage"


# -- when two answers fit, the coach asks which --------------------------------------------------


@pytest.mark.parametrize(("answer", "item"), [("the second one", "sleeping_position"),
                                              ("my sleeping position", "sleeping_position"),
                                              ("the first", "mattress")])
def test_two_close_answers_get_a_choice_question_answered_by_name(talk: Talk, answer: str,
                                                                  item: str) -> None:
    from skill.core.answers import AnswerBook

    chat = talk(at="07:00")
    chat.utter(OPEN)
    asked = chat.intent("QuestionIntent", query="is it my bed or how i sleep")
    asked.says_line("answer.which_question", first="your mattress",
                    second="your sleeping position").asks()
    chosen = chat.intent("QuestionIntent", query=answer).asks()
    short = AnswerBook.for_locale("en-US").get(item).short
    assert short.split(".")[0] in chosen.text, chosen


@pytest.mark.parametrize("words", ["it really hurts", "my back hurts when i do this one",
                                   "i've got a sharp pain"])
def test_pain_said_in_a_sentence_mid_stretch_stops_it(talk: Talk, words: str) -> None:
    chat = morning_at_step_two(talk)
    chat.utter(words).says_line("hurt.stop").says_line("hurt.offer").asks()


# -- every phrase the coach tells people to say is one the model hears -----------------------------

#: What the prompts suggest saying, the prompt that suggests it, and where the model sends it.
SUGGESTED = [
    ("ten p.m.", "reminder.need_time", "SetReminderIntent"),
    ("nine thirty p.m.", "reminder.need_time", "SetReminderIntent"),
    ("half past nine at night", "reminder.need_time_reprompt", "SetReminderIntent"),
    ("next", "routine.next_reprompt", "AMAZON.NextIntent"),
    ("I'm done", "routine.next_reprompt", "EndRoutineIntent"),
    ("morning stretch", "offer.menu", "StartRoutineIntent"),
    ("quick stretch", "offer.menu", "StartRoutineIntent"),
    ("bedtime stretch", "offer.menu", "StartRoutineIntent"),
    ("tell me more", "answer.after_reprompt", "TellMeMoreIntent"),
    ("start my stretch", "answer.after_reprompt", "StartRoutineIntent"),
    ("easier", "hurt.reprompt", "EasierIntent"),
    ("skip", "hurt.reprompt", "SkipIntent"),
    ("again", "pace.redo_reprompt", "AMAZON.RepeatIntent"),
    ("skip", "body.reprompt", "SkipIntent"),
    ("update my details", "body.done_some", "UpdateDetailsIntent"),
    ("keep it as it was", "level.keep_hint", "KeepAsItWasIntent"),
    ("forget what you know about me", "disclaimer.first", "ForgetMeIntent"),
    ("resume my stretch", "navigate.paused", "AMAZON.ResumeIntent"),
    ("why is my back stiff in the morning", "help.menu", "QuestionIntent"),
    ("why am I doing this", "help.in_routine", "WhyThisStepIntent"),
    ("keep going", "help.in_routine", "KeepGoingIntent"),
    ("that hurts", "help.in_routine", "HurtIntent"),
]


@pytest.mark.parametrize(("words", "key", "intent"), SUGGESTED)
def test_what_the_coach_tells_people_to_say_is_heard(words: str, key: str,
                                                    intent: str | None) -> None:
    from tests.conversation import resolve

    lines = content.prompts("en-US").raw(key)
    said = " ".join([lines] if isinstance(lines, str) else lines).lower()
    assert words.lower().rstrip("?") in said, f"{key} no longer suggests {words!r}"
    heard, slots = resolve(words)
    if intent is None:
        assert heard.startswith("AMAZON."), heard
    else:
        assert heard == intent, (words, heard, slots)
    if intent == "SetReminderIntent":
        assert slots.get("time"), slots
