"""The skill refuses to run open: without a skill ID it answers no one's requests (any skill's
would otherwise get through), says why in the log, and still answers kindly, touching no store.
Local development says so explicitly (SKILL_LOCAL=1, set for every other test by conftest).

And the Lambda entry point sets its logger levels itself, rather than inheriting the runtime's.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import skill.alexa.app as app
from tests.conversation import SKILL_ID, Conversation

ROOT = Path(__file__).resolve().parents[1]
OPEN = "open bedside back coach"


@pytest.fixture
def production(skill_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of a Lambda function deployed by hand without SKILL_ID."""
    monkeypatch.delenv("SKILL_LOCAL", raising=False)
    return skill_db


def test_without_a_skill_id_every_request_is_refused(
    production: Path, talk: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    someone = talk(at="07:00")
    someone.utter(OPEN).says("Sorry, something went wrong").ended()
    question = someone.utter("ask bedside back coach why is my back stiff, I am Jane at 12 Elm")
    question.says("Sorry, something went wrong").ended()
    someone.launch()
    someone.end().silent()  # SessionEndedRequest: nothing to say, and no crash
    # Nothing was read or written: the SQLite file was never even created.
    assert not production.exists()
    refusals = [r for r in caplog.records if r.name == "skill.alexa.refusal"]
    assert {r.levelno for r in refusals} == {logging.ERROR}
    said = [r.getMessage() for r in refusals]
    assert "refused a LaunchRequest: SKILL_ID is not set" in said[1], said
    assert any("refused a IntentRequest" in m for m in said)
    assert any("refused a SessionEndedRequest" in m for m in said)
    assert all("SKILL_LOCAL=1" in m for m in said)
    assert not [r for r in caplog.records if "Jane" in r.getMessage() or "Elm" in r.getMessage()]


@pytest.mark.parametrize("value", ["0", "", "yes"])
def test_only_skill_local_1_is_local_development(
    production: Path, talk: object, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SKILL_LOCAL", value)
    talk(at="07:00").utter(OPEN).says("Sorry, something went wrong").ended()


def test_an_empty_skill_id_is_no_skill_id(production: Path, talk: object,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILL_ID", "")
    talk(at="07:00").utter(OPEN).says("Sorry, something went wrong").ended()
    built = app.build_skill(skill_id="")
    answer = app.invoke(built, Conversation(at="07:00").envelope({"type": "LaunchRequest"}))
    assert answer["response"]["shouldEndSession"] is True


def test_with_its_skill_id_it_answers(
    production: Path, talk: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILL_ID", SKILL_ID)
    talk(at="07:00").utter(OPEN).says("Good morning").asks()
    assert production.exists()  # its memory is in use


def test_in_local_development_it_answers_without_a_skill_id(skill_db: Path, talk: object) -> None:
    assert os.environ.get("SKILL_LOCAL") == "1" and "SKILL_ID" not in os.environ
    talk(at="07:00").utter(OPEN).says("Good morning").asks()


_ENTRY = """
import json, logging, sys
import lambda_function
levels = {name: logging.getLevelName(logging.getLogger(name).getEffectiveLevel())
          for name in ("root", "skill", "skill.alexa.app", "ask_sdk_core", "botocore")}
levels["root"] = logging.getLevelName(logging.getLogger().level)
reply = lambda_function.handler(json.loads(sys.stdin.read()), None)
print(json.dumps({"levels": levels, "reply": reply}))
"""


@pytest.mark.slow
def test_lambda_entry_sets_logger_levels_and_refuses_without_a_skill_id(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILL_")}
    env.update(SKILL_DB=str(tmp_path / "skill.db"), PYTHONPATH=f"{ROOT / 'lambda'}:{ROOT}")
    proc = subprocess.run(
        [sys.executable, "-c", _ENTRY],
        input=json.dumps(Conversation(at="07:00").envelope({"type": "LaunchRequest"})),
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["levels"] == {"root": "WARNING", "skill": "INFO", "skill.alexa.app": "INFO",
                             "ask_sdk_core": "WARNING", "botocore": "WARNING"}  # fmt: skip
    assert out["reply"]["response"]["shouldEndSession"] is True
    assert "ERROR skill.alexa.refusal: refused a LaunchRequest: SKILL_ID is not set" in proc.stderr
    assert not (tmp_path / "skill.db").exists()
