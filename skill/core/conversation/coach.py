"""The coach: what to say to each thing a person does, given the session and what it remembers.

Pure Python, no ask-sdk. One :class:`Coach` lives for one turn: the shell builds it from the
session state and the profile, calls :meth:`Coach.handle`, and stores both back. Intent handlers
are methods named ``on_<Intent>``; the actions of open questions are the methods that
:mod:`offers` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from functools import cache
from typing import TYPE_CHECKING

from skill.core import content, routine, speech
from skill.core.conversation import offers, render
from skill.core.conversation.offers import OFFERS
from skill.core.conversation.records import (
    REMINDER_PERMISSION,
    AnswerScreen,
    Card,
    Context,
    Event,
    ForgetProfile,
    ReminderCancel,
    ReminderRequest,
    Reply,
    Screen,
    StepScreen,
    StepsScreen,
)
from skill.core.conversation.state import Pending, ReplaySpeech, ReplaySteps, Session, Undo
from skill.core.conversation.words import Words
from skill.core.profile import Profile
from skill.core.routine import Change, Routine

if TYPE_CHECKING:
    from skill.core.answers import AnswerBook

#: In continuous mode, chain steps until about this much speech, then check in...
CONTINUOUS_SECONDS = 110
#: ...but never chain a step that would keep the person from being asked for longer than this.
CONTINUOUS_MAX_SECONDS = 145
#: Leave room under Alexa's 8000-character limit for the closing lines.
SPEECH_BUDGET_CHARS = 7000
#: A bedtime routine runs as one or two long replies: at most this long each (Alexa's limit on
#: the audio of one response, taken as the longest a response should run).
BEDTIME_MAX_SECONDS = 240
#: A movement done on this many earlier days gets its short cue instead of the full setup.
FAMILIAR_AFTER_DAYS = 2
#: How long "not yet" waits before asking again (Alexa's longest single break).
WAIT_MS = 10_000
#: The pain check-in (zero to ten): at this or more, a suggestion to see a doctor or
#: physiotherapist and today's gentlest steps; at this or more, "has it been like this for a few
#: days?"; a rise of this much within a session steps back a level.
PAIN_SEE_SOMEONE = 8
PAIN_ASK_HOW_LONG = 7
PAIN_RISE = 2
#: Sessions of a routine within this many days, with no rise in pain, move it up a level.
PROGRESS_SESSIONS = 6
PROGRESS_DAYS = 14
#: Misunderstandings in a row before the coach stops trying for this session.
MAX_MISSES = 4


@cache
def _minutes(chosen: Routine, locale: str, pace: render.Pace) -> int:
    return render.minutes(chosen, locale, pace)


class Coach:
    def __init__(self, session: Session, profile: Profile, ctx: Context) -> None:
        self.s = session
        self.profile = profile
        self.ctx = ctx
        self.words = Words(ctx.locale, ctx.now.date().toordinal(), session.said)
        #: how to say this turn's steps again, set when this turn speaks steps
        self.replay: ReplaySteps | None = None
        #: the steps this turn speaks and when each starts in its speech
        self.spoken_steps: list[tuple[int, float]] = []
        self.spoken_seconds = 0.0

    # -- saying things ------------------------------------------------------------------------

    def say(self, key: str, **fields: object) -> str:
        return self.words.say(key, **fields)

    @property
    def routine(self) -> Routine | None:
        rid = self.s.routine
        if rid is None or rid not in content.structure()["routines"]:  # routine.ids()
            return None
        return self.assembled(rid)

    def assembled(self, routine_id: str, level: int | None = None) -> Routine:
        """The routine for this person: their variants, their level, the movements they find
        easier, and today's gentlest steps if the back is bad today."""
        profile = self.profile
        return routine.assemble(
            routine_id, frozenset(profile.body),
            profile.levels.get(routine_id, 0) if level is None else level,
            frozenset(profile.easier.get(routine_id, ())), self.s.gentlest)

    def title(self, routine_id: str) -> str:
        return self.say(f"routine.title.{routine_id}")

    def bedtime(self) -> bool:
        """In the bedtime routine: soft, slow, and never a reprompt to wake a sleeper."""
        current = self.routine
        return bool(current and current.soft)

    def soft(self) -> bool:
        return self.profile.prefs.soft_voice or self.bedtime()

    def pace(self) -> render.Pace:
        prefs = self.profile.prefs
        return render.Pace(prefs.hold_scale, prefs.counting,
                           render.SOFT_RATE if self.soft() else 100)

    def wrap(self, parts: list[str]) -> str:
        body = " ".join(p for p in parts if p)
        return speech.speak(speech.soft(body, render.SOFT_RATE) if self.soft() else body)

    def ask(self, parts: list[str], reprompt: list[str], *, card: Card | None = None,
            screen: Screen | None = None) -> Reply:
        """An open turn: the speech ends with a question. At bedtime there is no reprompt, so
        silence ends the session quietly instead of waking the person."""
        again = None if self.bedtime() else self.wrap(reprompt)
        return Reply(self.wrap(parts), again, False, card=card, screen=screen)

    def close(self, parts: list[str], *, card: Card | None = None,
              screen: Screen | None = None) -> Reply:
        self.s.pending = None
        return Reply(self.wrap(parts), None, True, card=card, screen=screen)

    def pose(self, pending: Pending | None, parts: list[str], *, card: Card | None = None,
             screen: Screen | None = None) -> Reply:
        """Leave ``pending`` open: say ``parts`` and then its question."""
        self.s.pending = pending
        if pending is None:
            return self.menu(parts, card=card, screen=screen)
        offer = OFFERS[pending.offer]
        return self.ask(parts + [self.question(pending)], [self.prompt(offer.reprompt, pending)],
                        card=card, screen=screen)

    def prompt(self, key: str, pending: Pending) -> str:
        key = key.format(arg=pending.arg, index=pending.arg.partition("|")[0])
        return self.say(key, **self.fields(pending))

    def question(self, pending: Pending, short: bool = False) -> str:
        offer = OFFERS[pending.offer]
        return self.prompt(offer.short if short else offer.ask, pending)

    def fields(self, pending: Pending) -> dict[str, object]:
        """What the open question's wording needs filled in."""
        if pending.offer == "resume" and self.profile.unfinished:
            left = self.profile.unfinished
            return {"step": left.step + 1, "routine": self.title(left.routine)}
        if pending.offer in ("reminder", "meridiem"):
            morning = int(pending.arg[:2]) < 12 and pending.offer == "reminder"
            return {"time": spoken_time(pending.arg), "hour": spoken_hour(pending.arg),
                    "when": self.say("reminder.every_morning" if morning
                                     else "reminder.every_night")}
        if pending.offer == "which":
            first, _, second = pending.arg.partition("|")
            return {"first": self.label(first), "second": self.label(second)}
        return {}

    # -- the day --------------------------------------------------------------------------------

    def part_of_day(self) -> str:
        hour = self.ctx.now.hour
        return ("night" if hour < 4 or hour >= 23 else "morning" if hour < 12
                else "afternoon" if hour < 18 else "evening")

    def offer_for_now(self) -> str:
        hour = self.ctx.now.hour
        if 4 <= hour < 12:
            return "quick" if self.profile.prefs.length == "quick" else "morning"
        if 12 <= hour < 18:
            return "quick"
        return "bedtime"

    def greeting(self) -> str:
        back = "_back" if self.profile.history else ""
        return self.say(f"greeting.{self.part_of_day()}{back}")

    def disclaimer(self) -> list[str]:
        if self.profile.disclaimer_heard:
            return []
        self.profile.disclaimer_heard = True
        return [self.say("disclaimer.first")]

    def menu(self, lead: list[str], *, card: Card | None = None,
             screen: Screen | None = None) -> Reply:
        self.s.pending = Pending("menu")
        return self.ask(lead + [self.say("offer.menu")], [self.say("offer.menu_reprompt")],
                        card=card, screen=screen)

    def offer(self, lead: list[str], routine_id: str) -> Reply:
        return self.pose(Pending("start", routine_id), lead)

    # -- dispatch -------------------------------------------------------------------------------

    def handle(self, event: Event) -> Reply:
        if event.name == "SessionEnded":
            return self.on_SessionEnded(event)
        text = content.free_text(event.name, event.slots.get("query"), self.ctx.locale)
        if text is not None:  # an opening intent's words go back in front of what it carried
            event = Event(content.FREE_TEXT_INTENT, {"query": text})
        if event.name == "QuestionIntent":
            return self.on_QuestionIntent(event)  # the red-flag screen comes first, always
        pending = self.s.pending
        if pending is not None and pending.offer in OFFERS:
            offer = OFFERS[pending.offer]
            action = offer.choices.get(event.name)
            kind = offers.answer_class(event)
            if action is None and kind is not None:
                action = {offers.YES: offer.yes, offers.NO: offer.no, offers.WAIT: offer.wait,
                          offers.DONE: offer.done}.get(kind)
            if action is not None and (not offer.routine or self.routine is not None):
                self.s.misses = 0
                reply: Reply = getattr(self, action)(pending.arg, event)
                return reply
        handler = getattr(self, "on_" + event.name.replace("AMAZON.", "").replace(".", "_"),
                          None)
        if handler is None:
            return self.on_FallbackIntent(event)
        if event.name not in ("AMAZON.FallbackIntent", "HesitationIntent"):
            self.s.misses = 0
        reply = handler(event)
        return reply

    # -- arriving -------------------------------------------------------------------------------

    def on_Launch(self, event: Event) -> Reply:
        self.s.routine, self.s.pending = None, None
        lead = [self.greeting(), *self.disclaimer()]
        if self.resumable():
            return self.pose(Pending("resume"), lead)
        return self.offer(lead, self.offer_for_now())

    def resumable(self) -> bool:
        """An unfinished routine is offered again only at the same part of the day: last
        night's bedtime stretch is never the morning's offer."""
        left = self.profile.resume_offer(self.ctx.now.astimezone(UTC))
        if not left or left.routine not in routine.ids():
            return False
        return routine.get(left.routine).kind == routine.get(self.offer_for_now()).kind

    def on_StartRoutineIntent(self, event: Event) -> Reply:
        choice = event.slots.get("routine")
        routine_id = choice if choice in routine.ids() else self.offer_for_now()
        return self.start_with_disclaimer(routine_id, [])

    def start_offered(self, arg: str, event: Event) -> Reply:
        routine_id = arg if arg in routine.ids() else self.offer_for_now()
        return self.start_with_disclaimer(routine_id, [])

    def start_with_disclaimer(self, routine_id: str, lead: list[str]) -> Reply:
        """Start a routine, saying the disclaimer first if this person has not heard it (after
        the body check, if that comes first: the disclaimer is said once, right before)."""
        if self.profile.body_asked is None:
            return self.start(routine_id, lead)
        return self.start(routine_id, lead + self.disclaimer())

    def decline_start(self, arg: str, event: Event) -> Reply:
        if self.s.answered or self.s.pending == Pending("menu"):
            return self.goodbye(arg, event)
        return self.menu([])

    def goodbye(self, arg: str, event: Event) -> Reply:
        return self.close([self.say("goodbye.no_thanks")])

    def resume_saved(self, arg: str, event: Event) -> Reply:
        left = self.profile.unfinished
        if not left:
            return self.offer([], self.offer_for_now())
        return self.start(left.routine, [self.say("navigate.resume")], at=left.step)

    def forget_saved(self, arg: str, event: Event) -> Reply:
        self.profile.unfinished = None
        return self.offer([self.say("resume.forgotten")], self.offer_for_now())

    # -- the routine ----------------------------------------------------------------------------

    def start(self, routine_id: str, lead: list[str], at: int = 0) -> Reply:
        if self.profile.body_asked is None and at == 0:
            # Once, before the first routine: is anything different about your body?
            self.profile.body_asked = self.ctx.now.date().isoformat()
            return self.pose(Pending("body", routine_id), lead)
        self.s.routine, self.s.step = routine_id, at
        chosen = self.assembled(routine_id)
        if chosen.soft:
            self.s.mode = "continuous"  # bedtime: as few questions as the platform allows
        if at == 0:
            lead = lead + [self.say("routine.start", routine=self.title(routine_id),
                                    steps=len(chosen.steps),
                                    minutes=_minutes(chosen, self.ctx.locale, self.pace()))]
        return self.steps_from(at, lead)

    def familiar(self, movement: str) -> bool:
        return self.profile.days_done(movement, self.ctx.now.date()) >= FAMILIAR_AFTER_DAYS

    def render(self, chosen: Routine, index: int, easier: bool = False,
               full: bool = False, words: Words | None = None) -> render.RenderedStep:
        movement = chosen.steps[index].movement
        return render.step(chosen, index, words or self.words, self.pace(),
                           locale=self.ctx.locale, easier=easier,
                           short=not full and self.familiar(movement))

    def steps_from(self, index: int, lead: list[str], easier: bool = False,
                   full: bool = False, said: Mapping[str, int] | None = None) -> Reply:
        """Speak step ``index`` (and, in continuous mode, the steps after it). ``said``: the
        wording counts to render with, so that "repeat" says exactly the same words again."""
        chosen = self.routine
        assert chosen is not None
        index = max(0, min(index, len(chosen.steps) - 1))
        words = Words(self.ctx.locale, self.words.day, dict(said)) if said is not None else None
        self.replay = ReplaySteps(index, easier, full,
                                  dict(said if said is not None else self.s.said))
        parts = list(lead)
        screens: list[StepScreen] = []
        rate = self.pace().rate
        spoken = speech.estimate_seconds(" ".join(parts), rate)
        #: the next step as rendered to see whether it fits, with the words that rendered it
        ahead: tuple[render.RenderedStep, Words] | None = None
        while True:
            if ahead is not None:
                # Rendered with a copy of this session's wording counts, as the coach's own
                # words would render it now: the same step, and the counts it moved on.
                step, seen = ahead
                self.words.said.update(seen.said)
            else:
                step = self.render(chosen, index, easier, full, words)
            self.spoken_steps.append((index, round(spoken, 1)))
            parts.append(step.ssml)
            screens.append(step.screen._replace(offset=round(spoken, 1)))
            spoken += step.seconds
            self.s.step = index
            easier = full = False
            last = index == len(chosen.steps) - 1
            if last or self.s.mode != "continuous":
                break
            peek = Words(self.ctx.locale, self.words.day, dict(self.s.said))
            nxt = self.render(chosen, index + 1, words=peek)
            too_long = sum(len(p) for p in parts) + len(nxt.ssml) > SPEECH_BUDGET_CHARS
            if chosen.soft:  # bedtime: as few questions as the platform allows
                overdue = spoken + nxt.seconds > BEDTIME_MAX_SECONDS
            else:
                overdue = (spoken + nxt.seconds > CONTINUOUS_MAX_SECONDS
                           or spoken >= CONTINUOUS_SECONDS)
            if too_long or overdue:
                break
            index += 1
            if words is None:  # the next step is said in the coach's own words: as `nxt` was
                ahead = (nxt, peek)
        self.spoken_seconds = spoken
        screen = StepsScreen(chosen.id, speech.plain_text(self.title(chosen.id)), self.soft(),
                             tuple(screens))
        if last:
            return self.finish(chosen, parts, screen)
        # Spoken to the end, this step is done: if the session ends now, pick up after it.
        self.profile.save_progress(chosen.id, index + 1, self.ctx.now.astimezone(UTC))
        offer = "continue" if self.s.mode == "continuous" else "next"
        return self.pose(Pending(offer), parts, screen=screen)

    def finish(self, chosen: Routine, parts: list[str], screen: StepsScreen) -> Reply:
        today = self.ctx.now.date()
        self.profile.record_completion(chosen.id, today)
        for item in chosen.steps:
            self.profile.note_done(item.movement, today)
        streak = self.profile.streak(chosen.kind, today)
        title = self.title(chosen.id)
        parts = parts + [self.say(f"finish.{chosen.id}")]
        if streak > 1:
            parts.append(self.say(f"finish.streak_{chosen.kind}", count=streak))
        elif self.profile.completed_since(today - timedelta(days=3650)) == 1:
            parts.append(self.say("finish.first_ever"))
        names = ", ".join(render.words_for(self.ctx.locale, s.movement)["name"]
                          for s in chosen.steps)
        text = speech.plain_text(self.say("card.finish_text", routine=title, steps=names))
        if streak > 1:
            text += " " + speech.plain_text(self.say("card.streak_text", count=streak))
        card = Card(speech.plain_text(self.say("card.finish_title", routine=title)).capitalize(),
                    text)
        self.s.routine = None
        if self.s.pain is not None and not chosen.soft:
            # The check-in's second half: the same question, to say the change kindly.
            return self.pose(Pending("pain_after", chosen.id), parts, card=card, screen=screen)
        level_up = self.progress(chosen.id)
        if level_up:
            return self.pose(Pending("level_up", chosen.id), parts + level_up, card=card,
                             screen=screen)
        parts.append(self.say(f"finish.{chosen.id}_after"))
        soft = chosen.soft or self.profile.prefs.soft_voice
        reply = Reply(speech.speak(speech.soft(" ".join(parts), render.SOFT_RATE) if soft
                                   else " ".join(parts)), None, True, card=card, screen=screen)
        self.s.pending = None
        return reply

    # -- who is stretching: the body check, the pain check-in, levels ----------------------------

    def body_details(self, arg: str, event: Event) -> Reply:
        self.s.body = []
        return self.pose(Pending("body_detail", f"0|{arg}"), [])

    def body_nothing(self, arg: str, event: Event) -> Reply:
        self.s.body = []
        return self.body_done(arg, [self.say("body.nothing")])

    def body_skipped(self, arg: str, event: Event) -> Reply:
        routine_id = arg.rpartition("|")[2]
        self.s.body = None
        return self.after_body(routine_id, [self.say("body.skipped")])

    def body_yes(self, arg: str, event: Event) -> Reply:
        index, _, routine_id = arg.partition("|")
        variants = routine.variant_ids()
        if self.s.body is None:
            self.s.body = []
        self.s.body.append(variants[int(index)])
        return self.body_next(int(index), routine_id)

    def body_no(self, arg: str, event: Event) -> Reply:
        index, _, routine_id = arg.partition("|")
        return self.body_next(int(index), routine_id)

    def body_next(self, index: int, routine_id: str) -> Reply:
        if index + 1 < len(routine.variant_ids()):
            return self.pose(Pending("body_detail", f"{index + 1}|{routine_id}"), [])
        chosen = self.s.body or []
        return self.body_done(routine_id, [self.say("body.done_some" if chosen
                                                    else "body.nothing")])

    def body_done(self, routine_id: str, lead: list[str]) -> Reply:
        """The answers become routine variants at once; only the variant ids are kept."""
        before = list(self.profile.body)
        self.profile.body = sorted(routine.known_variants(self.s.body or []))
        self.s.body = None
        if self.profile.body != before:
            self.s.undo = Undo(body=before)
        return self.after_body(routine_id, lead)

    def after_body(self, routine_id: str, lead: list[str]) -> Reply:
        self.profile.body_asked = self.ctx.now.date().isoformat()
        if routine_id in routine.ids():
            return self.start(routine_id, lead + self.disclaimer())
        return self.menu(lead)

    def on_UpdateDetailsIntent(self, event: Event) -> Reply:
        """ "Update my details": the body check again, replacing the answers as a whole."""
        self.s.routine = None
        return self.pose(Pending("body", ""), [self.say("body.update")])

    def pain_rating(self, event: Event) -> int | None:
        if event.name == "NoPainIntent":
            return 0
        return spoken_number(event.slots.get("rating"))

    def pain_then_start(self, arg: str, event: Event) -> Reply:
        """A rating before the routine: noted for this session only, and acted on."""
        routine_id = arg if arg in routine.ids() else self.offer_for_now()
        rating = self.pain_rating(event)
        if rating is None:
            return self.pose(self.s.pending, [self.say("pain.not_a_number")])
        self.s.pain = rating
        if rating >= PAIN_SEE_SOMEONE:
            self.s.gentlest = True
            return self.start_with_disclaimer(routine_id, [self.say("pain.high", n=rating)])
        if rating >= PAIN_ASK_HOW_LONG:
            return self.pose(Pending("pain_days", routine_id), [self.say("pain.noted")])
        return self.start_with_disclaimer(routine_id, [self.say("pain.noted")])

    def on_PainLevelIntent(self, event: Event) -> Reply:
        if self.routine is not None:  # a number mid-routine: noted, and back to the stretch
            rating = self.pain_rating(event)
            if rating is not None and rating >= PAIN_SEE_SOMEONE:
                return self.pose(self.routine_pending(), [self.say("pain.see_someone")])
            return self.pose(self.routine_pending(), [self.say("pain.noted")])
        return self.pain_then_start(self.offer_for_now(), event)

    on_NoPainIntent = on_PainLevelIntent

    def pain_for_days(self, arg: str, event: Event) -> Reply:
        self.s.gentlest = True
        return self.start_with_disclaimer(arg, [self.say("pain.for_days")])

    def pain_not_for_days(self, arg: str, event: Event) -> Reply:
        return self.start_with_disclaimer(arg, [self.say("pain.noted")])

    def pain_after(self, arg: str, event: Event) -> Reply:
        """The second rating: the change said kindly, by the usual thresholds (two points, or
        thirty percent), then acted on; the numbers are dropped when the session ends."""
        after = self.pain_rating(event)
        before = self.s.pain
        if after is None or before is None:
            return self.pain_after_skipped(arg, event)
        lead = [self.pain_change(before, after)]
        if after - before >= PAIN_RISE:
            lead += self.step_back(arg, rose=True)
        elif after >= PAIN_SEE_SOMEONE:
            lead.append(self.say("pain.see_someone"))
        else:
            lead += self.progress(arg, announce_only=True)
        return self.close(lead + [self.say(f"finish.{arg}_after")])

    def pain_after_skipped(self, arg: str, event: Event) -> Reply:
        return self.close(self.progress(arg, announce_only=True)
                          + [self.say(f"finish.{arg}_after")])

    def pain_change(self, before: int, after: int) -> str:
        change = before - after
        meaningful = abs(change) >= 2 or (before > 0 and abs(change) / before >= 0.3)
        if not meaningful:
            return self.say("pain.same")
        key = "pain.easier" if change > 0 else "pain.higher"
        return self.say(key, n=_spoken_count(abs(change)))

    def progress(self, routine_id: str, announce_only: bool = False) -> list[str]:
        """Six sessions on six days within fourteen, at this level and with no pain rise: one
        level up. The person hears what changes; "keep it as it was" puts it back."""
        if routine_id not in routine.ids():
            return []
        level = self.profile.levels.get(routine_id, 0)
        if level >= routine.max_level(routine_id):
            return []
        today = self.ctx.now.date()
        since = max(self.profile.level_since.get(routine_id, ""),
                    (today - timedelta(days=PROGRESS_DAYS - 1)).isoformat())
        # Days, not sessions: six routines in one morning are not two weeks of practice.
        done = sum(1 for day, days in self.profile.history.items()
                   if day >= since and routine_id in days)
        if done < PROGRESS_SESSIONS:
            return []
        before = self.assembled(routine_id, level)
        after = self.assembled(routine_id, level + 1)
        self.s.undo = Undo(dict(self.profile.levels), dict(self.profile.level_since))
        self.profile.levels[routine_id] = level + 1
        self.profile.level_since[routine_id] = today.isoformat()
        what = self.change_words(routine.changes(before, after))
        lines = [self.say("level.up", change=what)]
        if announce_only:
            lines.append(self.say("level.keep_hint"))
        return lines

    def change_words(self, change: Change) -> str:
        if change.added:
            name = render.words_for(self.ctx.locale, change.added[0])["name"]
            return self.say("level.added", name=name)
        return self.say("level.longer")

    def step_back(self, routine_id: str, rose: bool = False, movement: str | None = None
                  ) -> list[str]:
        """After "that hurts" or a rise in pain: one level down, the easier version of that
        movement remembered, and the count towards the next level started again."""
        self.s.undo = Undo(dict(self.profile.levels), dict(self.profile.level_since),
                           {r: list(m) for r, m in self.profile.easier.items()})
        lines = []
        level = self.profile.levels.get(routine_id, 0)
        if level > 0:
            self.profile.levels[routine_id] = level - 1
            lines.append(self.say("level.down"))
        self.profile.level_since[routine_id] = self.ctx.now.date().isoformat()
        if movement is not None:
            remembered = set(self.profile.easier.get(routine_id, ())) | {movement}
            self.profile.easier[routine_id] = sorted(remembered)
            lines.append(self.say("level.easier_kept"))
        if rose:
            lines.append(self.say("pain.rose"))
        if lines and not rose:
            lines.append(self.say("level.keep_hint"))
        return lines

    def level_kept(self, arg: str, event: Event) -> Reply:
        return self.close([self.say("level.kept"), self.say(f"finish.{arg}_after")])

    def keep_as_it_was(self, arg: str, event: Event) -> Reply:
        undone = self.undo()
        lead = [self.say("level.put_back" if undone else "level.nothing_to_undo")]
        if arg in routine.ids() and self.routine is None:
            return self.close(lead + [self.say(f"finish.{arg}_after")])
        return self.aside(lead)

    def undo(self) -> bool:
        undo = self.s.undo
        if undo is None:
            return False
        if undo.levels is not None:
            self.profile.levels = undo.levels
        if undo.level_since is not None:
            self.profile.level_since = undo.level_since
        if undo.easier is not None:
            self.profile.easier = undo.easier
        if undo.body is not None:
            self.profile.body = undo.body
        self.s.undo = None
        return True

    def on_KeepAsItWasIntent(self, event: Event) -> Reply:
        return self.keep_as_it_was("", event)

    def on_ForgetMeIntent(self, event: Event) -> Reply:
        return self.pose(Pending("forget"), [])

    def forget_everything(self, arg: str, event: Event) -> Reply:
        """ "Forget what you know about me": the whole profile, in the store too (the shell
        deletes the record and writes nothing back)."""
        self.s.pending = None
        return Reply("", None, False, effect=ForgetProfile())

    def forget_nothing(self, arg: str, event: Event) -> Reply:
        return self.menu([self.say("forget.kept")])

    def require_routine(self) -> Reply | None:
        if self.routine is None:
            return self.menu([self.say("navigate.not_in_routine")])
        return None

    def next_step(self, arg: str, event: Event) -> Reply:
        return self.require_routine() or self.steps_from(self.s.step + 1, [])

    def on_NextIntent(self, event: Event) -> Reply:
        """Always the step after the current one; "yes" and "resume" are for the same step."""
        return self.next_step("", event)

    def skip_step(self, arg: str, event: Event) -> Reply:
        return self.require_routine() or self.steps_from(
            self.s.step + 1, [self.say("navigate.skipped")])

    on_SkipIntent = lambda self, event: self.skip_step("", event)  # noqa: E731

    def on_PreviousIntent(self, event: Event) -> Reply:
        if blocked := self.require_routine():
            return blocked
        if self.s.step == 0:
            return self.steps_from(0, [self.say("navigate.back_at_start")])
        return self.steps_from(self.s.step - 1, [])

    def on_StartOverIntent(self, event: Event) -> Reply:
        if blocked := self.require_routine():
            return blocked
        return self.steps_from(0, [self.say("navigate.start_over")])

    def on_ExplainIntent(self, event: Event) -> Reply:
        """ "Explain it again": the full setup of the step, even for a familiar movement."""
        if blocked := self.require_routine():
            return blocked
        return self.steps_from(self.s.step, [], full=True)

    def interrupted_step(self) -> int:
        """Where to pick up after "pause" or "stop": the step being spoken when the person cut
        in, or the one after the last step if its speech had finished."""
        chosen = self.routine
        assert chosen is not None
        spoken = self.s.spoken
        if spoken and spoken.steps:
            elapsed = self.ctx.now.timestamp() - spoken.at
            if elapsed < spoken.seconds - 1:
                during = [i for i, offset in spoken.steps if offset <= elapsed]
                return during[-1] if during else spoken.steps[0][0]
        return min(self.s.step + 1, len(chosen.steps) - 1)

    def on_PauseIntent(self, event: Event) -> Reply:
        """Honest: Alexa cannot hold speech for later, so say what happens, keep the place in
        memory, and end the session; "resume my stretch" picks up at the interrupted step."""
        if blocked := self.require_routine():
            return blocked
        chosen = self.routine
        assert chosen is not None
        at = self.interrupted_step()
        self.profile.save_progress(chosen.id, at, self.ctx.now.astimezone(UTC))
        reply = self.close([self.say("navigate.paused", step=at + 1,
                                     invocation=self.ctx.invocation)])
        self.s.routine = None
        return reply

    def on_ResumeIntent(self, event: Event) -> Reply:
        if self.routine is not None:
            return self.steps_from(self.s.step, [self.say("navigate.resume")])
        if self.resumable():
            return self.resume_saved("", event)
        return self.offer([self.say("navigate.nothing_to_resume")], self.offer_for_now())

    def on_KeepGoingIntent(self, event: Event) -> Reply:
        self.s.mode = "continuous"
        lead = [self.say("routine.continuous_start")]
        if self.routine is None:
            return self.start_with_disclaimer(self.offer_for_now(), lead)
        pending = self.s.pending.offer if self.s.pending else ""
        replay = pending in ("redo", "hurt", "stop_today")
        return self.steps_from(self.s.step + (0 if replay else 1), lead)

    def one_at_a_time(self, arg: str, event: Event) -> Reply:
        """ "No" to "shall I keep going?": one step at a time from here, and nothing more
        until the person says so."""
        self.s.mode = "guided"
        return self.pose(Pending("next"), [self.say("routine.one_at_a_time")])

    def on_RepeatIntent(self, event: Event) -> Reply:
        last = self.s.repeat
        current = self.routine
        if isinstance(last, ReplaySteps) and current and 0 <= last.step < len(current.steps):
            return self.steps_from(last.step, [], easier=last.easier, full=last.full,
                                   said=last.said)
        if isinstance(last, ReplaySpeech):
            return Reply(last.speech, last.reprompt, False)
        return self.on_HelpIntent(event)

    # -- waiting, finishing, hesitating, misunderstanding ---------------------------------------

    def wait(self, arg: str, event: Event) -> Reply:
        """ "Not yet", "hold on": a real wait (ten seconds of quiet), then the same question."""
        pending = self.s.pending
        lead = [self.say("wait.lead"), speech.pause(WAIT_MS)]
        if pending is None:
            return self.menu(lead)
        offer = OFFERS[pending.offer]
        self.s.pending = pending
        return self.ask(lead + [self.question(pending, short=True)],
                        [self.say("wait.reprompt") if offer.routine
                         else self.prompt(offer.reprompt, pending)])

    def clarify(self, arg: str, event: Event) -> Reply:
        """ "No" to an either/or question: which of the two, by name?"""
        pending = self.s.pending
        assert pending is not None
        return self.ask([self.say("clarify.lead"), self.question(pending, short=True)],
                        [self.prompt(OFFERS[pending.offer].reprompt, pending)])

    def finish_early(self, arg: str, event: Event) -> Reply:
        """ "I'm done", "that's enough": end the routine kindly; nothing is left to resume."""
        current = self.routine
        if current is None:
            return self.goodbye(arg, event)
        self.profile.unfinished = None
        self.s.routine = None
        key = "goodbye.done_bedtime" if current.soft else "goodbye.done"
        return self.close([self.say(key)])

    def on_YesIntent(self, event: Event) -> Reply:
        """ "Yes" with no question open: back to the routine's question, or the offer."""
        if self.routine is not None:
            return self.pose(self.routine_pending(), [])
        return self.offer([], self.offer_for_now())

    def on_NoIntent(self, event: Event) -> Reply:
        """ "No" with no question open never moves anything on."""
        if self.routine is not None:
            return self.wait("", event)
        return self.menu([])

    def on_EndRoutineIntent(self, event: Event) -> Reply:
        return self.finish_early("", event)

    def on_WaitIntent(self, event: Event) -> Reply:
        return self.wait("", event)

    def on_HesitationIntent(self, event: Event) -> Reply:
        """ "Um", "what?": the open question again, shorter, never a dead end."""
        pending = self.s.pending
        if pending is None or pending.offer not in OFFERS:
            if self.routine is not None:
                return self.pose(Pending("next"), [])
            return self.menu([])
        return self.pose(pending, [self.say("hesitate.lead")])

    def on_FallbackIntent(self, event: Event) -> Reply:
        """A misunderstanding keeps the open question. The first recovery says how to answer
        it; a second is shorter and different; after several the coach lets the person go."""
        self.s.misses += 1
        pending = self.s.pending
        if pending is None or pending.offer not in OFFERS:
            pending = self.routine_pending() if self.routine else Pending("menu")
        if self.s.misses >= MAX_MISSES:
            return self.close([self.say("fallback.give_up", invocation=self.ctx.invocation)])
        self.s.pending = pending
        offer = OFFERS[pending.offer]
        if self.s.misses == 1:
            return self.ask([self.say("fallback.first"), self.prompt(offer.reprompt, pending)],
                            [self.prompt(offer.reprompt, pending)])
        return self.ask([self.say("fallback.again"), self.question(pending, short=True)],
                        [self.prompt(offer.reprompt, pending)])

    # -- holds ----------------------------------------------------------------------------------

    def change_hold(self, longer: bool) -> Reply:
        before = self.profile.prefs.hold_scale
        self.profile.prefs.hold_scale = routine.rescale(before, longer)
        key = "pace.longer" if longer else "pace.shorter"
        current = self.routine
        if current is None:
            sample = routine.get(self.offer_for_now()).steps[0]
            old = sample.hold_for(before)
            new = sample.hold_for(self.profile.prefs.hold_scale)
            if old == new:
                return self.menu([self.say("pace.at_longest_all" if longer
                                           else "pace.at_shortest_all")])
            return self.menu([self.say(key + "_menu", seconds=new)])
        step = current.steps[self.s.step]
        old, new = step.hold_for(before), step.hold_for(self.profile.prefs.hold_scale)
        if old == new:
            return self.pose(self.routine_pending(), [
                self.say("pace.at_longest" if longer else "pace.at_shortest", seconds=old)])
        return self.pose(Pending("redo"), [self.say(key, old=old, seconds=new)])

    def on_LongerIntent(self, event: Event) -> Reply:
        return self.change_hold(longer=True)

    def on_ShorterIntent(self, event: Event) -> Reply:
        return self.change_hold(longer=False)

    def redo_step(self, arg: str, event: Event) -> Reply:
        return self.steps_from(self.s.step, [])

    def new_length_next(self, arg: str, event: Event) -> Reply:
        return self.pose(Pending("next"), [self.say("pace.from_next")])

    def routine_pending(self) -> Pending:
        """The routine's own question, to return to after something said in between."""
        pending = self.s.pending
        if pending is not None and pending.offer in OFFERS and OFFERS[pending.offer].routine:
            return pending
        return Pending("continue" if self.s.mode == "continuous" else "next")

    # -- when it hurts --------------------------------------------------------------------------

    def on_HurtIntent(self, event: Event) -> Reply:
        if self.routine is None:
            self.s.pending = Pending("menu")
            return self.ask([self.say("hurt.outside"), self.say("hurt.outside_question")],
                            [self.say("offer.menu_reprompt")])
        self.s.hurts += 1
        if self.s.hurts >= 2:
            return self.pose(Pending("stop_today"), [self.say("hurt.again")])
        return self.pose(Pending("hurt"), [self.say("hurt.stop"), self.say("hurt.advice")])

    def hurt_choice(self, arg: str, event: Event) -> Reply:
        return self.pose(Pending("hurt"), [self.say("hurt.then_choose")])

    def easier_step(self, arg: str, event: Event) -> Reply:
        current = self.routine
        assert current is not None
        movement = current.steps[self.s.step].movement
        if movement not in self.s.easier:
            self.s.easier.append(movement)
        lead: list[str] = []
        if self.s.hurts:  # it hurt: remember the easier version, and step back a level
            lead = self.step_back(current.id, movement=movement)
        return self.steps_from(self.s.step, lead, easier=True)

    def on_EasierIntent(self, event: Event) -> Reply:
        return self.require_routine() or self.easier_step("", event)

    def stop_for_today(self, arg: str, event: Event) -> Reply:
        """Pain came back: stop kindly, and do not offer the rest again later today."""
        self.profile.unfinished = None
        self.s.routine = None
        return self.close([self.say("hurt.stopped_for_today")])

    # -- leaving --------------------------------------------------------------------------------

    def on_StopIntent(self, event: Event) -> Reply:
        current = self.routine
        if current is not None:
            at = self.interrupted_step()
            self.profile.save_progress(current.id, at, self.ctx.now.astimezone(UTC))
        key = "goodbye.stop_bedtime" if self.soft() else "goodbye.stop"
        reply = self.close([self.say(key)])
        self.s.routine = None
        return reply

    on_CancelIntent = on_StopIntent
    on_NavigateHomeIntent = on_StopIntent

    def on_SessionEnded(self, event: Event) -> Reply:
        """Silence, or the person left. A bedtime routine left in its last step counts as done:
        the person most likely fell asleep in it."""
        current = self.routine
        if current is not None:
            at = self.interrupted_step()
            left = self.profile.unfinished
            if current.soft and at == len(current.steps) - 1:
                self.profile.record_completion(current.id, self.ctx.now.date())
            elif left is None or (left.routine, left.step) != (current.id, at):
                # Only a place that moved is saved again: a session left open on another
                # device must not undo a routine finished here since (see profile.merge).
                self.profile.save_progress(current.id, at, self.ctx.now.astimezone(UTC))
        self.s.pending = None
        return Reply("", None, True)

    # -- help -----------------------------------------------------------------------------------

    def on_HelpIntent(self, event: Event) -> Reply:
        if self.routine:
            return self.pose(self.routine_pending(), [self.say("help.in_routine")])
        self.s.pending = Pending("menu")
        return self.ask([self.say("help.menu")], [self.say("offer.menu_reprompt")])

    # -- questions ------------------------------------------------------------------------------

    def book(self) -> AnswerBook:
        # Question answering is imported on first use: most sessions never ask, and the Lambda
        # cold start pays for every module imported up front.
        from skill.core import answers

        return answers.AnswerBook.for_locale(self.ctx.locale)

    def label(self, answer_id: str) -> str:
        found = self.book().get(answer_id)
        if found is None:
            return ""
        return speech.escape(found.label or found.topic)

    def after_answer(self, parts: list[str], answer_id: str | None, *,
                     screen: Screen | None = None) -> Reply:
        self.s.answer = answer_id
        self.s.answered = True
        if self.routine:
            return self.pose(self.routine_pending(), parts, screen=screen)
        self.s.pending = Pending("start", self.offer_for_now())
        return self.ask(parts + [self.say("answer.after")], [self.say("answer.after_reprompt")],
                        screen=screen)

    def answered(self, text: str, answer_id: str | None) -> Reply:
        screen = AnswerScreen(speech.plain_text(text), self.soft())
        return self.after_answer([text], answer_id, screen=screen)

    def on_QuestionIntent(self, event: Event) -> Reply:
        question = (event.slots.get("query") or "").strip()
        if not question:
            pending = self.s.pending
            if pending is not None and pending.offer in OFFERS:
                return self.pose(pending, [self.say("answer.empty_pending")])
            return self.menu([self.say("answer.empty")])
        from skill.core import answers, safety  # on first use, as in `book`

        found = safety.screen(question, self.ctx.locale)
        if found is not None and found.level in safety.ALARMS:
            return self.red_flag(found.advice)
        if found is not None and found.level == safety.ABSENT:
            # Denied ("no numbness"): a kind word, and no article passage about something else.
            return self.aside([speech.escape(found.advice)])
        # The calm pattern (stiffness that eases with movement, young, for months): a pointer
        # to mention it to a doctor, then the answer as usual.
        pointer = [speech.escape(found.advice)] if found is not None else []
        pending = self.s.pending
        if pending is not None and pending.offer == "which":
            chosen = self.chosen(question, pending.arg.split("|"))
            if chosen is not None:
                return self.answer_by_id(chosen)
        if self.routine is not None and safety.pain_now(question, self.ctx.locale):
            # "It really hurts" in the middle of a stretch: stop it, as "that hurts" does.
            return self.on_HurtIntent(event)
        pair = self.book().choose(question)
        if pair is not None and not pointer:
            # Two answers fit about as well: ask which, rather than guess.
            first, second = pair
            return self.pose(Pending("which", f"{first.id}|{second.id}"), [])
        answer = self.book().match(question)
        if answer is None:
            answers.log_unanswered(question)
            lead = pointer + [self.say("answer.unknown")]
            if self.routine:
                return self.pose(self.routine_pending(), lead)
            self.s.pending = Pending("menu")
            return self.ask(lead + [self.say("answer.unknown_question")],
                            [self.say("answer.after_reprompt")])
        return self.answered(" ".join(pointer + [speech.escape(answer.short)]), answer.id)

    def red_flag(self, advice: str) -> Reply:
        """Emergency and urgent signs: clear advice to get help, and no stretch this session."""
        self.profile.unfinished = None
        self.s.routine = None
        return self.close([speech.escape(advice), self.say("answer.red_flag_end")])

    def chosen(self, said: str, ids: list[str]) -> str | None:
        """Which of the offered answers ``said`` names: "the first", "the second", or the words
        of one label more than the other's."""
        words = set(said.lower().replace("'", "").split())
        if words & {"first", "former", "one"} and not words & {"second", "last", "latter"}:
            return ids[0]
        if words & {"second", "last", "latter", "other"}:
            return ids[-1]
        overlap = []
        for answer_id in ids:
            found = self.book().get(answer_id)
            named = f"{getattr(found, 'label', '')} {getattr(found, 'topic', '')}".lower()
            overlap.append(len(words & {w for w in named.replace(",", " ").split()
                                        if len(w) > 3}))
        best = max(overlap, default=0)
        if best and overlap.count(best) == 1:
            return ids[overlap.index(best)]
        return None

    def first_choice(self, arg: str, event: Event) -> Reply:
        return self.answer_by_id(arg.partition("|")[0])

    def neither_choice(self, arg: str, event: Event) -> Reply:
        return self.menu([self.say("answer.which_neither")])

    def answer_by_id(self, answer_id: str) -> Reply:
        found = self.book().get(answer_id)
        if found is None:
            return self.menu([self.say("answer.no_topic")])
        return self.answered(speech.escape(found.short), found.id)

    def on_WhyThisStepIntent(self, event: Event) -> Reply:
        current = self.routine
        if current is None:
            return self.menu([self.say("answer.why_no_step")])
        movement = current.steps[self.s.step].movement
        found = self.book().for_step(movement)
        if found is not None:
            return self.answered(speech.escape(found.short), found.id)
        helps = render.words_for(self.ctx.locale, movement)["helps"]
        return self.answered(speech.escape(helps), None)

    def on_TellMeMoreIntent(self, event: Event) -> Reply:
        answer_id = self.s.answer
        found = self.book().get(answer_id) if answer_id else None
        if found is None:
            return self.menu([self.say("answer.no_topic")])
        return self.answered(speech.escape(found.more), found.id)

    # -- memory ---------------------------------------------------------------------------------

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
        return self.aside(lead)

    def aside(self, lead: list[str]) -> Reply:
        """Something said in between: then back to the routine's question, or the offer."""
        if self.routine:
            return self.pose(self.routine_pending(), lead)
        return self.offer(lead, self.offer_for_now())

    def set_pref(self, line: str) -> Reply:
        if self.routine:
            return self.pose(self.routine_pending(), [line])
        return self.menu([line])

    def on_CountingStyleIntent(self, event: Event) -> Reply:
        style = event.slots.get("style")
        if style not in ("auto", "every_second", "sparse"):
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

    # -- reminders ------------------------------------------------------------------------------

    def on_SetReminderIntent(self, event: Event) -> Reply:
        value, half = event.slots.get("time"), event.slots.get("meridiem")
        pending = self.s.pending
        if pending is not None and pending.offer == "meridiem":
            # The answer to "ten at night, or in the morning?": a part of the day ("MO", "NI",
            # "in the evening") settles the hour already heard; a whole time replaces it.
            part = half or (value if value in _VAGUE else None)
            if part:
                value, half = pending.arg, part
        heard = parse_time(value, half)
        if heard is None:
            return self.pose(Pending("reminder_time"), [])
        hhmm, certain = heard
        if not certain:
            return self.pose(Pending("meridiem", hhmm), [])
        return self.pose(Pending("reminder", hhmm), [])

    def evening_reminder(self, arg: str, event: Event) -> Reply:
        """ "Yes" to "ten at night, or in the morning?": the evening, the usual bedtime."""
        hour, minute = (int(x) for x in arg.split(":"))
        return self.pose(Pending("reminder", f"{hour % 12 + 12:02d}:{minute:02d}"), [])

    def ask_time_again(self, arg: str, event: Event) -> Reply:
        return self.pose(Pending("reminder_time"), [])

    def no_reminder(self, arg: str, event: Event) -> Reply:
        return self.menu([self.say("reminder.not_set")])

    def create_reminder(self, arg: str, event: Event) -> Reply:
        self.s.pending = None
        if not self.ctx.reminders_permitted:
            return self.permission_needed()
        hour, minute = (int(x) for x in arg.split(":"))
        key = "reminder.text_morning" if hour < 12 else "reminder.text"
        text = speech.plain_text(self.say(key, invocation=self.ctx.invocation))
        self.s.waiting = arg
        return Reply("", None, False, effect=ReminderRequest(hour, minute, text))

    def permission_needed(self) -> Reply:
        card = Card(speech.plain_text(self.say("card.reminder_title")), "",
                    ask_permissions=(REMINDER_PERMISSION,))
        return self.close([self.say("reminder.permission")], card=card)

    def on_CancelReminderIntent(self, event: Event) -> Reply:
        if not self.profile.reminder:
            return self.menu([self.say("reminder.none_to_cancel")])
        if not self.ctx.reminders_permitted:
            return self.permission_needed()
        return Reply("", None, False, effect=ReminderCancel(self.profile.reminder))

    def on_EffectResult(self, event: Event) -> Reply:
        result = event.result
        if result is None:  # an intent of that name, not the shell's report: not ours to act on
            return self.on_FallbackIntent(event)
        effect, outcome = result.effect, result.outcome
        if isinstance(effect, ForgetProfile):
            if outcome != "ok":
                return self.menu([self.say("forget.failed")])
            fresh = Profile()
            for name in Profile.__slots__:
                setattr(self.profile, name, getattr(fresh, name))
            return self.close([self.say("forget.done")])
        if outcome == "permission":
            return self.permission_needed()
        if isinstance(effect, ReminderRequest):
            hhmm = self.s.waiting or "22:00"
            self.s.waiting = None
            if outcome == "ok":
                self.profile.reminder = result.token
                lead = [self.say("reminder.done", time=spoken_time(hhmm),
                                 when=self.say("reminder.every_morning" if int(hhmm[:2]) < 12
                                               else "reminder.every_night"))]
            else:
                lead = [self.say("reminder.failed")]
        elif outcome == "ok":
            self.profile.reminder = None
            lead = [self.say("reminder.cancelled")]
        else:
            lead = [self.say("reminder.cancel_failed")]
        return self.menu(lead)


# -- times ------------------------------------------------------------------------------------

#: AMAZON.TIME's vague values, and the words for the half of the day a person names.
_VAGUE = {"EV": "21:00", "NI": "22:00", "AF": "15:00", "MO": "08:00"}
_EVENING = {"pm", "p.m.", "p m", "evening", "in the evening", "night", "at night", "tonight",
            "EV", "NI", "AF", "afternoon", "in the afternoon"}
_MORNING = {"am", "a.m.", "a m", "morning", "in the morning", "MO"}


def parse_time(value: str | None, meridiem: str | None = None) -> tuple[str, bool] | None:
    """An AMAZON.TIME value (and, if heard, which half of the day) as ("HH:MM", certain).

    An hour from one to eleven said without a.m. or p.m. is not certain: the coach asks. The
    vague values ("NI", "EV") mean a usual time in that part of the day.
    """
    if not value:
        return None
    value = value.strip()
    if value in _VAGUE:
        return _VAGUE[value], True
    try:
        hour_text, minute_text = value.split(":")[:2]
        h, m = int(hour_text), int(minute_text)
    except ValueError:
        return None
    if not (0 <= h < 24 and 0 <= m < 60):
        return None
    half = (meridiem or "").strip().lower() if meridiem else ""
    if half in {w.lower() for w in _EVENING} and h < 12:
        return f"{h + 12:02d}:{m:02d}", True
    if half in {w.lower() for w in _MORNING}:
        return f"{h % 12:02d}:{m:02d}", True
    return f"{h:02d}:{m:02d}", not 1 <= h <= 11


_NUMBER_WORDS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}
_NUMBER_WORDS.update({"nought": 0, "none": 0, "nothing": 0, "no": 0})


def spoken_number(value: str | None) -> int | None:
    """An AMAZON.NUMBER value ("7", or the word as virtual-alexa passes it) from zero to ten."""
    if not value:
        return None
    text = value.strip().lower()
    number = int(text) if text.isdigit() else _NUMBER_WORDS.get(text)
    return number if number is not None and 0 <= number <= 10 else None


def _spoken_count(n: int) -> str:
    return "one point" if n == 1 else f"{n} points"


def spoken_time(hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    suffix = "a.m." if hour < 12 else "p.m."
    hour12 = hour % 12 or 12
    return f"{hour12} {suffix}" if minute == 0 else f"{hour12}:{minute:02d} {suffix}"


def spoken_hour(hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    hour12 = hour % 12 or 12
    return f"{hour12}" if minute == 0 else f"{hour12}:{minute:02d}"
