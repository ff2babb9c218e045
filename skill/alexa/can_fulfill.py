"""Name-free requests: "Alexa, my back is stiff this morning", said without the skill's name.

Before routing such words to a skill, Alexa asks it a CanFulfillIntentRequest: could you take
this intent, with these slot values? The answer is YES, MAYBE or NO for the intent and, for each
slot, whether the skill understands the value and can act on it. It must change nothing: no
speech, no session, no memory read or written (app.py's profile interceptors pass these by).

What this skill says:
- QuestionIntent: YES when the words raise a red flag (those people should hear the advice,
  whatever else they said) or when the article answers them; NO otherwise, so that Alexa tries
  a skill that can help.
- StartRoutineIntent: YES, with no routine named or one of ours; MAYBE for a routine we do not
  have (we can still lead a stretch).
- HurtIntent: MAYBE. Said without the name it is "my back hurts": the skill answers with care
  and offers a gentle stretch later, but it is not a treatment.
- ProgressIntent: YES (an empty history is an answer too).
- Everything else is NO: commands that mean something only inside a routine ("skip", "longer"),
  settings of this skill, and reminders, which Alexa's own reminders serve better.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from ask_sdk_model.canfulfill import (
    CanFulfillIntent,
    CanFulfillIntentValues,
    CanFulfillSlot,
    CanFulfillSlotValues,
    CanUnderstandSlotValues,
)

from skill.alexa.device import slot_values
from skill.core import content, routine

REQUEST_TYPE = "CanFulfillIntentRequest"
YES, MAYBE, NO = "YES", "MAYBE", "NO"


class SlotAnswer(NamedTuple):
    understand: str  # YES | MAYBE | NO
    fulfill: str  # YES | NO


class Verdict(NamedTuple):
    can_fulfill: str  # YES | MAYBE | NO
    slots: dict[str, SlotAnswer]


def verdict(intent: str, said: dict[str, str], resolved: dict[str, str], locale: str
            ) -> Verdict:
    """Whether the skill can take ``intent`` with these slots. ``said`` holds every slot that
    has words (as heard), ``resolved`` the ids of custom values that matched (see
    :func:`skill.alexa.device.slot_values`)."""
    text = content.free_text(intent, said.get("query"), locale)
    if text is not None:
        return _question(text, locale)
    if intent == "StartRoutineIntent":
        if "routine" not in said:
            return Verdict(YES, {})
        if resolved.get("routine") in routine.ids():
            return Verdict(YES, {"routine": SlotAnswer(YES, YES)})
        return Verdict(MAYBE, {"routine": SlotAnswer(NO, NO)})
    if intent == "HurtIntent":
        return Verdict(MAYBE, {})
    if intent == "ProgressIntent":
        return Verdict(YES, {})
    return Verdict(NO, {name: SlotAnswer(NO, NO) for name in said})


def _question(text: str, locale: str) -> Verdict:
    from skill.core import answers, safety  # on the first question, not at import

    words = text.strip()
    if not words:
        return Verdict(NO, {"query": SlotAnswer(NO, NO)})
    flag = safety.red_flag(words, locale)
    if flag is not None and flag != safety.MENTIONED_ABSENT:
        return Verdict(YES, {"query": SlotAnswer(YES, YES)})
    if answers.AnswerBook.for_locale(locale).match(words) is not None:
        return Verdict(YES, {"query": SlotAnswer(YES, YES)})
    return Verdict(NO, {"query": SlotAnswer(NO, NO)})


def said_values(intent: Any) -> dict[str, str]:
    """Every slot that arrived with words, as heard."""
    return {name: slot.value for name, slot in (getattr(intent, "slots", None) or {}).items()
            if isinstance(getattr(slot, "value", None), str) and slot.value.strip()}


class CanFulfillHandler(AbstractRequestHandler):
    """Answers CanFulfillIntentRequest with a verdict and nothing else."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type(REQUEST_TYPE)(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        intent = getattr(request, "intent", None)
        locale = getattr(request, "locale", None) or content.DEFAULT_LOCALE
        name = str(getattr(intent, "name", "") or "")
        found = verdict(name, said_values(intent), slot_values(intent), locale)
        answer = CanFulfillIntent(
            can_fulfill=CanFulfillIntentValues(found.can_fulfill),
            slots={slot: CanFulfillSlot(can_understand=CanUnderstandSlotValues(a.understand),
                                        can_fulfill=CanFulfillSlotValues(a.fulfill))
                   for slot, a in found.slots.items()} or None,
        )
        return handler_input.response_builder.set_can_fulfill_intent(answer).response
