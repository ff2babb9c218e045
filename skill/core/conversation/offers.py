"""Every question the coach can leave open, declared once: what each kind of answer leads to.

An answer is classified (:func:`answer_class`) as yes, no, wait ("not yet", "hold on"), done ("I'm
done", "that's enough"), or hesitation ("um", "what?"); an offer may also accept named choices (an
intent, such as "the easier one" for EasierIntent) and a number or a time. Adding an offer is one
entry in :data:`OFFERS`; its actions are methods of the coach, named here.

What no offer may do: go on after "no", close the session when the person only hesitated, or
forget itself when something else was said in between (a question, "how am I doing").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from skill.core.conversation.records import Event

YES, NO, WAIT, DONE, HESITATE = "yes", "no", "wait", "done", "hesitate"

#: Intents that are answers of a kind, whatever question is open.
_CLASSES = {
    "AMAZON.YesIntent": YES,
    "AMAZON.NoIntent": NO,
    "WaitIntent": WAIT,
    "EndRoutineIntent": DONE,
    "HesitationIntent": HESITATE,
}

_NONE: Mapping[str, str] = MappingProxyType({})


class Offer(NamedTuple):
    """An open question. ``ask`` and ``short`` are prompt keys: the question as first asked
    (and said again when the person hesitates), and a shorter recovery for a second
    misunderstanding. The rest name coach methods, each called as ``method(arg, event)``."""

    ask: str
    short: str
    reprompt: str
    yes: str
    no: str
    wait: str = "wait"
    done: str = "finish_early"
    choices: Mapping[str, str] = _NONE  # intent name -> method
    #: whether "yes" means a choice must be made first (an either/or question)
    routine: bool = False  # the offer belongs to a routine under way


OFFERS: dict[str, Offer] = {
    # "Would you like your morning stretch?" (arg: routine id)
    "start": Offer("offer.{arg}", "offer.short", "offer.reprompt",
                   yes="start_offered", no="decline_start", done="goodbye",
                   choices={"PainLevelIntent": "pain_then_start",
                            "NoPainIntent": "pain_then_start"}),
    # "Would you like your morning stretch, the quick one, or bedtime?" (no arg)
    "menu": Offer("offer.menu", "offer.menu_short", "offer.menu_reprompt",
                  yes="start_offered", no="decline_start", done="goodbye"),
    # "Last time we got as far as step 4. Shall we pick up from there?"
    "resume": Offer("resume.question", "resume.short", "resume.reprompt",
                    yes="resume_saved", no="forget_saved", done="goodbye"),
    # "Ready for the next one?" after a step (guided)
    "next": Offer("routine.next_question", "routine.next_short", "routine.next_reprompt",
                  yes="next_step", no="wait", routine=True,
                  choices={"AMAZON.NextIntent": "next_step"}),
    # "Shall I keep going?" in continuous mode: no means one at a time, never "go on"
    "continue": Offer("routine.continuous_check", "routine.continuous_short",
                      "routine.continuous_reprompt", yes="next_step", no="one_at_a_time",
                      routine=True, choices={"AMAZON.NextIntent": "next_step"}),
    # "Shall I do this one again with the new length?"
    "redo": Offer("pace.redo_question", "pace.redo_short", "pace.redo_reprompt",
                  yes="redo_step", no="new_length_next", routine=True,
                  choices={"AMAZON.NextIntent": "next_step",
                           "AMAZON.RepeatIntent": "redo_step"}),
    # "Would you like an easier version of this stretch, or shall we skip it?"
    # "No" to an either/or question could mean either: ask which, by name.
    "hurt": Offer("hurt.offer", "hurt.short", "hurt.reprompt",
                  yes="easier_step", no="clarify", routine=True,
                  choices={"EasierIntent": "easier_step", "SkipIntent": "skip_step",
                           "AMAZON.NextIntent": "skip_step"}),
    # after a second "that hurts": "Shall we stop here for today?"
    "stop_today": Offer("hurt.stop_today_question", "hurt.stop_today_short",
                        "hurt.stop_today_reprompt", yes="stop_for_today", no="hurt_choice",
                        routine=True, done="stop_for_today",
                        choices={"EasierIntent": "easier_step", "SkipIntent": "skip_step"}),
    # "I'll remind you every night at ten p.m. Shall I set that up?" (arg: "HH:MM")
    "reminder": Offer("reminder.confirm_question", "reminder.confirm_short",
                      "reminder.confirm_reprompt", yes="create_reminder", no="no_reminder"),
    # "Ten at night, or ten in the morning?" (arg: "HH:MM" as heard, before noon)
    "meridiem": Offer("reminder.meridiem_question", "reminder.meridiem_short",
                      "reminder.meridiem_reprompt", yes="evening_reminder", no="clarify"),
    # "For a nightly reminder I need a time. What time would you like?"
    "reminder_time": Offer("reminder.need_time", "reminder.need_time_short",
                           "reminder.need_time_reprompt", yes="ask_time_again",
                           no="no_reminder"),
    # The body check, once, before the first routine (arg: the routine to start after it, or
    # "" after "update my details"): "is anything different about your body?"
    "body": Offer("body.gate", "body.gate_short", "body.gate_reprompt",
                  yes="body_details", no="body_nothing", done="goodbye",
                  choices={"SkipIntent": "body_skipped"}),
    # ...then one question per variant (arg: "index|routine"): "Should I keep you off your back?"
    "body_detail": Offer("body.q{index}", "body.short", "body.reprompt",
                         yes="body_yes", no="body_no", done="goodbye",
                         choices={"SkipIntent": "body_skipped"}),
    # The pain check-in: "has it been like this for a few days?" after a seven (arg: routine)
    "pain_days": Offer("pain.days_question", "pain.days_short", "pain.days_reprompt",
                       yes="pain_for_days", no="pain_not_for_days",
                       choices={"SkipIntent": "pain_not_for_days"}),
    # ...and after the routine: "how does it feel now, from zero to ten?" (arg: routine)
    "pain_after": Offer("pain.after_question", "pain.after_short", "pain.after_reprompt",
                        yes="pain_after_skipped", no="pain_after_skipped",
                        done="pain_after_skipped",
                        choices={"PainLevelIntent": "pain_after", "NoPainIntent": "pain_after"}),
    # "From next time the holds are a little longer. Is that all right?" (arg: routine)
    "level_up": Offer("level.question", "level.short", "level.reprompt",
                      yes="level_kept", no="keep_as_it_was", done="level_kept",
                      choices={"KeepAsItWasIntent": "keep_as_it_was"}),
    # "Shall I forget everything I know about you?"
    "forget": Offer("forget.question", "forget.short", "forget.reprompt",
                    yes="forget_everything", no="forget_nothing", done="forget_nothing"),
    # "Did you mean why it's worse in the morning, or your mattress?" (arg: "id|id")
    "which": Offer("answer.which_question", "answer.which_short", "answer.which_reprompt",
                   yes="first_choice", no="neither_choice"),
}


def answer_class(event: Event) -> str | None:
    """yes / no / wait / done / hesitate, or None when the event is not such an answer."""
    return _CLASSES.get(event.name)
