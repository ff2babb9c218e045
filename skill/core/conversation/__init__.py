"""The conversation, as a pure function: (event, session state, profile, context) -> reply.

No ask-sdk here. The Alexa shell turns each request into an :class:`Event`, keeps the
:class:`Session` (typed; see :mod:`.state`) and the :class:`~skill.core.profile.Profile` between
turns, and turns the :class:`Reply` into a response. What an answer means at any moment is the
open question, :attr:`Session.pending`, declared in :mod:`.offers`.

    coach.py    the intent handlers and the actions of open questions
    offers.py   every open question, and what yes / no / not yet / done / a choice lead to
    render.py   a routine step as speech (the one place holds are rendered)
    words.py    which wording of a line to say today
    state.py    the session state and how it travels in session attributes
    records.py  the typed records crossing the boundary (Event, Context, Reply, screens, effects)
"""

from __future__ import annotations

from skill.core.conversation.coach import Coach, parse_time, spoken_time
from skill.core.conversation.records import (
    REMINDER_PERMISSION,
    AnswerScreen,
    Card,
    Context,
    Effect,
    EffectResult,
    Event,
    ForgetProfile,
    ReminderCancel,
    ReminderRequest,
    Reply,
    Screen,
    StepScreen,
    StepsScreen,
)
from skill.core.conversation.render import SOFT_RATE
from skill.core.conversation.state import (
    Pending,
    Replay,
    ReplaySpeech,
    ReplaySteps,
    Session,
    Spoken,
    Undo,
)
from skill.core.profile import Profile

__all__ = [
    "REMINDER_PERMISSION", "SOFT_RATE", "AnswerScreen", "Card", "Coach", "Context", "Effect",
    "EffectResult", "Event", "ForgetProfile", "Pending", "Profile", "ReminderCancel",
    "ReminderRequest", "Replay", "ReplaySpeech", "ReplaySteps", "Reply", "Screen", "Session",
    "Spoken", "StepScreen", "StepsScreen", "Undo", "parse_time", "respond", "spoken_time",
]


def respond(event: Event, session: Session, profile: Profile, ctx: Context) -> Reply:
    """Answer one event. ``session`` and ``profile`` are updated in place: keep both."""
    coach = Coach(session, profile, ctx)
    reply = coach.handle(event)
    if coach.replay is not None:
        session.repeat = coach.replay
    elif event.name not in ("AMAZON.RepeatIntent", "SessionEnded") and not reply.end_session:
        # Steps are rendered again on "repeat" rather than stored: session attributes travel
        # with every request and response, and a step's speech is thousands of characters.
        session.repeat = ReplaySpeech(reply.speech, reply.reprompt)
    if coach.spoken_steps:
        session.spoken = Spoken(ctx.now.timestamp(), round(coach.spoken_seconds, 1),
                                tuple(coach.spoken_steps))
    elif reply.speech:
        session.spoken = None
    return reply
