"""`make chat`: talk to the skill in a terminal, as Alexa would carry the conversation.

Each line you type is resolved with the skill's own interaction model by tools/resolver.py (the
same matching as virtual-alexa and the conversation tests), turned into a real request envelope
by tools/envelopes.py and sent through the same handler the Lambda function uses. Replies are
printed with their pauses visible; ``--realtime`` waits them out and ``--speak`` reads them
aloud with espeak-ng where it is installed.
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
from pathlib import Path
from typing import Any

from skill.core import content, speech
from tools import envelopes, resolver


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
        caller = envelopes.Caller(
            session_id=self.session_id, new=new, attributes=self.attributes,
            user_id=self.user_id, device_id=self.device_id,
            skill_id=os.environ.get("SKILL_ID") or "amzn1.ask.tools.chat")
        return envelopes.envelope(
            request, caller, request_id=f"amzn1.echo-api.request.{uuid.uuid4()}",
            timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), locale=self.locale)

    def close(self) -> None:
        self.session_id = None
        self.attributes = {}


def request_for(line: str, session: Session, invocation: str) -> dict[str, Any] | None:
    """The request Alexa would send for a line, or None to end the session."""
    heard = resolver.heard(line, invocation)
    if heard.kind == "end":
        return None
    if heard.kind in ("launch", "one_shot"):
        session.close()
    if heard.kind == "launch":
        return envelopes.launch_request()
    return intent_request(heard.words, session.locale)


def intent_request(said: str, locale: str) -> dict[str, Any]:
    found = resolver.Resolver.for_locale(locale).resolve(said)
    return envelopes.intent_request(resolver.language_model(locale), found.intent, found.slots)


def session_ended() -> dict[str, Any]:
    return envelopes.session_ended_request("USER_INITIATED")


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
        one_shot = resolver.heard(line, invocation).kind == "one_shot"
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
