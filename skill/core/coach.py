"""The conversation, as a pure function: (event, session state, context) -> reply.

No ask-sdk here. The Alexa shell turns each request into an :class:`Event`, passes the session
attributes as ``state`` (a JSON-able dict this module owns), and turns the :class:`Reply` into a
response. What "yes" means at any moment is kept in ``state["expect"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any, NamedTuple

from skill.core import content, pacing, routine, speech
from skill.core.profile import Profile

#: In continuous mode, chain steps until about this much speech, then check in...
CONTINUOUS_SECONDS = 110
#: ...but never chain a step that would keep the person from being asked for longer than this.
CONTINUOUS_MAX_SECONDS = 145
#: Leave room under Alexa's 8000-character limit for the closing lines.
SPEECH_BUDGET_CHARS = 7000
SOFT_RATE = 90


class Event(NamedTuple):
    """What the person did: "Launch", an intent name, "SessionEnded" or "EffectResult"."""

    name: str
    slots: Mapping[str, str] = MappingProxyType({})


class Context(NamedTuple):
    locale: str
    now: datetime  # aware, in the device's time zone
    new_session: bool = False
    invocation: str = "bedside back coach"
    reminders_permitted: bool = False


class Card(NamedTuple):
    title: str
    text: str
    ask_permissions: tuple[str, ...] = ()


class Effect(NamedTuple):
    """Work the shell does with a device API; its outcome comes back as an EffectResult event."""

    kind: str  # "create_reminder" | "delete_reminder"
    data: Mapping[str, Any] = MappingProxyType({})


class Reply(NamedTuple):
    speech: str
    reprompt: str | None = None
    end_session: bool = False
    card: Card | None = None
    screen: dict[str, Any] | None = None
    effect: Effect | None = None


REMINDER_PERMISSION = "alexa::alerts:reminders:skill:readwrite"


@cache
def _count_words(locale: str) -> pacing.CountWords:
    return pacing.CountWords.from_prompts(content.prompts(locale).table)


def _answers() -> Any:
    """Question answering is imported on first use: most sessions never ask, and the Lambda
    cold start pays for every module imported up front."""
    from skill.core import answers

    return answers


def _safety() -> Any:
    from skill.core import safety

    return safety


def respond(event: Event, state: dict[str, Any], ctx: Context) -> Reply:
    """Answer one event. ``state`` is updated in place and must be kept for the next turn."""
    coach = _Coach(state, ctx)
    reply = coach.handle(event)
    state["profile"] = coach.profile.to_dict()
    state["turn"] = coach.seed + 1
    if coach.replay is not None:
        state["last"] = coach.replay
    elif event.name != "AMAZON.RepeatIntent" and reply.reprompt:
        # Steps are re-rendered on "repeat" rather than stored: session attributes travel
        # with every request and response, and a step's speech is thousands of characters.
        state["last"] = {"speech": reply.speech, "reprompt": reply.reprompt}
    return reply


class _Coach:
    def __init__(self, state: dict[str, Any], ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.profile = Profile.from_dict(state.get("profile"))
        self.prompts = content.prompts(ctx.locale)
        self.seed = int(state.get("turn", 0)) if isinstance(state.get("turn"), int) else 0
        self.words = _count_words(ctx.locale)
        #: how to say the last step again, set when this turn speaks steps
        self.replay: dict[str, Any] | None = None

    # -- small helpers -------------------------------------------------------------------

    def say(self, key: str, **fields: object) -> str:
        return self.prompts.say(key, self.seed, **fields)

    def book(self) -> Any:
        return _answers().AnswerBook.for_locale(self.ctx.locale)

    @property
    def routine(self) -> routine.Routine | None:
        rid = self.state.get("routine")
        return routine.get(rid) if rid in routine.ids() else None

    @property
    def step_index(self) -> int:
        step = self.state.get("step", 0)
        return step if isinstance(step, int) else 0

    def title(self, routine_id: str) -> str:
        return self.say(f"routine.title.{routine_id}")

    def soft(self) -> bool:
        current = self.routine
        return self.profile.prefs.soft_voice or bool(current and current.soft)

    def rate(self) -> int:
        return SOFT_RATE if self.soft() else 100

    def wrap(self, parts: list[str]) -> str:
        body = " ".join(p for p in parts if p)
        return speech.speak(speech.soft(body, SOFT_RATE) if self.soft() else body)

    def ask(self, parts: list[str], reprompt: list[str], **extra: Any) -> Reply:
        """An open turn: the speech ends with a question and there is a real reprompt."""
        return Reply(self.wrap(parts), self.wrap(reprompt), False, **extra)

    def close(self, parts: list[str], **extra: Any) -> Reply:
        self.state["expect"] = None
        return Reply(self.wrap(parts), None, True, **extra)

    def offer_for_now(self) -> str:
        hour = self.ctx.now.hour
        if 4 <= hour < 12:
            return "quick" if self.profile.prefs.length == "quick" else "morning"
        if 12 <= hour < 18:
            return "quick"
        return "bedtime"

    def greeting(self) -> str:
        hour = self.ctx.now.hour
        part = (
            "night" if hour < 4 or hour >= 23
            else "morning" if hour < 12
            else "afternoon" if hour < 18
            else "evening"
        )
        return self.say(f"greeting.{part}")

    def menu(self, lead: list[str]) -> Reply:
        self.state["expect"] = None
        return self.ask(lead + [self.say("offer.menu")], [self.say("offer.menu_reprompt")])

    def offer(self, lead: list[str], routine_id: str) -> Reply:
        self.state["expect"] = f"start:{routine_id}"
        return self.ask(
            lead + [self.say(f"offer.{routine_id}")],
            [self.say(f"offer.{routine_id}"), self.say("offer.reprompt")],
        )

    def disclaimer(self) -> list[str]:
        if self.profile.disclaimer_heard:
            return []
        self.profile.disclaimer_heard = True
        return [self.say("disclaimer.first")]

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, event: Event) -> Reply:
        handler = getattr(self, "on_" + event.name.replace("AMAZON.", "").replace(".", "_"), None)
        if handler is None:
            return self.on_FallbackIntent(event)
        return handler(event)

    # -- entry ---------------------------------------------------------------------------

    def on_Launch(self, event: Event) -> Reply:
        self.state.pop("routine", None)
        lead = self.disclaimer()
        resume = self.profile.resume_offer(self.ctx.now.astimezone(UTC))
        if resume:
            self.state["expect"] = "resume"
            step = resume["step"] + 1
            title = self.title(resume["routine"])
            return self.ask(
                [self.greeting(), *lead, self.say("resume.offer", step=step, routine=title)],
                [self.say("resume.reprompt", step=step)],
            )
        return self.offer([self.greeting(), *lead], self.offer_for_now())

    def on_StartRoutineIntent(self, event: Event) -> Reply:
        choice = event.slots.get("routine")
        routine_id = choice if choice in routine.ids() else self.offer_for_now()
        return self.start(routine_id, self.disclaimer())

    def on_SessionEnded(self, event: Event) -> Reply:
        return Reply("", None, True)

    # -- the routine ---------------------------------------------------------------------

    def start(self, routine_id: str, lead: list[str], at: int = 0) -> Reply:
        self.state.update(routine=routine_id, step=at, mode=self.state.get("mode", "guided"))
        chosen = routine.get(routine_id)
        if at == 0:
            minutes = max(2, round(self.estimate_minutes(chosen)))
            lead = lead + [
                self.say("routine.start", routine=self.title(routine_id),
                         steps=len(chosen.steps), minutes=minutes)
            ]
        return self.steps_from(at, lead)

    def estimate_minutes(self, chosen: routine.Routine) -> float:
        total = 0.0
        for i in range(len(chosen.steps)):
            total += speech.estimate_seconds(self.render_step(chosen, i)[0], self.rate())
        return total / 60

    def steps_from(self, index: int, lead: list[str], easier: bool = False) -> Reply:
        """Speak step ``index`` (and, in continuous mode, the steps after it)."""
        chosen = self.routine
        assert chosen is not None
        self.replay = {"step": index, "easier": easier}
        parts = list(lead)
        screen_steps = []
        spoken = speech.estimate_seconds(" ".join(parts), self.rate())
        while True:
            body, screen = self.render_step(chosen, index, easier)
            screen["offset"] = round(spoken, 1)
            parts.append(body)
            screen_steps.append(screen)
            spoken += speech.estimate_seconds(body, self.rate())
            self.state["step"] = index
            easier = False
            last = index == len(chosen.steps) - 1
            if last or self.state.get("mode") != "continuous":
                break
            nxt, _ = self.render_step(chosen, index + 1)
            too_long = sum(len(p) for p in parts) + len(nxt) > SPEECH_BUDGET_CHARS
            overdue = spoken + speech.estimate_seconds(nxt, self.rate()) > CONTINUOUS_MAX_SECONDS
            if spoken >= CONTINUOUS_SECONDS or too_long or overdue:
                break
            index += 1
        screen = {"kind": "steps", "routine": chosen.id, "soft": self.soft(),
                  "title": speech.plain_text(self.title(chosen.id)), "steps": screen_steps}
        if last:
            return self.finish(chosen, parts, screen)
        self.profile.save_progress(chosen.id, index, self.ctx.now.astimezone(UTC))
        if self.state.get("mode") == "continuous":
            self.state["expect"] = "continue"
            return self.ask(parts + [self.say("routine.continuous_check")],
                            [self.say("routine.continuous_reprompt")], screen=screen)
        self.state["expect"] = "next"
        return self.ask(parts + [self.say("routine.next_question")],
                        [self.say("routine.next_reprompt")], screen=screen)

    def render_step(
        self, chosen: routine.Routine, index: int, easier: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """One step as SSML (without the closing question) and what a screen should show."""
        step = chosen.steps[index]
        words = content.movements(self.ctx.locale)[step.movement]
        esc = speech.escape
        seconds = step.hold_for(self.profile.prefs.hold_scale * (0.7 if easier else 1.0))
        style = pacing.style_for(seconds, self.profile.prefs.counting)
        hold = pacing.hold_ssml(seconds, style, self.words, self.rate())
        parts = [self.say("routine.step_intro", n=index + 1, total=len(chosen.steps),
                          name=words["name"])]
        if easier:
            parts.append(self.say("hurt.easier_intro"))
        parts += [esc(words["position"]), esc(words["easier" if easier else "movement"]),
                  esc(words["safety"])]
        # When each hold begins, in estimated seconds from the start of the step: the screen
        # counts each hold down from there.
        hold_starts: list[float] = []
        rate = self.rate()
        elapsed = speech.estimate_seconds(" ".join(parts), rate)
        hold_seconds = speech.estimate_seconds(hold, rate)

        def add(piece: str, seconds: float | None = None) -> None:
            nonlocal elapsed
            parts.append(piece)
            elapsed += speech.estimate_seconds(piece, rate) if seconds is None else seconds

        sides = [self.say("routine.first_side"), self.say("routine.second_side")]
        for side in sides if step.sides else [""]:
            if side:
                add(side)
            for rep in range(step.reps):
                if rep:
                    add(self.say("routine.rep_again"))
                add(esc(words["hold"]))
                hold_starts.append(round(elapsed, 2))
                add(hold, hold_seconds)
                add(esc(words["release"]))
                if step.rest and rep < step.reps - 1:
                    add(speech.pause(step.rest * 1000))
        screen = {"index": index + 1, "total": len(chosen.steps), "name": words["name"],
                  "movement": step.movement,
                  "instruction": words["easier" if easier else "movement"],
                  "seconds": seconds, "holds": len(hold_starts), "hold_starts": hold_starts}
        return " ".join(parts), screen

    def finish(self, chosen: routine.Routine, parts: list[str], screen: dict) -> Reply:
        today = self.ctx.now.date()
        self.profile.record_completion(chosen.id, today)
        streak = self.profile.streak(chosen.kind, today)
        title = self.title(chosen.id)
        parts = parts + [self.say(f"finish.{chosen.id}")]
        if streak > 1:
            parts.insert(len(parts) - 1, self.say(f"finish.streak_{chosen.kind}", count=streak))
        elif self.profile.completed_since(today - timedelta(days=3650)) == 1:
            parts.insert(len(parts) - 1, self.say("finish.first_ever"))
        names = ", ".join(
            content.movements(self.ctx.locale)[s.movement]["name"] for s in chosen.steps
        )
        text = speech.plain_text(self.say("card.finish_text", routine=title, steps=names))
        if streak > 1:
            text += " " + speech.plain_text(self.say("card.streak_text", count=streak))
        card = Card(speech.plain_text(self.say("card.finish_title", routine=title)).capitalize(),
                    text)
        screen = dict(screen, finished=True)
        reply = self.close(parts, card=card, screen=screen)  # still in the routine's voice
        self.state.pop("routine", None)
        return reply

    def require_routine(self) -> Reply | None:
        if self.routine is None:
            return self.menu([self.say("navigate.not_in_routine")])
        return None

    def on_NextIntent(self, event: Event) -> Reply:
        """Always the step after the current one; "yes" and "resume" are for the same step."""
        return self.require_routine() or self.steps_from(self.step_index + 1, [])

    def on_SkipIntent(self, event: Event) -> Reply:
        return self.require_routine() or self.steps_from(
            self.step_index + 1, [self.say("navigate.skipped")])

    def on_PreviousIntent(self, event: Event) -> Reply:
        if blocked := self.require_routine():
            return blocked
        if self.step_index == 0:
            return self.steps_from(0, [self.say("navigate.back_at_start")])
        return self.steps_from(self.step_index - 1, [])

    def on_StartOverIntent(self, event: Event) -> Reply:
        if blocked := self.require_routine():
            return blocked
        return self.steps_from(0, [self.say("navigate.start_over")])

    def on_PauseIntent(self, event: Event) -> Reply:
        if blocked := self.require_routine():
            return blocked
        self.state["expect"] = "carry_on"
        return self.ask([self.say("navigate.paused"), self.say("navigate.paused_question")],
                        [self.say("navigate.paused_reprompt")])

    def on_ResumeIntent(self, event: Event) -> Reply:
        if self.state.get("expect") == "resume":
            return self.on_YesIntent(event)
        if blocked := self.require_routine():
            return blocked
        return self.steps_from(self.step_index, [self.say("navigate.resume")])

    def on_KeepGoingIntent(self, event: Event) -> Reply:
        self.state["mode"] = "continuous"
        lead = [self.say("routine.continuous_start")]
        if self.routine is None:
            return self.start(self.offer_for_now(), self.disclaimer() + lead)
        replay = self.state.get("expect") in ("carry_on", "redo", "hurt")
        return self.steps_from(self.step_index + (0 if replay else 1), lead)

    def on_RepeatIntent(self, event: Event) -> Reply:
        last = self.state.get("last")
        if isinstance(last, dict) and isinstance(last.get("step"), int) and self.routine:
            if 0 <= last["step"] < len(self.routine.steps):
                return self.steps_from(last["step"], [], easier=last.get("easier") is True)
        if isinstance(last, dict) and last.get("speech") and last.get("reprompt"):
            return Reply(str(last["speech"]), str(last["reprompt"]), False)
        return self.on_HelpIntent(event)

    def change_hold(self, longer: bool) -> Reply:
        before = self.profile.prefs.hold_scale
        self.profile.prefs.hold_scale = routine.rescale(before, longer)
        current = self.routine
        if current is None:
            key = "pace.longer" if longer else "pace.shorter"
            seconds = routine.get(self.offer_for_now()).steps[0].hold_for(
                self.profile.prefs.hold_scale)
            return self.menu([self.say(key, seconds=seconds)])
        step = current.steps[self.step_index]
        old, new = step.hold_for(before), step.hold_for(self.profile.prefs.hold_scale)
        if old == new:
            return self.carry_on([self.say("pace.at_longest" if longer else "pace.at_shortest")])
        self.state["expect"] = "redo"
        return self.ask(
            [self.say("pace.longer" if longer else "pace.shorter", seconds=new),
             self.say("pace.redo_question")],
            [self.say("pace.redo_reprompt")],
        )

    def on_LongerIntent(self, event: Event) -> Reply:
        return self.change_hold(longer=True)

    def on_ShorterIntent(self, event: Event) -> Reply:
        return self.change_hold(longer=False)

    def on_HurtIntent(self, event: Event) -> Reply:
        if self.routine is None:
            self.state["expect"] = None
            return self.ask([self.say("hurt.outside"), self.say("hurt.outside_question")],
                            [self.say("offer.menu_reprompt")])
        self.state["expect"] = "hurt"
        return self.ask(
            [self.say("hurt.stop"), self.say("hurt.advice"), self.say("hurt.offer")],
            [self.say("hurt.reprompt")],
        )

    def on_EasierIntent(self, event: Event) -> Reply:
        return self.require_routine() or self.steps_from(self.step_index, [], easier=True)

    # -- yes and no ----------------------------------------------------------------------

    def on_YesIntent(self, event: Event) -> Reply:
        expect = self.state.get("expect") or ""
        if expect.startswith("start:"):
            return self.start(expect.split(":", 1)[1], [])
        if expect == "resume" and self.profile.unfinished:
            left = self.profile.unfinished
            self.state["routine"] = left["routine"]
            return self.start(left["routine"], [self.say("navigate.resume")], at=left["step"])
        if expect in ("next", "continue") and self.routine:
            return self.steps_from(self.step_index + 1, [])
        if expect in ("carry_on", "redo") and self.routine:
            return self.steps_from(self.step_index, [])
        if expect == "hurt" and self.routine:
            return self.steps_from(self.step_index, [], easier=True)
        if expect.startswith("reminder:"):
            return self.create_reminder(expect.split(":", 1)[1])
        if expect == "more":
            return self.on_TellMeMoreIntent(event)
        return self.menu([])

    def on_NoIntent(self, event: Event) -> Reply:
        expect = self.state.get("expect") or ""
        if expect == "resume":
            self.profile.unfinished = None
            return self.offer([], self.offer_for_now())
        if expect == "hurt" and self.routine:
            return self.steps_from(self.step_index + 1, [self.say("navigate.skipped")])
        if expect == "redo" and self.routine:
            return self.steps_from(self.step_index + 1, [])
        if expect == "continue" and self.routine:
            self.state["mode"] = "guided"
            return self.steps_from(self.step_index + 1, [])
        if expect in ("next", "carry_on") and self.routine:
            return self.on_StopIntent(event)
        if expect.startswith("reminder:"):
            self.state["expect"] = None
            return self.ask([self.say("reminder.not_set"), self.say("reminder.after")],
                            [self.say("offer.menu_reprompt")])
        if expect.startswith("start:") and self.state.get("answered"):
            return self.close([self.say("goodbye.no_thanks")])
        return self.menu([])

    # -- leaving -------------------------------------------------------------------------

    def on_StopIntent(self, event: Event) -> Reply:
        key = "goodbye.stop_bedtime" if self.soft() else "goodbye.stop"
        return self.close([self.say(key)])

    on_CancelIntent = on_StopIntent
    on_NavigateHomeIntent = on_StopIntent

    # -- help ----------------------------------------------------------------------------

    def on_HelpIntent(self, event: Event) -> Reply:
        if self.routine:
            return self.carry_on([self.say("help.in_routine")], "help.in_routine_question")
        return self.menu([self.say("help.menu")])

    def on_FallbackIntent(self, event: Event) -> Reply:
        if self.routine:
            return self.carry_on([self.say("fallback.in_routine")])
        return self.menu([self.say("fallback.menu")])

    # -- questions -----------------------------------------------------------------------

    def answered(self, text: str, answer_id: str | None) -> Reply:
        self.state["answer"] = answer_id
        self.state["answered"] = True
        screen = {"kind": "answer", "text": speech.plain_text(text)}
        if self.routine:
            return self.carry_on([text], "answer.after_in_routine", screen=screen)
        self.state["expect"] = f"start:{self.offer_for_now()}"
        return self.ask([text, self.say("answer.after")], [self.say("answer.after_reprompt")],
                        screen=screen)

    def on_QuestionIntent(self, event: Event) -> Reply:
        question = (event.slots.get("query") or "").strip()
        if not question:
            return self.ask([self.say("answer.empty")], [self.say("answer.after_reprompt")])
        flag = _safety().red_flag(question, self.ctx.locale)
        if flag and _safety().is_urgent(flag, self.ctx.locale):
            return self.red_flag(flag)
        # A symptom mentioned only to deny it ("no numbness") still earns a gentle pointer.
        pointer = [speech.escape(_safety().advice(flag, self.ctx.locale))] if flag else []
        found = self.book().match(question)
        if found is None:
            _answers().log_unanswered(question)
            lead = pointer + [self.say("answer.unknown")]
            if self.routine:
                return self.ask(lead + [self.say("answer.after_in_routine")],
                                [self.say("routine.next_reprompt")])
            self.state["expect"] = None
            return self.ask(lead + [self.say("answer.unknown_question")],
                            [self.say("answer.after_reprompt")])
        return self.answered(" ".join(pointer + [speech.escape(found.short)]), found.id)

    def red_flag(self, flag: str) -> Reply:
        """Urgent symptoms: clear advice to get help now, and no stretching in this session."""
        self.profile.unfinished = None
        self.state.pop("routine", None)
        return self.close([speech.escape(_safety().advice(flag, self.ctx.locale)),
                           self.say("answer.red_flag_end")])

    def on_WhyThisStepIntent(self, event: Event) -> Reply:
        current = self.routine
        if current is None:
            return self.menu([self.say("answer.why_no_step")])
        movement = current.steps[self.step_index].movement
        found = self.book().for_step(movement)
        if found is not None:
            return self.answered(speech.escape(found.short), found.id)
        helps = content.movements(self.ctx.locale)[movement]["helps"]
        return self.answered(speech.escape(helps), None)

    def on_TellMeMoreIntent(self, event: Event) -> Reply:
        answer_id = self.state.get("answer")
        found = self.book().get(answer_id) if answer_id else None
        if found is None:
            return self.menu([self.say("answer.no_topic")])
        return self.answered(speech.escape(found.more), found.id)

    # -- memory --------------------------------------------------------------------------

    def on_ProgressIntent(self, event: Event) -> Reply:
        today = self.ctx.now.date()
        total = self.profile.completed_since(today - timedelta(days=3650))
        lead: list[str]
        if total == 0:
            lead = [self.say("progress.none")]
        else:
            week = self.profile.completed_since(today - timedelta(days=6))
            key = "progress.summary_one" if week == 1 else "progress.summary"
            lead = [self.say(key, week=week, total=total)]
            streak = self.profile.day_streak(today)
            if streak > 1:
                lead.append(self.say("progress.streak", count=streak))
        if self.routine:
            return self.set_pref(" ".join(lead))
        return self.offer(lead, self.offer_for_now())

    def carry_on(self, parts: list[str], question: str = "routine.next_question",
                 **extra: Any) -> Reply:
        """Something said mid-routine, then back to it: "yes" still means what it meant."""
        self.state["expect"] = self.state.get("expect") or "next"
        return self.ask(parts + [self.say(question)], [self.say("routine.next_reprompt")],
                        **extra)

    def set_pref(self, lead: str) -> Reply:
        return self.carry_on([lead]) if self.routine else self.menu([lead])

    def on_CountingStyleIntent(self, event: Event) -> Reply:
        style = event.slots.get("style")
        if style not in pacing.STYLES:
            return self.on_HelpIntent(event)
        self.profile.prefs.counting = style
        return self.set_pref(self.say(f"pace.counting_{style}"))

    def on_VoiceStyleIntent(self, event: Event) -> Reply:
        voice = event.slots.get("voice")
        if voice not in ("soft", "normal"):
            return self.on_HelpIntent(event)
        self.profile.prefs.soft_voice = voice == "soft"
        return self.set_pref(self.say(f"pace.voice_{voice}"))

    def on_RoutineLengthIntent(self, event: Event) -> Reply:
        length = event.slots.get("length")
        if length not in ("quick", "full"):
            return self.on_HelpIntent(event)
        self.profile.prefs.length = length
        return self.set_pref(self.say(f"pace.length_{length}"))

    # -- reminders -----------------------------------------------------------------------

    def spoken_time(self, hhmm: str) -> str:
        hour, minute = (int(x) for x in hhmm.split(":"))
        suffix = "a.m." if hour < 12 else "p.m."
        hour12 = hour % 12 or 12
        return f"{hour12} {suffix}" if minute == 0 else f"{hour12}:{minute:02d} {suffix}"

    def on_SetReminderIntent(self, event: Event) -> Reply:
        hhmm = parse_time(event.slots.get("time"))
        if hhmm is None:
            self.state["expect"] = None
            return self.ask([self.say("reminder.need_time")],
                            [self.say("reminder.need_time_reprompt")])
        self.state["expect"] = f"reminder:{hhmm}"
        spoken = self.spoken_time(hhmm)
        return self.ask([self.say("reminder.confirm", time=spoken)],
                        [self.say("reminder.confirm_reprompt", time=spoken)])

    def create_reminder(self, hhmm: str) -> Reply:
        self.state["expect"] = None
        if not self.ctx.reminders_permitted:
            return self.permission_needed()
        hour, minute = (int(x) for x in hhmm.split(":"))
        text = speech.plain_text(self.say("reminder.text", invocation=self.ctx.invocation))
        self.state["pending"] = hhmm
        return Reply("", None, False, effect=Effect(
            "create_reminder", {"hour": hour, "minute": minute, "text": text}))

    def permission_needed(self) -> Reply:
        card = Card(speech.plain_text(self.say("card.reminder_title")), "",
                    ask_permissions=(REMINDER_PERMISSION,))
        return self.close([self.say("reminder.permission")], card=card)

    def on_CancelReminderIntent(self, event: Event) -> Reply:
        if not self.profile.reminder:
            return self.menu([self.say("reminder.none_to_cancel")])
        if not self.ctx.reminders_permitted:
            return self.permission_needed()
        return Reply("", None, False, effect=Effect(
            "delete_reminder", {"token": self.profile.reminder}))

    def on_EffectResult(self, event: Event) -> Reply:
        outcome = event.slots.get("outcome")
        kind = event.slots.get("kind")
        if outcome == "permission":
            return self.permission_needed()
        after = [self.say("reminder.after")]
        if kind == "create_reminder":
            hhmm = self.state.pop("pending", None) or "22:00"
            if outcome == "ok":
                self.profile.reminder = event.slots.get("token")
                lead = [self.say("reminder.done", time=self.spoken_time(hhmm))]
            else:
                lead = [self.say("reminder.failed")]
        else:
            if outcome == "ok":
                self.profile.reminder = None
                lead = [self.say("reminder.cancelled")]
            else:
                lead = [self.say("reminder.cancel_failed")]
        self.state["expect"] = None
        return self.ask(lead + after, [self.say("offer.menu_reprompt")])


def parse_time(value: str | None) -> str | None:
    """An AMAZON.TIME value as "HH:MM"; the vague ones ("EV", "NI") mean a usual bedtime."""
    if not value:
        return None
    vague = {"EV": "21:00", "NI": "22:00", "AF": "15:00", "MO": "08:00"}
    if value in vague:
        return vague[value]
    try:
        hour, minute = value.split(":")[:2]
        h, m = int(hour), int(minute)
    except ValueError:
        return None
    if not (0 <= h < 24 and 0 <= m < 60):
        return None
    if 1 <= h <= 11:
        # "every night at ten" reaches us as 10:00: a nightly reminder means the evening.
        # The confirmation says the time back, so a person who meant otherwise can say no.
        h += 12
    return f"{h:02d}:{m:02d}"
