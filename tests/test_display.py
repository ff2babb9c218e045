"""Echo Show screens: an APL document with each step, its countdown and progress where the device
has APL, nothing where it does not. Requests go through skill.alexa.app.handler as Alexa sends
them."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from skill.alexa import display
from skill.core import conversation as coach
from skill.core import speech
from tests.support import REPO_ROOT, require_node_package
from tools import envelopes
from tools.resolver import language_model

APL = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}}}
COMPONENTS = {"Container", "Frame", "Image", "Pager", "ScrollView", "Sequence", "GridSequence",
              "Text", "TouchWrapper", "VectorGraphic", "Video", "EditText"}
AVG_ITEMS = {"path", "group", "text"}
COMMANDS = {"Parallel", "Sequential", "SetPage", "SetValue", "AnimateItem", "Idle"}
MAX_RESPONSE_BYTES = 120 * 1024


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import skill.alexa.app

    monkeypatch.setenv("SKILL_DB", str(tmp_path / "skill.db"))
    monkeypatch.setenv("SKILL_TIME_ZONE", "UTC")
    for name in ("SKILL_TABLE", "SKILL_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(skill.alexa.app, "_skill", None)
    return skill.alexa.app.handler


class Session:
    """One Alexa session (envelopes from tools.envelopes): each response's sessionAttributes go
    into the next request."""

    def __init__(self, handler: Any, interfaces: dict[str, Any] | None) -> None:
        self.handler = handler
        self.caller = envelopes.Caller(
            session_id=f"amzn1.echo-api.session.{uuid.uuid4()}", new=True,
            user_id="amzn1.ask.account.display-test", device_id="amzn1.ask.device.1",
            supported_interfaces=dict(interfaces or {}))

    @property
    def attributes(self) -> dict[str, Any]:
        """The session attributes the last response sent back."""
        return self.caller.attributes

    def send(self, request: dict[str, Any]) -> dict[str, Any]:
        envelope = envelopes.envelope(
            request, self.caller, request_id=f"amzn1.echo-api.request.{uuid.uuid4()}",
            timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        response = self.handler(envelope, None)
        self.caller.new = False
        self.caller.attributes = response.get("sessionAttributes") or {}
        if (self.caller.attributes.get("coach") or {}).get("pending", [""])[0] == "body":
            return self.intent("AMAZON.NoIntent")  # the one-off body check: nothing to declare
        return response

    def intent(self, name: str, **slots: str) -> dict[str, Any]:
        return self.send(envelopes.intent_request(language_model("en-US"), name, slots))


def apl_directives(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in response["response"].get("directives") or []
            if d.get("type", "").startswith("Alexa.Presentation.APL")]


def start(handler: Any, routine: str, interfaces: dict | None = APL, **slots: str
          ) -> tuple[Session, dict[str, Any]]:
    session = Session(handler, interfaces)
    return session, session.intent("StartRoutineIntent", routine=routine, **slots)


# --- with and without a screen --------------------------------------------------------------

def test_a_step_on_an_echo_show(handler: Any) -> None:
    _, response = start(handler, "morning")
    [render] = apl_directives(response)
    assert render["type"] == "Alexa.Presentation.APL.RenderDocument"
    assert render["token"] == display.TOKEN
    screen = render["datasources"]["screen"]
    step = screen["steps"][0]
    assert step["progress"] == "Step 1 of 7"
    assert step["name"] == "belly breathing"
    assert step["instruction"].startswith("Breathe in slowly")
    assert step["holdLabel"] == "Hold for 15 seconds"
    assert step["pose"] == "settle_breath"
    assert screen["soft"] is False and screen["title"] == "Morning stretch"


def test_no_screen_no_directive_and_the_same_speech(handler: Any) -> None:
    _, with_screen = start(handler, "morning")
    _, without = start(handler, "morning", interfaces=None)
    assert apl_directives(without) == []
    assert without["response"]["outputSpeech"] == with_screen["response"]["outputSpeech"]


def test_the_countdown_follows_each_spoken_hold(handler: Any) -> None:
    session, _ = start(handler, "morning")
    response = session.intent("AMAZON.NextIntent")  # step 2: pelvic tilts, several holds
    [render] = apl_directives(response)
    step = render["datasources"]["screen"]["steps"][0]
    [parallel] = render["document"]["onMount"]
    holds = [c for c in parallel["commands"] if c["type"] == "Sequential"]
    assert len(holds) == int(step["holdLabel"].split()[0])
    seconds = int(re.search(r"of (\d+) seconds", step["holdLabel"]).group(1))
    delays = [h["delay"] for h in holds]
    assert delays == sorted(delays) and delays[0] > 0
    for hold in holds:
        animate, count = hold["commands"][0]["commands"]
        assert animate["type"] == "AnimateItem" and animate["duration"] == seconds * 1000
        assert count["data"] == list(range(seconds, 0, -1))
        assert [c["type"] for c in count["commands"]] == ["SetValue", "Idle"]
        assert count["commands"][1]["delay"] == 1000
    # Holds are at least the hold plus its cues apart.
    assert all(b - a >= seconds * 1000 for a, b in zip(delays, delays[1:], strict=False))


def test_bedtime_is_dark_and_dim(handler: Any) -> None:
    _, response = start(handler, "bedtime")
    [render] = apl_directives(response)
    assert render["datasources"]["screen"]["soft"] is True
    root = render["document"]["mainTemplate"]["items"][0]
    assert "screen.soft" in root["opacity"]
    background = root["items"][0]["backgroundColor"]
    assert evaluate(background, soft=True) == "#000000"
    assert evaluate(root["opacity"], soft=True) < evaluate(root["opacity"], soft=False)


def evaluate(expression: str, soft: bool) -> Any:
    """The two-way ``${screen.soft ? a : b}`` expressions this document uses."""
    match = re.fullmatch(r"\$\{screen\.soft \? (.+?) : (.+?)\}", expression)
    assert match, expression
    chosen = match.group(1 if soft else 2)
    return chosen.strip("'") if chosen.startswith("'") else float(chosen)


def test_an_answer_shows_its_text(handler: Any) -> None:
    session = Session(handler, APL)
    response = session.intent("QuestionIntent", query="is my back worse in the morning")
    [render] = apl_directives(response)
    screen = render["datasources"]["screen"]
    said = speech.plain_text(response["response"]["outputSpeech"]["ssml"])
    assert screen["text"] and screen["text"] in said
    assert screen["title"] == "Bedside Back Coach"
    assert "onMount" not in render["document"]


# --- the document's structure ---------------------------------------------------------------

def walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def bindings(node: Any) -> list[tuple[str, str]]:
    """(root, path) of every data binding like ${screen.steps} or ${data.name}."""
    found = []
    for value in json.dumps(node).split('"'):
        for expression in re.findall(r"\$\{([^}]*)\}", value):
            found += re.findall(r"\b(screen|data)((?:\.[A-Za-z_]+)*)", expression)
    return found


def resolve(data: Any, path: str) -> bool:
    for key in filter(None, path.split(".")):
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


@pytest.mark.parametrize("routine, mode", [("morning", "guided"), ("bedtime", "guided"),
                                           ("morning", "continuous")])
def test_the_document_is_valid_apl_for_the_data_it_is_sent_with(
        handler: Any, routine: str, mode: str) -> None:
    session, response = start(handler, routine)
    if mode == "continuous":
        response = session.intent("KeepGoingIntent")
    [render] = apl_directives(response)
    document, screen = render["document"], render["datasources"]["screen"]
    assert document["type"] == "APL" and re.fullmatch(r"\d{4}\.\d", document["version"])
    assert document["mainTemplate"]["parameters"] == ["screen"]
    _check_components(document)
    for graphic in document["graphics"].values():
        assert graphic["type"] == "AVG"
        assert all(item["type"] in AVG_ITEMS for item in graphic["items"])
    # Bindings: screen.* exists in what is sent; data.* exists in every step of the Pager.
    pager = next(n for _, n in walk(document["mainTemplate"]) if n.get("type") == "Pager")
    assert pager["data"] == "${screen.steps}"
    for root, path in bindings(document["mainTemplate"]):
        if root == "screen":
            assert resolve(screen, path), f"screen{path}"
        else:
            assert all(resolve(step, path) for step in screen["steps"]), f"data{path}"
    assert {s["pose"] for s in screen["steps"]} <= set(document["graphics"])
    # Commands: known types, and every component they name exists.
    ids = {n["id"] for _, n in walk(document["mainTemplate"]) if "id" in n}
    for _, command in walk(document.get("onMount", [])):
        if "type" in command:
            assert command["type"] in COMMANDS
        if "componentId" in command:
            assert command["componentId"] in ids
    for command in document.get("onMount", []):
        assert command["type"] in COMMANDS
    if mode == "continuous":
        pages = [c["value"] for _, c in walk(document["onMount"]) if c.get("type") == "SetPage"]
        assert pages == list(range(1, len(screen["steps"])))
    size = len(json.dumps(response).encode("utf-8"))
    assert size < MAX_RESPONSE_BYTES / 4, size  # well under Alexa's 120 KB, speech included


def components(node: dict[str, Any]) -> Any:
    """Every component: the template's items and, recursively, their item/items."""
    children = node.get("items", [])
    children = children if isinstance(children, list) else [children]
    if "item" in node:
        children = [*children, node["item"]]
    for child in children:
        yield child
        yield from components(child)


def _check_components(document: dict[str, Any]) -> None:
    found = list(components(document["mainTemplate"]))
    assert {"Pager", "VectorGraphic", "Text"} <= {c["type"] for c in found}
    for component in found:
        assert component["type"] in COMPONENTS, component["type"]


# --- the timing against the coach's own estimate ---------------------------------------------

def test_the_countdowns_follow_the_coachs_speech() -> None:
    session = coach.Session.from_dict({"mode": "continuous"})
    ctx = coach.Context("en-US", datetime(2026, 3, 2, 7, tzinfo=UTC))
    someone = coach.Profile.from_dict({"body_asked": "2026-03-01"})  # the body check is done
    reply = coach.respond(coach.Event("StartRoutineIntent", {"routine": "morning"}), session,
                          someone, ctx)
    assert isinstance(reply.screen, coach.StepsScreen)
    steps = reply.screen.steps
    assert len(steps) > 1
    plan = display.timeline(reply.screen)
    ends = [start for start, _, _ in plan[1:]] + [float("inf")]
    for shown, (start, holds, seconds), next_start in zip(steps, plan, ends, strict=True):
        assert start == shown.offset and seconds == shown.seconds
        assert len(holds) == shown.holds >= 1
        # Each hold starts after the step's words begin, holds never overlap, and the step's
        # last hold ends before the next step is spoken.
        assert start < holds[0]
        assert all(b - a >= seconds for a, b in zip(holds, holds[1:], strict=False))
        assert holds[-1] + seconds <= next_start


def test_a_screen_that_cannot_be_timed_still_renders() -> None:
    # A step with no hold to count down, for a movement with no drawing.
    step = coach.StepScreen(index=1, total=1, name="rest", movement="nonexistent",
                            instruction="Lie still.", seconds=0, holds=0, hold_starts=())
    screen = coach.StepsScreen("nonexistent", "stretch", False, (step,))
    name, data, commands = display.render(screen, "en-US")
    assert name == "steps" and commands == [] and data["steps"][0]["pose"] == display.REST_POSE


# --- a pose for every movement, as Amazon's validator sees it ---------------------------------

def apl_suggester(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings of apl-suggester, Amazon's APL validator, on one document."""
    node = require_node_package("apl-suggester")
    done = subprocess.run([node, str(REPO_ROOT / "tests" / "support" / "apl_check.js")],
                          input=json.dumps(document), capture_output=True, text=True,
                          timeout=60, cwd=REPO_ROOT, check=True)
    return json.loads(done.stdout.rsplit("FINDINGS ", 1)[1])


def test_every_movement_a_routine_can_reach_has_its_own_pose() -> None:
    """Variants bring side-lying, hip-safe and limited-range movements: each is drawn, rather
    than falling back to the resting figure."""
    with open(REPO_ROOT / "content" / "routines.toml", "rb") as handle:
        movements = set(tomllib.load(handle)["movements"])
    graphics = display.document("steps")["graphics"]
    assert movements <= set(graphics), sorted(movements - set(graphics))
    assert set(graphics) - movements == {display.REST_POSE}


@pytest.mark.slow
def test_the_poses_pass_amazons_apl_validator() -> None:
    findings = apl_suggester(display.document("steps"))
    assert not [f for f in findings if f["path"].startswith("/graphics")], findings
    assert not [f for f in findings if f["level"] == "ERROR"], findings


@pytest.mark.slow
def test_the_validator_would_catch_a_broken_pose() -> None:
    document = json.loads(json.dumps(display.document("steps")))
    document["graphics"]["side_knee_glide"]["items"].append({"type": "circle", "radius": 4})
    assert any(f["path"].startswith("/graphics/side_knee_glide")
               for f in apl_suggester(document))
