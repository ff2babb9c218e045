"""Shared fixtures: a skill with its own SQLite store, and conversations with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conversation import Conversation


@pytest.fixture(scope="session", autouse=True)
def local_development() -> Iterator[None]:
    """Tests run the skill as local development does: SKILL_LOCAL=1, so it answers without a
    skill ID (servers the tests start inherit it). Tests of the refusal take it away."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKILL_LOCAL", "1")
        yield


@pytest.fixture
def skill_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The skill as Lambda builds it from the environment, storing profiles in a fresh SQLite
    file; no DynamoDB table, no skill ID check, no time zone override."""
    import skill.alexa.app

    path = tmp_path / "skill.db"
    monkeypatch.setenv("SKILL_DB", str(path))
    for name in ("SKILL_TABLE", "SKILL_ID", "SKILL_TIME_ZONE"):
        monkeypatch.delenv(name, raising=False)
    # rebuilt from this environment on first use
    monkeypatch.setattr(skill.alexa.app, "_skill", None)
    return path


@pytest.fixture
def talk(skill_db: Path) -> Iterator[Callable[..., Conversation]]:
    """Start a conversation: ``talk(at="21:30")``. Every response of every conversation the
    test had is checked against Alexa's platform rules when it ends."""
    from tests.support.ssml import responses_errors

    started: list[Conversation] = []

    def start(**options: Any) -> Conversation:
        conversation = Conversation(**options)
        started.append(conversation)
        return conversation

    yield start
    turns = [turn for conversation in started for turn in conversation.turns]
    # Alexa takes no speech in answer to either of these.
    kinds = ["SessionEndedRequest" if turn.request_type in (
        "SessionEndedRequest", "System.ExceptionEncountered") else turn.request_type
        for turn in turns]
    problems = [f"{turn.request_type} {turn.request['request'].get('intent')}: {errors}"
                for turn, errors in zip(turns, responses_errors(
                    [(turn.envelope, kind) for turn, kind in zip(turns, kinds, strict=True)]),
                    strict=True)
                if errors]
    assert not problems, "responses Alexa would reject:\n" + "\n".join(problems)
