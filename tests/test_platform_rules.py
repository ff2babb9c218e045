"""Every response the conversation can reach passes Alexa's platform rules: a systematic sweep.

Breadth-first search over the conversation through the real skill (request envelopes in,
response envelopes out): from launches at several times of day, from one-shot starts of each
routine and from "resume at step k" of every step, apply every intent of the interaction model,
with representative slot values (empty and hostile ones too) and a request for an intent the
model does not have, under both counting preferences and both voices, and at the shortest and
longest holds. Then, in every locale, every routine is driven to its end, guided and
continuous, at the shortest, usual and longest holds, in each counting style and both voices
(continuous mode chains steps into the longest replies), and the menu, help and the like are
asked at four times of day, fresh and mid-routine. States are deduplicated by the coach's
session state minus bookkeeping (turn counter, cached last speech, stored digest, timestamps).
Every distinct response is then checked in one batch: ssml-check-core for the amazon platform
plus our rules (tools/rules.py: 8000 characters, breaks of at most 10 s, escaping, an open
session ends with a question, a reprompt says something, a closing one sets shouldEndSession
true, silence for SessionEndedRequest, the response's size).
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.alexa import app
from skill.core import routine
from tests.conversation import Conversation, language_model
from tests.support import ssml

pytestmark = pytest.mark.slow

SOFT = '<prosody rate="90%" volume="soft">'
HOSTILE = '& < " > \' ]]> <break time="30s"/>'
QUERIES = [
    "is my back worse in the morning",  # "why {query}"
    "is muscle guarding",
    "is the capital of france",  # nothing in the article
    "i have numbness in my groin",  # an urgent red flag: ends the session
    "",
    HOSTILE,
]
#: Slot values per slot type, besides each custom type's own values and synonyms.
EXTRA_VALUES = {"AMAZON.SearchQuery": QUERIES, "AMAZON.TIME": ["22:00", "EV", "25:99", "", HOSTILE]}
TIMES = ["07:00", "14:30", "22:30", "02:00"]
#: (counting, soft voice, hold scale, depth) for the people the sweep plays. The first is
#: explored two turns deep from every root; the others, whose preferences change how steps are
#: spoken rather than where the conversation can go, one turn deep.
PEOPLE = [
    ("auto", False, 1.0, 2),
    ("every_second", False, 1.0, 1),
    ("sparse", False, 1.0, 1),
    ("every_second", True, 1.0, 1),
    ("sparse", True, 1.0, 1),
    ("auto", False, 1.6, 1),
    ("auto", True, 0.6, 1),
]
MAX_STATES = 1500  # a safety net: the depths above expand about 600
#: The drives: every routine from its start to its end, for each of these.
MODES = ("guided", "continuous")
COUNTINGS = ("auto", "every_second", "sparse")
SCALES = (routine.MIN_SCALE, 1.0, routine.MAX_SCALE)
MAX_TURNS = 40
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
DRIVE_DAY = date(2026, 3, 2)  # the wordings of that day (each line's variant follows the date)
MENU_HOURS = (6, 14, 20, 23)
MENU_EVENTS = ("Launch", "AMAZON.HelpIntent", "AMAZON.FallbackIntent", "ProgressIntent",
               "AMAZON.StopIntent", "WhyThisStepIntent", "TellMeMoreIntent", "SetReminderIntent",
               "CancelReminderIntent", "AMAZON.PauseIntent", "HurtIntent", "LongerIntent",
               "ShorterIntent")
BOOKKEEPING = ("stored", "tz")


class ProfileOnly(AbstractPersistenceAdapter):
    """A store that hands every person the same saved profile and forgets what it is given."""

    def __init__(self, profile: dict[str, Any]) -> None:
        self.profile = profile

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return {"profile": copy.deepcopy(self.profile)}

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        pass

    def delete_attributes(self, request_envelope: Any) -> None:
        pass


def events() -> list[dict[str, Any]]:
    """Every intent in the model with each representative slot value, plus the unexpected."""
    lm = language_model("en-US")
    types = {t["name"]: t for t in lm["types"]}
    found: list[dict[str, Any]] = []
    for intent in lm["intents"]:
        slots = intent.get("slots", [])
        if not slots:
            found.append({"name": intent["name"], "slots": {}})
            continue
        for slot in slots:  # the skill's intents have one slot each
            values: list[str | None] = [None, "", HOSTILE]
            if slot["type"] in types:
                for value in types[slot["type"]]["values"]:
                    values += [value["name"]["value"], *value["name"].get("synonyms", [])[:1]]
            values += EXTRA_VALUES.get(slot["type"], [])
            for value in dict.fromkeys(values):
                slot_values = {} if value is None else {slot["name"]: value}
                found.append({"name": intent["name"], "slots": slot_values})
    found.append({"name": "SomethingNewFromAmazonIntent", "slots": {}})
    found.append({"name": "AMAZON.SelectIntent", "slots": {"ListPosition": "2"}})
    return found


def core(event: dict[str, Any]) -> bool:
    """The events tried deeper than the roots: every intent, one value per slot or none."""
    lm = language_model("en-US")
    slot_types = {s["name"]: s["type"] for i in lm["intents"] for s in i.get("slots", [])}
    types = {t["name"]: t for t in lm["types"]}
    for name, value in event["slots"].items():
        kind = slot_types.get(name)
        if kind in types and value != types[kind]["values"][0]["name"]["value"]:
            return False
        if kind == "AMAZON.SearchQuery" and value not in (QUERIES[0], QUERIES[2]):
            return False
        if kind == "AMAZON.TIME" and value != "22:00":
            return False
    return True


def state_key(state: dict[str, Any]) -> str:
    """The coach's session state minus bookkeeping, as a comparable string."""
    kept = {k: v for k, v in state.items() if k not in BOOKKEEPING}
    profile = dict(kept.get("profile") or {})
    unfinished = profile.get("unfinished")
    if isinstance(unfinished, dict):
        profile["unfinished"] = [unfinished.get("routine"), unfinished.get("step")]
    profile["history"] = sum(len(v) for v in (profile.get("history") or {}).values())
    kept["profile"] = profile
    coach = dict(kept.get("coach") or {})
    # Which wording comes next and when the last reply was spoken change no path.
    coach.pop("said", None)
    coach.pop("spoken", None)
    again = coach.pop("repeat", None)
    if isinstance(again, dict):  # what "repeat" would do, not the cached words
        coach["repeat"] = [again.get("step"), again.get("easier"), bool(again.get("speech"))]
    kept["coach"] = coach
    return json.dumps(kept, sort_keys=True)


@dataclass
class Sweep:
    responses: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    states: set[str] = field(default_factory=set)
    requests: int = 0
    expanded: int = 0
    rendered: Counter = field(default_factory=Counter)  # (routine, step, counting, soft)
    intents: Counter = field(default_factory=Counter)
    #: (locale, routine, mode, counting, scale, soft) -> turns to its end (0: it never ended)
    driven: dict[tuple[str, str, str, str, float, bool], int] = field(default_factory=dict)

    def record(self, request_type: str, envelope: dict[str, Any], state_before: dict) -> None:
        response = envelope.get("response") or {}
        key = json.dumps([request_type, response], sort_keys=True)
        self.responses.setdefault(key, (request_type, envelope))
        prefs = ((state_before.get("profile") or {}).get("prefs") or {})
        text = ssml.spoken_text((response.get("outputSpeech") or {}).get("ssml", ""))
        after = envelope.get("sessionAttributes") or {}
        soft = SOFT in (response.get("outputSpeech") or {}).get("ssml", "")
        where = {(s.get("coach") or {}).get("routine") for s in (after, state_before)}
        for rid in routine.ids():
            if rid in where:
                total = len(routine.get(rid).steps)
                for n in range(1, total + 1):
                    if f"step {n} of {total}" in text.lower():
                        self.rendered[(rid, n - 1, prefs.get("counting"), soft)] += 1


def sweep() -> Sweep:
    result = Sweep()
    all_events = events()
    deeper = [e for e in all_events if core(e)]
    queue: deque[tuple[Conversation, Any, dict[str, Any], int, int]] = deque()
    day = datetime(2024, 3, 5).date()

    def turn(chat: Conversation, skill: Any, request: dict[str, Any],
             state: dict[str, Any], new: bool) -> dict[str, Any]:
        chat.attributes, chat.new = copy.deepcopy(state), new
        chat.session_id = "amzn1.echo-api.session.sweep"
        envelope = chat.envelope(request)
        answer = app.invoke(skill, envelope)
        json.dumps(answer)
        result.requests += 1
        result.record(request["type"], answer, state)
        return answer

    def enqueue(chat: Conversation, skill: Any, answer: dict[str, Any], depth: int,
                limit: int) -> None:
        response = answer.get("response") or {}
        if response.get("shouldEndSession") is not False:
            return  # the session is over: nothing more to say in it
        state = answer.get("sessionAttributes") or {}
        key = f"{chat.now.time()}|{state_key(state)}"
        if key not in result.states:
            result.states.add(key)
            queue.append((chat, skill, state, depth, limit))

    for counting, soft, scale, limit in PEOPLE:
        base = {"version": 1, "disclaimer_heard": True, "body_asked": "2024-03-01",
                "prefs": {"counting": counting, "soft_voice": soft, "hold_scale": scale,
                          "length": "full"}}
        roots: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for at in TIMES:
            first_use = dict(base, disclaimer_heard=at == "07:00")
            if at == "07:00":  # the very first time: the disclaimer, then the body check
                first_use = {k: v for k, v in base.items() if k not in ("disclaimer_heard",
                                                                      "body_asked")}
            roots.append((at, first_use, {"type": "LaunchRequest"}))
        for rid in routine.ids():
            start = {"type": "IntentRequest", "intent": {"name": "StartRoutineIntent",
                                                        "slots": {"routine": rid}}}
            roots.append(("07:00", base, start))
            for step in range(1, len(routine.get(rid).steps)):
                saved = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10)
                unfinished = {"routine": rid, "step": step, "saved_at": saved.isoformat()}
                roots.append(("07:00", dict(base, unfinished=unfinished),
                              {"type": "LaunchRequest"}))
        for at, profile, request in roots:
            skill = app.build_skill(ProfileOnly(profile))
            chat = Conversation(at=at, on=day, seconds_per_turn=0)
            if request["type"] == "IntentRequest":
                intent = request["intent"]
                request = chat_intent(chat, intent["name"], intent["slots"])
            answer = turn(chat, skill, request, {}, new=True)
            enqueue(chat, skill, answer, 0, limit)
            if profile.get("unfinished"):  # "yes" resumes at that step
                state = answer["sessionAttributes"]
                yes = turn(chat, skill, chat_intent(chat, "AMAZON.YesIntent", {}), state, False)
                enqueue(chat, skill, yes, 0, limit)

    for locale in LOCALES:
        for rid in routine.ids():
            for mode in MODES:
                for counting in COUNTINGS:
                    for scale in SCALES:
                        for soft in (False, True):
                            prefs = {"counting": counting, "hold_scale": scale,
                                     "soft_voice": soft}
                            result.driven[(locale, rid, mode, counting, scale, soft)] = drive(
                                turn, locale, rid, mode, prefs)
        menu(turn, locale)

    while queue and result.expanded < MAX_STATES:
        chat, skill, state, depth, limit = queue.popleft()
        result.expanded += 1
        turn(chat, skill, {"type": "SessionEndedRequest", "reason": "EXCEEDED_MAX_REPROMPTS"},
             state, False)
        for event in all_events if depth == 0 else deeper:
            result.intents[event["name"]] += 1
            answer = turn(chat, skill, chat_intent(chat, event["name"], event["slots"]),
                          state, False)
            if depth + 1 < limit:
                enqueue(chat, skill, answer, depth + 1, limit)
    return result


def drive(turn: Any, locale: str, rid: str, mode: str, prefs: dict[str, Any]) -> int:
    """Start routine ``rid`` and go on to its end: "next" when guided (and "make it easier" at
    the second step), "yes" to "shall I keep going?" when continuous, as if the person had said
    "keep going" before it started. Someone who has not heard the disclaimer yet and did this
    routine yesterday. The number of turns it took, or 0 if it never ended."""
    yesterday = (DRIVE_DAY - timedelta(days=1)).isoformat()
    profile = {"version": 1, "disclaimer_heard": False, "prefs": prefs, "body_asked": yesterday,
               "history": {yesterday: [rid]}}
    skill = app.build_skill(ProfileOnly(profile))
    chat = Conversation(at="07:00", on=DRIVE_DAY, tz="UTC", locale=locale, seconds_per_turn=0)
    state: dict[str, Any] = {"coach": {"mode": mode}}
    events = [("StartRoutineIntent", {"routine": rid})]
    for number in range(1, MAX_TURNS + 1):
        name, slots = events.pop(0) if events else (
            "AMAZON.YesIntent" if mode == "continuous" else "AMAZON.NextIntent", {})
        answer = turn(chat, skill, chat_intent(chat, name, slots), state, number == 1)
        if (answer.get("response") or {}).get("shouldEndSession") is not False:
            return number
        state = answer.get("sessionAttributes") or {}
        if number == 2 and mode == "guided":
            events.append(("EasierIntent", {}))
    return 0


def menu(turn: Any, locale: str) -> None:
    """The menu, help and the like, at every time of day, for someone new, both at the start of
    a session and in the middle of a routine."""
    skill = app.build_skill(ProfileOnly({}))
    for hour in MENU_HOURS:
        chat = Conversation(at=f"{hour:02d}:00", on=DRIVE_DAY, tz="UTC", locale=locale,
                            seconds_per_turn=0)
        for name in MENU_EVENTS:
            for state in ({}, {"coach": {"routine": "morning", "step": 2,
                                         "pending": ["next", ""]}}):
                request = ({"type": "LaunchRequest"} if name == "Launch"
                           else chat_intent(chat, name, {}))
                turn(chat, skill, request, state, not state)


def chat_intent(chat: Conversation, name: str, slots: dict[str, str]) -> dict[str, Any]:
    from tests.conversation import slot_json

    return {"type": "IntentRequest", "dialogState": "COMPLETED",
            "intent": {"name": name, "confirmationStatus": "NONE",
                       "slots": slot_json(chat.locale, name, slots)}}


def test_every_reachable_response_passes_the_platform_rules(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SKILL_ID", raising=False)
    started = time.perf_counter()
    found = sweep()
    explored = time.perf_counter() - started

    # One batch for the validator: every distinct speech and reprompt in one node round trip.
    responses = [(envelope, request_type) for request_type, envelope in found.responses.values()]
    problems: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for (envelope, _), errors in zip(responses, ssml.responses_errors(responses), strict=True):
        for error in errors:
            rule = error.split("]")[0] + "]"
            problems[rule] += 1
            examples.setdefault(rule, f"{error}\n    in {json.dumps(envelope)[:600]}")
    texts = {part["ssml"] for envelope, _ in responses
             for part in ((envelope.get("response") or {}).get("outputSpeech"),
                          ((envelope.get("response") or {}).get("reprompt") or {})
                          .get("outputSpeech"))
             if isinstance(part, dict) and isinstance(part.get("ssml"), str)}
    total = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nplatform sweep: {found.requests} requests, {found.expanded} states expanded"
              f" ({len(found.states)} distinct), {len(found.responses)} distinct responses,"
              f" {len(texts)} distinct SSML texts; explore {explored:.1f} s, total {total:.1f} s")
    assert not problems, "\n".join(
        f"{count} responses break {rule}, e.g. {examples[rule]}" for rule, count in
        problems.most_common())

    # Not vacuous: hundreds of distinct responses, every intent tried, every step of every
    # routine spoken in both counting styles and both voices.
    assert len(found.responses) >= 500, len(found.responses)
    model_intents = {i["name"] for i in language_model("en-US")["intents"]}
    assert model_intents <= set(found.intents), model_intents - set(found.intents)
    missing = [
        (rid, step, counting, soft)
        for rid in routine.ids()
        for step in range(len(routine.get(rid).steps))
        for counting in ("every_second", "sparse")
        for soft in ((True,) if routine.get(rid).soft else (False, True))
        if not found.rendered[(rid, step, counting, soft)]
    ]
    assert not missing, f"steps never spoken in the sweep: {missing}"
    # Every routine was driven to its end, in every mode, pace and voice.
    assert len(found.driven) == len(LOCALES) * len(routine.ids()) * 2 * 3 * 3 * 2
    unfinished = [key for key, turns in found.driven.items() if not turns]
    assert not unfinished, f"routines that did not end in {MAX_TURNS} turns: {unfinished}"
    # Its size is bounded by MAX_STATES; its speed is for the bench, not for this test.
