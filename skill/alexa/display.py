"""Echo Show visuals: an APL screen for what the coach is saying, only where APL exists.

Two documents, kept as data in ``content/apl/``: ``steps.json`` (the step being spoken, its
illustration as vector graphics, "Step 3 of 7", and a countdown of each hold) and ``answer.json``
(the short answer, to read along). The bedtime routine (``soft``) gets the same layout on a black,
dimmed screen.

The countdown is driven by APL commands in the document's ``onMount``, generated for each
response (the handlers send one directive per reply): a Parallel of timed commands,
each with a ``delay`` measured from when the commands start, so one late command does not push
the others back. When the steps are spoken is an estimate, the same one the coach paces its
counts with (:mod:`skill.core.speech`): the step's start ``offset`` from the coach, then the words
before each hold at the estimated speaking rate, then each hold's exact length. What is
approximate, and by how much:
  * the commands start when the device renders the document, which is close to, not exactly,
    when the speech starts;
  * Alexa's real speaking rate differs from the estimate by a few percent, so a hold late in a
    long continuous stretch may be shown a second or two early or late. Within a hold the counts
    and the countdown both run on real seconds, so they do not drift apart further.
Devices without APL get nothing here (``directive`` returns None) and hear the same speech.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from skill.core import content

# Loaded already: the handlers that call this module import the conversation.
from skill.core.conversation.records import AnswerScreen, Screen, StepsScreen

if TYPE_CHECKING:
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

APL_INTERFACE = "Alexa.Presentation.APL"
TOKEN = "coach"
#: A pose drawn for every movement in routines.toml; anything else gets the resting figure.
REST_POSE = "rest"


def supports_apl(envelope: Any) -> bool:
    try:
        interfaces = envelope.context.system.device.supported_interfaces
    except AttributeError:
        return False
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


def document(name: str) -> dict[str, Any]:
    """An APL document from content/apl/ (``"steps"`` or ``"answer"``)."""
    doc: dict[str, Any] = content.load(f"apl/{name}.json")
    return doc


@cache
def words(locale: str | None) -> dict[str, str]:
    """The few labels the screens show, from content/<language>/screen.json."""
    labels: dict[str, str] = content.load(f"{content.language(locale)}/screen.json")
    return labels


def directive(envelope: Any, screen: Screen) -> RenderDocumentDirective | None:
    """The document for a coach screen, or None on devices without APL."""
    if not supports_apl(envelope):
        return None
    # Imported here: the APL models are large, and most requests come from screenless speakers.
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

    locale = getattr(envelope.request, "locale", None) or content.DEFAULT_LOCALE
    name, data, commands = render(screen, locale)
    doc = {**document(name), "onMount": commands} if commands else document(name)
    return RenderDocumentDirective(token=TOKEN, document=doc, datasources={"screen": data})


def render(screen: Screen, locale: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """(document name, the data source it binds to, commands) for a coach screen."""
    labels = words(locale)
    if isinstance(screen, AnswerScreen):
        return "answer", {"title": labels["answer_title"], "text": str(screen.text),
                          "soft": bool(screen.soft)}, []
    poses = set(document("steps").get("graphics", {}))
    steps = []
    for step in screen.steps:
        hold_label = labels["hold_one" if step.holds == 1 else "hold_many"]
        steps.append({
            "index": step.index, "total": step.total,
            "name": step.name, "instruction": step.instruction,
            "progress": labels["progress"].format(index=step.index, total=step.total),
            "holdLabel": hold_label.format(holds=step.holds, seconds=step.seconds),
            "pose": step.movement if step.movement in poses else REST_POSE,
        })
    data = {"title": screen.title.capitalize(), "soft": screen.soft, "steps": steps}
    return "steps", data, countdown_commands(timeline(screen))


def timeline(screen: StepsScreen) -> list[tuple[float, list[float], int]]:
    """For each step on the screen: (when it starts, when each of its holds starts, hold
    seconds), in seconds from the start of the speech. Empty if the screen cannot be timed.

    The coach estimates these as it writes the speech (each step's ``offset`` and its
    ``hold_starts`` within the step), so the screen follows the words actually spoken.
    """
    result: list[tuple[float, list[float], int]] = []
    for shown in screen.steps:
        if shown.seconds < 1:
            return []
        holds = [round(shown.offset + start, 2) for start in shown.hold_starts]
        result.append((round(float(shown.offset), 2), holds, shown.seconds))
    return result


def countdown_commands(plan: list[tuple[float, list[float], int]]) -> list[dict[str, Any]]:
    """APL commands that turn to each step as it is spoken and count each hold down.

    One Parallel holds every timed piece, each delayed from the start, so the schedule does not
    depend on how long the page turns or the animations take.
    """
    if not plan:
        return []
    timed: list[dict[str, Any]] = []
    for position, (start, holds, seconds) in enumerate(plan):
        if position:
            timed.append({"type": "SetPage", "componentId": "steps", "position": "absolute",
                          "value": position, "delay": int(start * 1000)})
        for hold_start in holds:
            timed.append({
                "type": "Sequential", "delay": int(hold_start * 1000),
                "commands": [
                    {"type": "Parallel", "commands": [
                        {"type": "AnimateItem", "componentId": "bar", "duration": seconds * 1000,
                         "value": [{"property": "transform", "from": [{"scaleX": 1}],
                                    "to": [{"scaleX": 0}]}]},
                        {"type": "Sequential", "data": list(range(seconds, 0, -1)), "commands": [
                            {"type": "SetValue", "componentId": "countdown", "property": "text",
                             "value": "${data}"},
                            {"type": "Idle", "delay": 1000},
                        ]},
                    ]},
                    {"type": "SetValue", "componentId": "countdown", "property": "text",
                     "value": ""},
                ],
            })
    return [{"type": "Parallel", "commands": timed}]
