"""`make chat`: talk to the skill in a terminal, as Alexa would carry the conversation.

Each line you type is resolved with the skill's own interaction model (exact samples first, then
samples with slots), turned into a real request envelope and sent through the same handler the
Lambda function uses. Replies are printed with their pauses visible; ``--realtime`` waits them
out and ``--speak`` reads them aloud with espeak-ng where it is installed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from skill.core import content, speech
from tools import model

LAUNCH_WORDS = ("open", "launch", "start", "begin", "talk to", "load", "run", "use")
ONE_SHOT_WORDS = ("ask", "tell")
CONNECTORS = ("to", "for", "about", "if", "whether", "that")
#: Phrasings Alexa's built-in intents understand without samples of ours.
BUILT_IN = {
    "AMAZON.YesIntent": ["yes", "yeah", "yep", "yup", "sure", "ok", "okay", "alright", "all right"],
    "AMAZON.NoIntent": ["no", "nah", "no thank you"],
    "AMAZON.NextIntent": ["next", "skip forward"],
    "AMAZON.PreviousIntent": ["previous", "go back one"],
    "AMAZON.RepeatIntent": ["repeat", "repeat that", "say it again"],
    "AMAZON.StartOverIntent": ["start over", "restart"],
    "AMAZON.PauseIntent": ["pause"],
    "AMAZON.ResumeIntent": ["resume"],
    "AMAZON.HelpIntent": ["help", "help me"],
    "AMAZON.StopIntent": ["stop", "quit", "shut up", "be quiet"],
    "AMAZON.CancelIntent": ["cancel", "never mind"],
}
END_WORDS = ("exit", "goodbye alexa")
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


@dataclass(frozen=True)
class Pattern:
    intent: str
    regex: re.Pattern[str]
    slots: tuple[str, ...]
    literal: bool
    search_query: bool


@cache
def patterns(locale: str) -> tuple[Pattern, ...]:
    found = []
    language_model = model.interaction_model(locale)["interactionModel"]["languageModel"]
    for intent in language_model["intents"]:
        slot_types = {s["name"]: s["type"] for s in intent.get("slots", [])}
        samples = list(intent["samples"]) + BUILT_IN.get(intent["name"], [])
        for sample in samples:
            names = tuple(re.findall(r"\{(\w+)\}", sample))
            regex = re.escape(normalise(sample))
            for name in names:
                regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)")
            found.append(Pattern(intent["name"], re.compile(f"^{regex}$"), names, not names,
                                 any(slot_types[n] == "AMAZON.SearchQuery" for n in names)))
    return tuple(found)


def normalise(text: str) -> str:
    text = re.sub(r"[^a-z0-9'{} ]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def resolve(utterance: str, locale: str) -> tuple[str, dict[str, str]]:
    """The intent and slot values Alexa would most likely hear in an utterance."""
    said = normalise(utterance)
    best: tuple[tuple[int, int], Pattern, dict[str, str]] | None = None
    for pattern in patterns(locale):
        match = pattern.regex.match(said)
        if not match:
            continue
        slots = {k: v for k, v in match.groupdict().items() if v}
        # Exact samples beat slot samples; custom slots beat free-form search queries;
        # among equals, the sample that explains more of the utterance wins.
        rank = (0 if pattern.literal else 2 if pattern.search_query else 1,
                sum(len(v) for v in slots.values()))
        if best is None or rank < best[0]:
            best = (rank, pattern, slots)
    if best is None:
        return "AMAZON.FallbackIntent", {}
    _, pattern, slots = best
    if "time" in slots:
        slots["time"] = spoken_time(slots["time"]) or slots["time"]
    return pattern.intent, slots


def spoken_time(text: str) -> str | None:
    """ "ten p.m.", "10 pm", "nine thirty pm" or "22:00" as AMAZON.TIME's "HH:MM"."""
    words = normalise(text.replace(".", "")).replace("p m", "pm").replace("a m", "am").split()
    if re.fullmatch(r"\d{1,2}:\d{2}", text.strip()):
        return text.strip().zfill(5)
    numbers = [int(w) if w.isdigit() else NUMBER_WORDS.get(w) for w in words]
    values = [n for n in numbers if n is not None]
    if not values or values[0] > 23:
        return None
    hour = values[0]
    minute = 30 if "thirty" in words else values[1] if len(values) > 1 else 0
    if "pm" in words and hour < 12:
        hour += 12
    if "am" in words and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


@dataclass
class Session:
    """One Alexa session: its id, its attributes, and whether it is open."""

    locale: str
    user_id: str
    device_id: str
    session_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        new = self.session_id is None
        if new:
            self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
            self.attributes = {}
        application = {"applicationId": os.environ.get("SKILL_ID") or "amzn1.ask.tools.chat"}
        request = {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "locale": self.locale,
            **request,
        }
        return {
            "version": "1.0",
            "session": {"new": new, "sessionId": self.session_id, "application": application,
                        "attributes": self.attributes, "user": {"userId": self.user_id}},
            "context": {"System": {"application": application, "user": {"userId": self.user_id},
                                   "device": {"deviceId": self.device_id,
                                              "supportedInterfaces": {}}}},
            "request": request,
        }

    def close(self) -> None:
        self.session_id = None
        self.attributes = {}


def request_for(line: str, session: Session, invocation: str) -> dict[str, Any] | None:
    """The request Alexa would send for a line, or None to end the session."""
    said = normalise(line)
    if said in END_WORDS:
        return None
    for word in LAUNCH_WORDS:
        if said in (f"{word} {invocation}", f"alexa {word} {invocation}"):
            session.close()
            return {"type": "LaunchRequest"}
    for word in ONE_SHOT_WORDS:
        for prefix in (f"{word} {invocation} ", f"alexa {word} {invocation} "):
            if said.startswith(prefix):
                session.close()
                rest = said[len(prefix):].split(" ", 1)
                if rest[0] in CONNECTORS and len(rest) > 1:
                    said = rest[1]
                else:
                    said = " ".join(rest)
                return intent_request(said, session.locale)
    return intent_request(said, session.locale)


def intent_request(said: str, locale: str) -> dict[str, Any]:
    name, slots = resolve(said, locale)
    return {
        "type": "IntentRequest",
        "intent": {"name": name, "confirmationStatus": "NONE",
                   "slots": {k: {"name": k, "value": v} for k, v in slots.items()}},
    }


def session_ended() -> dict[str, Any]:
    return {"type": "SessionEndedRequest", "reason": "USER_INITIATED"}


_BREAKS = re.compile(r'(?:<break time="\d+ms"/>)+')


def readable(ssml: str) -> str:
    """Speech with every pause shown in brackets; chained breaks are shown as one."""
    def pause(run: re.Match[str]) -> str:
        seconds = sum(int(ms) for ms in re.findall(r"\d+", run.group(0))) / 1000
        return f" [{seconds:.1f}s] "

    return speech.plain_text(_BREAKS.sub(pause, ssml))


def perform(ssml: str, realtime: bool, speak: bool) -> None:
    """Wait out or speak a reply, so a routine can be followed in real time."""
    if speak and shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-m", ssml], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif realtime:
        time.sleep(speech.estimate_seconds(ssml))


def local_time_zone() -> str | None:
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        return Path("/etc/timezone").read_text().strip() or None
    except OSError:
        pass
    link = Path("/etc/localtime")
    if link.is_symlink():
        target = str(link.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chat", description=__doc__)
    parser.add_argument("--realtime", action="store_true", help="play pauses in real time")
    parser.add_argument("--speak", action="store_true", help="speak replies with espeak-ng")
    parser.add_argument("--locale", default=content.DEFAULT_LOCALE, choices=content.LANGUAGES)
    parser.add_argument("--user", default="chat-user", help="who is talking (memory is per user)")
    args = parser.parse_args(argv)
    os.environ.setdefault("SKILL_TIME_ZONE", local_time_zone() or "UTC")
    os.environ.setdefault("SKILL_LOCAL", "1")  # local development: no skill ID needed

    from skill.alexa.app import handler  # after the environment is settled

    invocation = content.invocation_name(args.locale)
    session = Session(args.locale, f"amzn1.ask.account.{args.user}", "chat-device")
    interactive = sys.stdin.isatty()
    print(f'Talk to the skill. Try "open {invocation}", or "ask {invocation} to start my '
          'morning stretch". Ctrl-D to leave.', file=sys.stderr)

    def send(request: dict[str, Any]) -> dict[str, Any]:
        response = handler(session.envelope(request), None)
        session.attributes = response.get("sessionAttributes") or {}
        return response

    while True:
        if interactive:
            print("you> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        if not interactive:
            print(f"you> {line.strip()}")
        request = request_for(line, session, invocation)
        if request is None:
            if session.session_id:
                send(session_ended())
            session.close()
            print("(session ended)")
            continue
        one_shot = normalise(line).split(" ", 1)[0] in ONE_SHOT_WORDS
        if request["type"] == "IntentRequest" and session.session_id is None and not one_shot:
            print(f"(one-shot: as if you said \"ask {invocation} to {line.strip()}\")")
        body = send(request)["response"]
        ssml = (body.get("outputSpeech") or {}).get("ssml", "")
        if ssml:
            print(f"alexa> {readable(ssml)}")
            perform(ssml, args.realtime, args.speak)
        card = body.get("card")
        if card:
            print(f"(card in the Alexa app: {card.get('title') or card.get('type')})")
        if body.get("shouldEndSession", True):
            session.close()
            print("(session closed)")
    if session.session_id:
        send(session_ended())
    return 0
