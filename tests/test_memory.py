"""A coach who remembers: whole conversations across sessions and days, on both stores.

Every test here talks through the real request pipeline (`skill.alexa.app.invoke` on a skill built
with `build_skill(persistence=...)`), with envelopes from `tests.conversation`, and runs twice:

* sqlite: the embedded store, a file in a temporary directory;
* dynamodb: the DynamoDB store as `storage.adapter_from_env` builds it (the stock ask-sdk
  adapter's table, conditional writes on a revision), against dynalite (a real DynamoDB-API
  server) started on 127.0.0.1, on a table made by `create_skill_table`. dynalite keeps its data
  on disk (persist=True), so stopping and starting it is an outage, not a wipe.

Requests to the store are counted per session: on the wire for DynamoDB (dynalite's counting
proxy: GetItem, PutItem and anything else by its X-Amz-Target name); for SQLite by the adapter's
calls under the same names (each is one SQL transaction). An outage is real in both: dynalite
stopped (connections refused, open ones cut), or another process holding the SQLite file locked.

One account on two Echos: two conversations with the same user id and different device ids,
their turns interleaved; each device's requests are counted turn by turn, and merges by the
skill's `storage_merge` log lines. Faults at a session's end: a table that hangs (a forwarder in
front of dynalite that stops forwarding), throttling (dynalite cannot throttle: a botocore hook
answers as DynamoDB does), a read-only directory, a corrupt file (tests/support/faults.py).

Every response of every conversation is also checked against Alexa's rules by the `talk` fixture.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import json
import logging
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User

from skill.alexa import app, storage
from skill.core import content, pacing, profile, routine
from skill.core.profile import SCHEMA_VERSION
from tests.conversation import Conversation, Handler, Turn
from tests.support.alexa_api import AlexaApi
from tests.support.dynalite import (
    Dynalite,
    create_skill_table,
    dynamodb_client,
    running_dynalite,
)
from tests.support.faults import Throttle, corrupt, read_only_dir
from tests.support.ssml import response_errors

Talk = Callable[..., Conversation]

OPEN = "open bedside back coach"
DISCLAIMER = "not a doctor"
SOFT = '<prosody rate="90%" volume="soft">'
ALICE = "amzn1.ask.account.ALICE"
BOB = "amzn1.ask.account.BOB"
CAROL = "amzn1.ask.account.CAROL"
DAY_1 = date(2024, 3, 5)  # a Tuesday
#: Lambda gives the skill 3 s; a store that is down must not take that from the person.
RESPONSE_BUDGET = 3.0
WORDS = pacing.CountWords.from_prompts(content.prompts("en-US").table)
FIRST_STEP = routine.get("morning").steps[0]  # the settling breath, held 15 s by default


# ---------------------------------------------------------------- the two stores


class CountedAdapter(AbstractPersistenceAdapter):
    """The SQLite store, its calls counted under DynamoDB's names: one assertion fits both.
    (Each is one SQL transaction; a conditional write that finds a conflict is still a PutItem,
    as it is on the wire for DynamoDB.)"""

    def __init__(self, inner: storage.SQLiteStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.worst_case, self.quick_worst_case = inner.worst_case, inner.quick_worst_case
        self.calls: collections.Counter[str] = collections.Counter()

    def read_record(self, request_envelope: RequestEnvelope, *, quick: bool = False
                    ) -> storage.Record:
        self.calls["GetItem"] += 1
        return self.inner.read_record(request_envelope, quick=quick)

    def write_record(self, request_envelope: RequestEnvelope, attributes: dict, expected: int,
                     *, quick: bool = False) -> int:
        self.calls["PutItem"] += 1
        return self.inner.write_record(request_envelope, attributes, expected, quick=quick)

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        self.calls["GetItem"] += 1
        return self.inner.get_attributes(request_envelope)

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        self.calls["UpdateItem"] += 1
        self.inner.save_attributes(request_envelope, attributes)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self.calls["DeleteItem"] += 1
        self.inner.delete_attributes(request_envelope)


@dataclass
class Store:
    """One backend as the tests see it: the skill on top, and ways around the skill to the data."""

    name: str
    handler: Handler  # the skill, built on this store
    skill_side: Any  # the store the skill uses
    around: AbstractPersistenceAdapter  # a second adapter on the same data, not counted
    go_down: Callable[[], None]
    come_up: Callable[[], None]
    counts: Callable[[], dict[str, int]]
    reset_counts: Callable[[], None]
    plant_unreadable: Callable[[str], None]  # a record the adapter itself cannot read

    def record(self, user: str) -> dict[str, Any]:
        """What is stored for `user`, read around the skill."""
        return self.around.get_attributes(request_envelope=envelope_for(user))

    def plant(self, user: str, attributes: dict[str, Any]) -> None:
        """Store a record for `user` as some other (older, broken) release might have."""
        self.around.save_attributes(request_envelope=envelope_for(user), attributes=attributes)


def envelope_for(user: str) -> RequestEnvelope:
    return RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user))))


def serve(adapter: AbstractPersistenceAdapter) -> Handler:
    built = app.build_skill(persistence=adapter)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.invoke(built, event, context)

    return handler


def sqlite_store(tmp_path: Path) -> Store:
    path = tmp_path / "memory" / "skill.db"
    counted = CountedAdapter(storage.adapter_from_env({"SKILL_DB": str(path)}))
    around = storage.adapter_from_env({"SKILL_DB": str(path)})
    holder: list[sqlite3.Connection] = []

    def go_down() -> None:
        """Another connection (as another process would) takes the file exclusively.

        No connection can while another is open on the file (WAL), and the store keeps one per
        thread: the skill's process lets go of the file first, as after a restart, so that its
        next read or write opens the file and finds it locked (a busy timeout, then
        `StorageUnavailable`)."""
        counted.inner.close()
        around.close()
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("PRAGMA locking_mode=EXCLUSIVE")
        lock.execute("BEGIN EXCLUSIVE")
        holder.append(lock)

    def come_up() -> None:
        lock = holder.pop()
        lock.execute("COMMIT")
        lock.close()

    def plant_unreadable(user: str) -> None:
        around.save_attributes(envelope_for(user), {})  # the file and table, as the skill has them
        with sqlite3.connect(path) as db:
            db.execute("UPDATE profiles SET attributes = ? WHERE id = ?", ("{'profile': not", user))

    return Store(
        "sqlite", serve(counted), counted, around,
        go_down, come_up, lambda: dict(counted.calls), counted.calls.clear, plant_unreadable,
    )


@pytest.fixture(scope="module")
def dynalite() -> Iterator[Dynalite]:
    with running_dynalite(persist=True) as db:  # persist: a restart keeps the items
        yield db


def use_dynalite_credentials(db: Dynalite, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 takes its credentials from the environment; undone after the test."""
    for name, value in db.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # nothing of ours outlives the test


def dynamodb_store(db: Dynalite, monkeypatch: pytest.MonkeyPatch) -> Store:
    table = f"memory-{uuid.uuid4().hex[:8]}"
    create_skill_table(db.endpoint, table)
    use_dynalite_credentials(db, monkeypatch)
    env = {**db.env(), "SKILL_TABLE": table}
    skill_side = storage.adapter_from_env(env)
    # Straight to dynalite, past the counting proxy: looking at the data costs the skill nothing.
    around = storage.adapter_from_env({**env, "AWS_ENDPOINT_URL_DYNAMODB": db.backend_endpoint})
    client = dynamodb_client(db.backend_endpoint)

    def plant_unreadable(user: str) -> None:
        client.put_item(TableName=table, Item={"id": {"S": user}, "junk": {"S": "not ours"}})

    return Store("dynamodb", serve(skill_side), skill_side, around, db.stop, db.start,
                 db.counts, db.reset_counts, plant_unreadable)


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Store:
    if request.param == "sqlite":
        return sqlite_store(tmp_path)
    return dynamodb_store(request.getfixturevalue("dynalite"), monkeypatch)


@pytest.fixture
def person(talk: Talk, store: Store) -> Callable[..., Conversation]:
    """Someone talking to the skill on `store`: ``person(ALICE, at="07:00")``."""

    def start(user: str = ALICE, **options: Any) -> Conversation:
        return talk(user=user, handler=store.handler, **options)

    return start


# ---------------------------------------------------------------- the conversation, in words


def morning(chat: Conversation, on: date) -> tuple[Turn, Turn]:
    """At 07:00 on `on`: "open", "yes", then "next" to the end of the morning stretch.

    Returns the opening and the closing turn.
    """
    chat.set_time("07:00", on=on)
    opening = chat.utter(OPEN).says_line("offer.morning").asks()
    chat.utter("yes").asks().at_step("morning", 0)
    for n in range(2, 7):
        chat.utter("next").asks().at_step("morning", n - 1)
    closing = chat.utter("next").says_line("finish.morning").ended()
    return opening, closing


def day(n: int) -> date:
    return DAY_1 + timedelta(days=n - 1)


def hold(seconds: int, counting: str = "auto", rate: int = 100) -> str:
    """The SSML of one hold of `seconds`, counted as `counting` asks, spoken at `rate` percent
    (the soft voice speaks at 90)."""
    return pacing.hold_ssml(seconds, pacing.style_for(seconds, counting), WORDS, rate)


def timed(action: Callable[[], Turn]) -> tuple[Turn, float]:
    started = time.monotonic()
    turn = action()
    return turn, time.monotonic() - started


def valid(turn: Turn) -> Turn:
    kind = "SessionEndedRequest" if turn.request_type == "SessionEndedRequest" else None
    errors = response_errors(turn.envelope, request_type=kind)
    assert not errors, f"Alexa would reject this response: {errors}: {turn}"
    return turn


# ---------------------------------------------------------------- streaks and progress


def test_mornings_in_a_row_are_counted_across_sessions(person: Callable[..., Conversation]
                                                       ) -> None:
    chat = person()
    opening, closing = morning(chat, day(1))
    opening.says(DISCLAIMER)
    closing.says_line("finish.first_ever").does_not_say("in a row")

    opening, closing = morning(chat, day(2))
    opening.does_not_say(DISCLAIMER)
    closing.says_line("finish.streak_morning", count=2).does_not_say_line("finish.first_ever")

    opening, closing = morning(chat, day(3))
    opening.does_not_say(DISCLAIMER)
    closing.says_line("finish.streak_morning", count=3)

    chat.set_time("21:00")
    progress = chat.utter("ask bedside back coach how am i doing").asks()
    progress.says_line("progress.summary", week=3, total=3)
    progress.says_line("progress.streak", count=3)


def test_a_skipped_day_starts_the_streak_again(person: Callable[..., Conversation]) -> None:
    chat = person()
    morning(chat, day(1))
    morning(chat, day(2))[1].says_line("finish.streak_morning", count=2)
    # Day 3: no stretch at all.
    _, closing = morning(chat, day(4))
    closing.does_not_say_line("finish.streak_morning").does_not_say_line("finish.first_ever")

    progress = chat.utter("ask bedside back coach how am i doing")
    progress.says_line("progress.summary", week=3, total=3).does_not_say_line("progress.streak")
    progress.asks()
    chat.utter("stop").ended()
    morning(chat, day(5))[1].says_line("finish.streak_morning", count=2)


def test_how_am_i_doing_before_any_routine_says_so_kindly(person: Callable[..., Conversation]
                                                          ) -> None:
    person().utter("ask bedside back coach how am i doing").says(
        "You haven't finished a routine with me yet").asks()


# ---------------------------------------------------------------- resuming


def stop_at_step_3(chat: Conversation, leave: str) -> None:
    chat.utter(OPEN)
    chat.utter("yes").says("Step 1 of 7")
    chat.utter("next").says("Step 2 of 7")
    chat.utter("next").says("Step 3 of 7").at_step("morning", 2)
    if leave == "stop":  # a few seconds into step 3: it is picked up again
        chat.utter("stop").ended()
    else:  # the person fell silent after step 3 was spoken, and Alexa closed the session
        chat.wait(minutes=2)
        chat.end("EXCEEDED_MAX_REPROMPTS").silent()


@pytest.mark.parametrize("leave", ["stop", "timeout"])
def test_a_relaunch_within_12_hours_offers_to_pick_up_from_step_3(
    person: Callable[..., Conversation], leave: str
) -> None:
    chat = person(at="07:00")
    stop_at_step_3(chat, leave)

    # Stopped a few seconds into step 3, it is done again; fallen silent after step 3 was
    # spoken to the end, the next time goes on with step 4.
    at = 3 if leave == "stop" else 4
    chat.wait(hours=2)
    offer = chat.utter(OPEN).says_line("resume.question", step=at, routine="morning stretch")
    offer.asks().does_not_say(DISCLAIMER).does_not_say_line("offer.morning")
    resumed = chat.utter("yes").says_line("navigate.resume").says(f"Step {at} of 7").asks()
    resumed.at_step("morning", at - 1).does_not_say_line("routine.start")
    chat.utter("next").says(f"Step {at + 1} of 7")


def test_after_13_hours_the_unfinished_routine_is_not_offered(
    person: Callable[..., Conversation]
) -> None:
    chat = person(at="07:00")
    stop_at_step_3(chat, "stop")

    chat.wait(hours=13)
    opening = chat.utter(OPEN).does_not_say_line("resume.question").asks()
    opening.says_line("offer.bedtime")  # 20:00: what suits the hour
    chat.utter("yes").says("Step 1 of 5").asks(reprompt=False)


def test_no_to_resuming_forgets_the_unfinished_routine(person: Callable[..., Conversation]
                                                       ) -> None:
    chat = person(at="07:00")
    stop_at_step_3(chat, "stop")
    chat.wait(hours=1)
    chat.utter(OPEN).says_line("resume.question")
    chat.utter("no").says_line("offer.morning")
    chat.utter("stop").ended()
    chat.wait(minutes=30)
    chat.utter(OPEN).does_not_say_line("resume.question").says_line("offer.morning")


# ---------------------------------------------------------------- preferences


def set_and_sleep(chat: Conversation, request: str, answer: str) -> None:
    """Say `request` in a session of its own at bedtime, hear the line `answer` (a prompt key),
    then come back the next morning."""
    chat.utter(OPEN)
    chat.utter(request).says_line(answer).asks()
    chat.utter("stop").ended()
    chat.set_time("07:00", on=chat.now.date() + timedelta(days=1))


def test_counting_every_second_is_kept_for_the_next_session(
    person: Callable[..., Conversation]
) -> None:
    chat = person(at="21:00")
    set_and_sleep(chat, "count every second", "pace.counting_every_second")

    chat.utter(OPEN).does_not_say(DISCLAIMER)
    step = chat.utter("yes").says("Step 1 of 7")
    assert hold(FIRST_STEP.hold, "every_second") in step.ssml, step
    assert hold(FIRST_STEP.hold, "auto") not in step.ssml, "still counted the default way"


def test_longer_holds_are_kept_for_the_next_session(person: Callable[..., Conversation]) -> None:
    chat = person(at="21:00")
    set_and_sleep(chat, "make the holds longer", "pace.longer_menu")

    chat.utter(OPEN)
    step = chat.utter("yes").says("Step 1 of 7")
    longer = FIRST_STEP.hold_for(routine.rescale(1.0, longer=True))
    assert longer > FIRST_STEP.hold
    assert hold(longer) in step.ssml, f"expected a {longer} s hold: {step}"
    assert hold(FIRST_STEP.hold) not in step.ssml, "still held for the default length"


def test_a_softer_voice_is_kept_for_the_next_session(person: Callable[..., Conversation]) -> None:
    chat = person(at="21:00")
    set_and_sleep(chat, "speak softer", "pace.voice_soft")

    opening = chat.utter(OPEN).says_line("offer.morning")
    assert SOFT in opening.ssml, opening.ssml
    step = chat.utter("yes").says("Step 1 of 7")
    assert SOFT in step.ssml
    # Only for this person.
    other = person(CAROL, at="07:00").utter(OPEN)
    assert SOFT not in other.ssml


def test_the_quick_routine_is_kept_as_the_morning_default(person: Callable[..., Conversation]
                                                          ) -> None:
    chat = person(at="21:00")
    set_and_sleep(chat, "make my routine short", "pace.length_quick")

    chat.utter(OPEN).says_line("offer.quick").asks()
    chat.utter("yes").says("Step 1 of 3").at_step("quick", 0)


# ---------------------------------------------------------------- people


def test_the_disclaimer_is_heard_once_per_person(person: Callable[..., Conversation]) -> None:
    alice = person(ALICE, at="07:00")
    alice.utter(OPEN).says(DISCLAIMER)
    alice.utter("yes").does_not_say(DISCLAIMER)
    alice.utter("stop").ended()
    for later in (dict(minutes=5), dict(days=1), dict(days=30)):
        alice.wait(**later)
        alice.utter(OPEN).does_not_say(DISCLAIMER).asks()
        alice.utter("stop")

    person(BOB, at="07:00").utter(OPEN).says(DISCLAIMER)


def test_two_people_in_sessions_at_the_same_time_are_kept_apart(
    person: Callable[..., Conversation], store: Store
) -> None:
    alice, bob = person(ALICE, at="07:00"), person(BOB, at="07:00")
    # Turn by turn, each in their own open session: Alice does the whole morning stretch; Bob
    # asks for a softer voice and stops at step 2.
    alice.utter(OPEN).says(DISCLAIMER)
    bob.utter(OPEN).says(DISCLAIMER)
    bob.utter("speak softer")
    alice.utter("yes").says("Step 1 of 7")
    bob.utter("morning stretch").says("Step 1 of 7")
    alice.utter("next").says("Step 2 of 7")
    bob.utter("next").says("Step 2 of 7")
    for n in range(3, 7):
        alice.utter("next").says(f"Step {n} of 7")
    alice.utter("next").says("Step 7 of 7").says_line("finish.first_ever").ended()
    bob.utter("stop").ended()

    assert store.record(ALICE)["profile"]["history"] == {day(1).isoformat(): ["morning"]}
    assert store.record(BOB)["profile"]["history"] == {}

    alice.wait(hours=1)
    bob.wait(hours=1)
    a, b = alice.utter(OPEN), bob.utter(OPEN)
    a.does_not_say(DISCLAIMER).does_not_say_line("resume.question").says_line("offer.morning")
    assert SOFT not in a.ssml
    b.does_not_say(DISCLAIMER).says_line("resume.question", step=2)
    assert SOFT in b.ssml
    alice.utter("how am i doing").says_line("progress.summary_one", total=1)
    bob.utter("no")
    bob.utter("how am i doing").says_line("progress.none")


# ---------------------------------------------------------------- requests per session


@pytest.mark.parametrize("ending", ["finished", "stopped", "timed out"])
def test_a_session_reads_once_and_writes_once(
    person: Callable[..., Conversation], store: Store, ending: str
) -> None:
    chat = person()
    for today in (day(1), day(2)):
        store.reset_counts()
        if ending == "finished":
            morning(chat, today)
        else:
            chat.set_time("07:00", on=today)
            chat.utter(OPEN)
            chat.utter("morning stretch").says("Step 1 of 7")
            chat.utter("next").says("Step 2 of 7")
            if ending == "stopped":
                chat.utter("stop").ended()
            else:
                chat.end().silent()
        assert store.counts() == {"GetItem": 1, "PutItem": 1}, f"{store.name} on {today}"


def test_a_session_that_changes_nothing_writes_nothing(
    person: Callable[..., Conversation], store: Store
) -> None:
    chat = person()
    morning(chat, day(1))  # something to remember

    chat.set_time("21:00")
    store.reset_counts()
    chat.utter(OPEN).does_not_say(DISCLAIMER)
    chat.utter("how am i doing").says_line("progress.summary_one", total=1)
    chat.utter("stop").ended()
    assert store.counts() == {"GetItem": 1}, store.name

    store.reset_counts()
    chat.utter(OPEN)
    chat.end().silent()
    assert store.counts() == {"GetItem": 1}, store.name


# ---------------------------------------------------------------- the store goes down


@pytest.mark.slow
def test_the_store_going_down_mid_session_costs_no_answer_and_loses_nothing(
    person: Callable[..., Conversation], store: Store, record_property: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = person()
    morning(chat, day(1))
    saved = store.record(ALICE)

    chat.set_time("07:00", on=day(2))
    chat.utter(OPEN).does_not_say(DISCLAIMER).asks()  # loaded while the store was up
    store.go_down()
    try:
        slowest = 0.0
        turns = ["yes", *["next"] * 6]
        for n, words in enumerate(turns, start=1):
            turn, seconds = timed(lambda words=words: chat.utter(words))
            valid(turn).at_step("morning", n - 1) if n < 7 else valid(turn).says("knee hug")
            assert seconds < RESPONSE_BUDGET, f"{seconds:.2f} s with the store down: {turn}"
            slowest = max(slowest, seconds)
        # What was loaded before the outage still counts: the coach knows yesterday.
        turn.says_line("finish.streak_morning", count=2).ended()
    finally:
        store.come_up()
    record_property(f"{store.name}_slowest_turn_store_down_mid_session", round(slowest, 3))
    # Not silently: tried again, then logged as lost, saying what kind of change it was.
    retrying, lost = failures(caplog)
    assert [r.levelno for r in retrying] == [logging.WARNING], retrying
    assert "op=write" in lost.getMessage() and "lost=completion" in lost.getMessage()

    assert store.record(ALICE) == saved, "what was saved before the outage changed"
    opening, closing = morning(chat, day(3))
    opening.does_not_say(DISCLAIMER)
    # day 2 could not be saved; day 1 is still there
    closing.does_not_say_line("finish.streak_morning")
    chat.utter("ask bedside back coach how am i doing").says_line("progress.summary", total=2)


def failures(caplog: pytest.LogCaptureFixture) -> tuple[list[logging.LogRecord],
                                                     logging.LogRecord]:
    """The storage failures logged: the retries (WARNING) and the one write lost (ERROR). No
    line names the person."""
    lines = [r for r in caplog.records if r.getMessage().startswith("storage_failure ")]
    assert all(ALICE not in r.getMessage() and "amzn1." not in r.getMessage() for r in lines)
    retrying = [r for r in lines if "outcome=retrying" in r.getMessage()]
    [lost] = [r for r in lines if "outcome=lost" in r.getMessage()]
    assert lost.levelno == logging.ERROR, lost
    return retrying, lost


@pytest.mark.slow
def test_a_store_down_at_the_start_means_no_memory_and_no_overwrite(
    person: Callable[..., Conversation], store: Store, record_property: Callable[..., None]
) -> None:
    chat = person()
    morning(chat, day(1))
    chat.set_time("21:00")
    set_and_sleep(chat, "speak softer", "pace.voice_soft")
    saved = store.record(ALICE)
    assert saved["profile"]["prefs"]["soft_voice"] is True

    store.reset_counts()
    store.go_down()
    try:
        opening, seconds = timed(lambda: chat.utter(OPEN))
        assert seconds < RESPONSE_BUDGET, f"{seconds:.2f} s to answer with the store down"
        record_property(f"{store.name}_launch_store_down_seconds", round(seconds, 3))
        # Without memory the coach cannot know her: a stranger's welcome, not a crash.
        valid(opening).says(DISCLAIMER).says_line("offer.morning").asks()
        assert SOFT not in opening.ssml
    finally:
        store.come_up()
    # The store is back before the session ends, and the session changes plenty...
    chat.utter("yes").says("Step 1 of 7")
    chat.utter("make it longer")
    chat.utter("count every second")
    chat.utter("stop").ended()
    # ...but a profile that was never loaded must not replace the one that is stored.
    assert store.record(ALICE) == saved
    assert store.counts().get("PutItem", 0) == 0, store.counts()

    chat.wait(hours=1)
    again = chat.utter(OPEN).does_not_say(DISCLAIMER)
    assert SOFT in again.ssml


@contextmanager
def table_that_never_answers() -> Iterator[str]:
    """An endpoint that accepts connections and reads nothing: a table hung, not refused."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(server.accept()[0])

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        yield "http://{}:{}".format(*server.getsockname())
    finally:
        stop.set()
        holder.join(timeout=1)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.slow
def test_a_table_that_never_answers_still_gets_every_answer_in_time(
    talk: Talk, dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[..., None],
) -> None:
    """DynamoDB only: the worst case is not a refused connection but one that hangs."""
    use_dynalite_credentials(dynalite, monkeypatch)
    with table_that_never_answers() as endpoint:
        env = {**dynalite.env(), "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SKILL_TABLE": "t"}
        chat = talk(handler=serve(storage.adapter_from_env(env)))
        seconds = []
        for words in (OPEN, "yes", "next", "stop"):  # a read at the start, a write at the end
            turn, took = timed(lambda words=words: chat.utter(words))
            valid(turn)
            seconds.append(took)
        turn.ended()
    record_property("dynamodb_slowest_turn_table_hanging", round(max(seconds), 3))
    assert max(seconds) < RESPONSE_BUDGET, seconds


# ---------------------------------------------------------------- old and broken records


def fresh_profile_expected(record: dict[str, Any], today: date) -> None:
    profile = record["profile"]
    assert profile["version"] == SCHEMA_VERSION
    assert profile["disclaimer_heard"] is True
    assert profile["history"] == {today.isoformat(): ["morning"]}
    assert profile["prefs"] == {"counting": "auto", "hold_scale": 1, "length": "full",
                                "soft_voice": False}
    assert profile["unfinished"] is None and profile["reminder"] is None


BROKEN_RECORDS = {
    "an older schema version": {"profile": {
        "version": 0, "disclaimer": "yes", "history": [["2024-03-04", "morning"]]}},
    "garbage types": {"profile": {
        "version": 1, "disclaimer_heard": "yes", "prefs": "loud", "history": ["2024-03-04"],
        "unfinished": "step three", "reminder": 42}},
    "garbage values": {"profile": {
        "version": 1, "disclaimer_heard": 1,
        "prefs": {"counting": "shout", "hold_scale": 99, "length": ["quick"], "soft_voice": "no"},
        "history": {"yesterday": ["morning"], "2024-03-04": "morning"},
        "unfinished": {"routine": "morning", "step": 99, "saved_at": "2024-03-05T11:00:00+00:00"},
    }},
    "a profile that is not a mapping": {"profile": ["morning", 3]},
    "no profile at all": {"something": "else"},
}


@pytest.mark.parametrize("broken", list(BROKEN_RECORDS))
def test_old_or_corrupt_records_are_reset_without_a_crash(
    person: Callable[..., Conversation], store: Store, broken: str
) -> None:
    store.plant(ALICE, BROKEN_RECORDS[broken])
    opening, closing = morning(person(), day(1))
    opening.says(DISCLAIMER).does_not_say_line("resume.question")
    closing.says_line("finish.first_ever")
    fresh_profile_expected(store.record(ALICE), day(1))


def test_an_unreadable_record_is_answered_without_memory(
    person: Callable[..., Conversation], store: Store
) -> None:
    store.plant_unreadable(ALICE)
    chat = person()
    valid(chat.utter(OPEN)).says_line("offer.morning").asks()
    valid(chat.utter("yes")).says("Step 1 of 7").asks()
    valid(chat.utter("stop")).ended()


def test_an_unreadable_record_is_replaced_after_the_session(
    person: Callable[..., Conversation], store: Store
) -> None:
    store.plant_unreadable(ALICE)
    chat = person()
    chat.utter(OPEN).says(DISCLAIMER)
    chat.utter("stop").ended()
    chat.wait(days=1)
    chat.utter(OPEN).does_not_say(DISCLAIMER)


# ---------------------------------------------------------------- a record we must not write


def test_a_record_from_a_newer_release_is_answered_read_only(
    person: Callable[..., Conversation], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A newer release wrote this record (a rollback, or two versions live during a deploy): the
    skill uses what it can read of it, says nothing about it, and never writes it back."""
    newer = {"profile": {
        "version": SCHEMA_VERSION + 1, "disclaimer_heard": True,
        "prefs": {"soft_voice": True, "counting": "a style from the future"},
        "history": {day(1).isoformat(): ["morning"]}, "streaks": {"morning": 40}}}
    store.plant(ALICE, newer)
    store.reset_counts()
    opening, closing = morning(person(), day(2))
    opening.does_not_say(DISCLAIMER)  # what it could read, it used
    assert SOFT in opening.ssml
    closing.says_line("finish.streak_morning", count=2)
    for turn in (opening, closing):
        turn.does_not_say("sorry", "error", "problem", "newer", "version", "update")
    assert store.record(ALICE) == newer, "a newer release's record was changed"
    assert store.counts() == {"GetItem": 1}, store.counts()
    assert any("storage_read_only reason=newer_schema" in r.getMessage() for r in caplog.records)


def test_a_record_too_large_to_carry_is_answered_read_only(
    person: Callable[..., Conversation], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Something wrote a record past our bound (a field of another release gone wild): it is
    not carried in the session (Alexa's 120 KB response) and not written back, and it is logged."""
    big = {"profile": {"version": SCHEMA_VERSION, "disclaimer_heard": True,
                       "history": {day(1).isoformat(): ["morning"]},
                       "notes": ["a note from another release " * 4] * 400}}
    assert profile.record_bytes(big["profile"]) > profile.MAX_RECORD_BYTES
    store.plant(ALICE, big)
    opening, closing = morning(person(), day(2))
    opening.does_not_say(DISCLAIMER)
    closing.says_line("finish.streak_morning", count=2)
    assert max(len(json.dumps(t.envelope)) for t in (opening, closing)) < 20_000
    assert store.record(ALICE) == big
    [line] = [r.getMessage() for r in caplog.records if "storage_failure" in r.getMessage()]
    assert "op=read" in line and "cause=RecordTooLarge" in line and "outcome=read_only" in line


# ---------------------------------------------------------------- bounds


@pytest.mark.slow
def test_a_scripted_500_routine_day_stays_within_the_bounds(
    person: Callable[..., Conversation], store: Store, record_property: Callable[..., None]
) -> None:
    """A client that finishes the quick stretch 500 times in a day, in 500 sessions, each sent
    straight to its last step: the day records its cap, and nothing grows past the bounds."""
    chat = person(at="07:00", seconds_per_turn=1)
    chat.utter(OPEN)
    chat.utter("quick stretch").says("Step 1 of 3")
    before_last = chat.utter("next").says("Step 2 of 3")
    at_last_step = {k: v for k, v in before_last.state.items()
                    if k not in (app.PROFILE, app.STORED)}
    largest = 0
    for _ in range(500):
        chat.new_session()
        envelope = chat.envelope({"type": "IntentRequest", "intent": {
            "name": "AMAZON.NextIntent", "confirmationStatus": "NONE", "slots": {}}})
        envelope["session"].update(new=False, attributes=copy.deepcopy(at_last_step))
        done = chat.send_envelope(envelope).says_line("finish.quick").ended()
        largest = max(largest, len(json.dumps(done.envelope).encode()))
    stored = store.record(ALICE)["profile"]
    assert stored["history"] == {day(1).isoformat(): ["quick"] * profile.MAX_COMPLETIONS_PER_DAY}
    size = profile.record_bytes(stored)
    record_property(f"{store.name}_record_bytes_after_500_routines", size)
    record_property(f"{store.name}_largest_response_bytes", largest)
    assert size < profile.MAX_RECORD_BYTES and largest < 120_000


def test_the_largest_record_fits_a_response_twice_over(
    person: Callable[..., Conversation], store: Store, record_property: Callable[..., None]
) -> None:
    """The most history a profile can hold (every day kept, each at its cap): a whole session
    carries it (and the record as read) well inside Alexa's 120 KB."""
    cap = profile.MAX_COMPLETIONS_PER_DAY
    history = {(day(1) - timedelta(days=n)).isoformat(): ["bedtime"] * cap
               for n in range(1, profile.HISTORY_DAYS + 2)}
    store.plant(ALICE, {"profile": {"version": SCHEMA_VERSION, "disclaimer_heard": True,
                                    "history": history}})
    chat = person()
    morning(chat, day(1))
    biggest = max(len(json.dumps(t.envelope).encode()) for t in chat.turns)
    record_property(f"{store.name}_largest_response_bytes_fullest_profile", biggest)
    assert biggest < 60_000, biggest
    assert len(store.record(ALICE)["profile"]["history"]) == profile.HISTORY_DAYS + 1


# ---------------------------------------------------------------- one person on two devices


BEDROOM = "amzn1.ask.device.BEDROOM"
BATHROOM = "amzn1.ask.device.BATHROOM"


class Device:
    """One Echo of a shared account: its conversation, and the store requests its turns made
    (counted turn by turn: the devices take turns, so each request is known to be its own)."""

    def __init__(self, chat: Conversation, store: Store) -> None:
        self.chat = chat
        self.store = store
        self.requests: collections.Counter[str] = collections.Counter()

    def _counted(self, action: Callable[[], Turn]) -> Turn:
        self.store.reset_counts()
        turn = action()
        self.requests.update(self.store.counts())
        return turn

    def utter(self, words: str) -> Turn:
        return self._counted(lambda: self.chat.utter(words))

    def intent(self, name: str, **slots: str) -> Turn:
        return self._counted(lambda: self.chat.intent(name, **slots))

    def end(self) -> Turn:
        return self._counted(self.chat.end)


@pytest.fixture
def devices(person: Callable[..., Conversation], store: Store
            ) -> Callable[..., tuple[Device, Device]]:
    """Alice's bedroom and bathroom Echos: ``bedroom, bathroom = devices(at="07:00")``."""

    def both(**options: Any) -> tuple[Device, Device]:
        return (Device(person(ALICE, device=BEDROOM, **options), store),
                Device(person(ALICE, device=BATHROOM, **options), store))

    return both


@pytest.fixture
def merges(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    caplog.set_level(logging.INFO, logger="skill.alexa.app")
    return lambda: sum("storage_merge" in r.getMessage() for r in caplog.records)


def test_preferences_set_on_two_devices_at_once_are_both_kept(
    devices: Callable[..., tuple[Device, Device]], store: Store, merges: Callable[[], int],
    record_property: Callable[..., None],
) -> None:
    bedroom, bathroom = devices(at="21:00")
    bedroom.utter(OPEN)
    bathroom.utter(OPEN)
    bedroom.utter("count every second").says_line("pace.counting_every_second")
    bathroom.utter("speak softer").says_line("pace.voice_soft")
    bedroom.utter("stop").ended()
    bathroom.utter("stop").ended()  # its write finds the bedroom's, and merges

    assert bedroom.requests == {"GetItem": 1, "PutItem": 1}, store.name
    assert bathroom.requests == {"GetItem": 2, "PutItem": 2}, store.name
    assert merges() == 1
    record_property(f"{store.name}_requests_first_session", dict(bedroom.requests))
    record_property(f"{store.name}_requests_merging_session", dict(bathroom.requests))

    for device in (bedroom, bathroom):
        device.chat.set_time("07:00", on=day(2))
        opening = device.utter(OPEN).does_not_say(DISCLAIMER)
        assert SOFT in opening.ssml
        step = device.utter("yes").says("Step 1 of 7")
        assert hold(FIRST_STEP.hold, "every_second", rate=90) in step.ssml
        device.utter("stop")


def test_the_same_preference_changed_on_both_keeps_the_later_choice(
    devices: Callable[..., tuple[Device, Device]], store: Store, merges: Callable[[], int]
) -> None:
    """The bathroom asked for sparse counting after the bedroom asked for every second, but its
    session ended first: the bedroom's older choice must not win by ending later."""
    bedroom, bathroom = devices(at="21:00")
    bedroom.utter(OPEN)
    bedroom.utter("count every second").says_line("pace.counting_every_second")
    bathroom.chat.wait(minutes=1)
    bathroom.utter(OPEN)
    bathroom.utter("count less often")
    bathroom.utter("stop")
    bedroom.chat.wait(minutes=5)
    bedroom.utter("stop")
    assert merges() == 1
    assert store.record(ALICE)["profile"]["prefs"]["counting"] == "sparse"


def test_a_routine_finished_on_one_device_outlives_an_older_session_on_the_other(
    devices: Callable[..., tuple[Device, Device]], store: Store, merges: Callable[[], int],
    record_property: Callable[..., None],
) -> None:
    """The bedroom starts the morning stretch and wanders off at step 2; the bathroom does the
    whole of it; then the bedroom's session times out. The routine done is not erased, and the
    one left off earlier is not offered again."""
    bedroom, bathroom = devices(at="07:00")
    bedroom.utter(OPEN)
    bedroom.utter("morning stretch").says("Step 1 of 7")
    bedroom.utter("next").says("Step 2 of 7")

    bathroom.chat.set_time("07:01")
    opening, closing = morning_on(bathroom)
    closing.says_line("finish.morning")

    bedroom.chat.set_time("07:09")
    bedroom.end().silent()  # Alexa closes the forgotten session
    assert merges() == 1
    assert bedroom.requests == {"GetItem": 2, "PutItem": 2}, store.name
    assert bathroom.requests == {"GetItem": 1, "PutItem": 1}, store.name
    record_property(f"{store.name}_requests_session_that_merged", dict(bedroom.requests))

    assert store.record(ALICE)["profile"]["history"] == {day(1).isoformat(): ["morning"]}
    bedroom.chat.set_time("07:30")
    bedroom.utter(OPEN).does_not_say(DISCLAIMER).does_not_say_line("resume.question")
    bedroom.utter("how am i doing").says_line("progress.summary_one", total=1)
    bedroom.utter("stop")
    _, closing = morning_on(bedroom, day(2))
    closing.says_line("finish.streak_morning", count=2)


def test_a_routine_left_off_after_the_other_device_finished_one_is_offered(
    devices: Callable[..., tuple[Device, Device]], store: Store, merges: Callable[[], int]
) -> None:
    bedroom, bathroom = devices(at="07:00")
    bedroom.utter(OPEN)
    bedroom.utter("morning stretch").says("Step 1 of 7")

    bathroom.chat.set_time("07:01")
    bathroom.utter(OPEN)
    bathroom.utter("quick stretch").says("Step 1 of 3")
    bathroom.utter("next")
    bathroom.utter("next").says_line("finish.quick").ended()

    bedroom.chat.set_time("07:03")
    bedroom.utter("next").says("Step 2 of 7")
    bedroom.utter("next").says("Step 3 of 7")
    bedroom.utter("stop").ended()
    assert merges() == 1

    bathroom.chat.set_time("07:20")
    bathroom.utter(OPEN).says_line("resume.question", step=3, routine="morning stretch")
    bathroom.utter("no")
    bathroom.utter("how am i doing").says_line("progress.summary_one", total=1)


def morning_on(device: Device, on: date | None = None) -> tuple[Turn, Turn]:
    """The whole morning stretch on `device` (at its own clock's time, or 07:00 on `on`)."""
    if on is not None:
        device.chat.set_time("07:00", on=on)
    opening = device.utter(OPEN).says_line("offer.morning").asks()
    device.utter("yes").says("Step 1 of 7")
    for n in range(2, 7):
        device.utter("next").says(f"Step {n} of 7")
    return opening, device.utter("next").says("Step 7 of 7").says_line("finish.morning").ended()


def test_a_reminder_set_on_one_device_and_a_routine_done_on_the_other_are_both_kept(
    store: Store, talk: Talk, merges: Callable[[], int], monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[..., None],
) -> None:
    """At bedtime, the bedroom sets the nightly reminder while the bathroom does the bedtime
    stretch; the next evening the reminder is still known (and cancelled) on the bathroom's."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    def granted(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for user in (event["session"]["user"], event["context"]["System"]["user"]):
            user["permissions"] = {"consentToken": "consent-token-for-reminders"}
        return store.handler(event, context)

    zone = "America/Denver"
    with AlexaApi(time_zones={BEDROOM: zone, BATHROOM: zone}) as api:
        options = dict(user=ALICE, at="20:30", tz=zone, api_endpoint=api.endpoint,
                       handler=granted)
        bedroom = Device(talk(device=BEDROOM, **options), store)
        bathroom = Device(talk(device=BATHROOM, **options), store)
        bedroom.utter(OPEN).says_line("offer.bedtime")
        bathroom.utter(OPEN)
        bathroom.utter("yes").says("Step 1 of 5")
        bedroom.intent("SetReminderIntent", time="22:00").says_line(
            "reminder.confirm_question", time="10 p.m.", when="every night")
        bedroom.utter("yes").says_line("reminder.done")
        [token] = api.reminders
        bedroom.utter("stop").ended()
        # Bedtime goes on by itself: the rest of it in one more reply.
        bathroom.utter("yes").says("Step 5 of 5").says_line("finish.bedtime").ended()
        assert merges() == 1
        assert bathroom.requests == {"GetItem": 2, "PutItem": 2}, store.name
        record_property(f"{store.name}_requests_reminder_and_routine", {
            "bedroom": dict(bedroom.requests), "bathroom": dict(bathroom.requests)})

        stored = store.record(ALICE)["profile"]
        assert stored["reminder"] == token
        assert stored["history"] == {day(1).isoformat(): ["bedtime"]}
        bathroom.chat.wait(days=1)
        bathroom.utter("ask bedside back coach to cancel my reminder").says_line(
            "reminder.cancelled")
        assert api.deleted == [token]


# ---------------------------------------------------------------- failures at the session's end


@contextmanager
def writes_fail_for_a_moment(store: Store) -> Iterator[None]:
    """The store refuses the session's first write and takes the second. SQLite: another process
    holds the write lock for 1.3 s (longer than one write waits; the skill's kept connection
    still reads). DynamoDB: the table throttles both of botocore's attempts at the first write
    (dynalite cannot throttle: a botocore hook answers as a throttled DynamoDB does)."""
    if store.name == "sqlite":
        path = store.skill_side.inner.path
        lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        lock.execute("BEGIN IMMEDIATE")

        def release() -> None:
            lock.execute("ROLLBACK")
            lock.close()

        timer = threading.Timer(1.3, release)
        timer.start()
        try:
            yield
        finally:
            timer.join()
        return
    main = store.skill_side.adapter.dynamodb.meta.client
    throttle = Throttle("PutItem", times=storage.DYNAMODB_MAX_ATTEMPTS)
    main.meta.events.register("before-send.dynamodb.PutItem", throttle)
    try:
        yield
    finally:
        main.meta.events.unregister("before-send.dynamodb.PutItem", throttle)
    assert throttle.answered == storage.DYNAMODB_MAX_ATTEMPTS


@pytest.mark.slow
def test_a_write_refused_at_the_end_is_tried_again_and_the_routine_kept(
    person: Callable[..., Conversation], store: Store, caplog: pytest.LogCaptureFixture,
    record_property: Callable[..., None],
) -> None:
    chat = person()
    chat.utter(OPEN)
    chat.utter("yes").says("Step 1 of 7")
    for n in range(2, 7):
        chat.utter("next").says(f"Step {n} of 7")
    store.reset_counts()
    with writes_fail_for_a_moment(store):
        closing, seconds = timed(lambda: chat.utter("next"))
    valid(closing).says_line("finish.morning").ended()
    record_property(f"{store.name}_closing_turn_with_a_retried_write", round(seconds, 3))
    assert seconds < RESPONSE_BUDGET, seconds

    assert store.record(ALICE)["profile"]["history"] == {day(1).isoformat(): ["morning"]}
    lines = [r for r in caplog.records if r.getMessage().startswith("storage_failure ")]
    [retrying] = lines
    assert retrying.levelno == logging.WARNING and "outcome=retrying" in retrying.getMessage()
    code = "SQLITE_BUSY" if store.name == "sqlite" else "ProvisionedThroughputExceededException"
    assert f"code={code}" in retrying.getMessage(), retrying.getMessage()
    if store.name == "dynamodb":  # the throttled attempts never reached dynalite
        assert store.counts() == {"PutItem": 1}, store.counts()


class HangingSwitch:
    """A TCP forwarder in front of dynalite that can be told to stop forwarding: every request
    from then on is swallowed and never answered, as by a table that hangs mid-session."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.hung = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return "http://{}:{}".format(*self.server.getsockname())

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            backend = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, backend]
            threading.Thread(target=self._pump, args=(client, backend, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(backend, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if upstream and self.hung.is_set():
                    continue  # swallowed: the table never hears of it
                sink.sendall(data)

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


@pytest.mark.slow
def test_a_table_that_hangs_at_the_end_costs_the_routine_but_not_the_answer(
    talk: Talk, dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, record_property: Callable[..., None],
) -> None:
    """DynamoDB only, the slowest way a session's end can fail: the record was read, then the
    table stops answering (every write times out: two attempts, backoff, and the retry)."""
    table = f"memory-{uuid.uuid4().hex[:8]}"
    create_skill_table(dynalite.endpoint, table)
    use_dynalite_credentials(dynalite, monkeypatch)
    switch = HangingSwitch(dynalite.backend_port)
    try:
        env = {**dynalite.env(), "AWS_ENDPOINT_URL_DYNAMODB": switch.endpoint,
               "SKILL_TABLE": table}
        chat = talk(user=ALICE, handler=serve(storage.adapter_from_env(env)))
        chat.utter(OPEN)
        chat.utter("yes").says("Step 1 of 7")
        for n in range(2, 7):
            chat.utter("next").says(f"Step {n} of 7")
        switch.hung.set()
        closing, seconds = timed(lambda: chat.utter("next"))
    finally:
        switch.close()
    valid(closing).says_line("finish.morning").ended()
    record_property("dynamodb_closing_turn_table_hanging_seconds", round(seconds, 3))
    assert seconds < RESPONSE_BUDGET, seconds
    retrying, lost = failures(caplog)
    assert len(retrying) == 1 and "ReadTimeoutError" in retrying[0].getMessage()
    assert "lost=completion" in lost.getMessage() and "cause=ReadTimeoutError" in lost.getMessage()


@pytest.fixture
def sqlite_chat(talk: Talk, tmp_path: Path) -> tuple[Conversation, storage.SQLiteStore]:
    """Alice, on the skill with its SQLite file in a directory of its own."""
    home = tmp_path / "store"
    home.mkdir()
    store = storage.SQLiteStore(home / "skill.db")
    return talk(user=ALICE, handler=serve(store)), store


def test_a_corrupt_sqlite_file_is_answered_without_memory_and_said_why(
    sqlite_chat: tuple[Conversation, storage.SQLiteStore], caplog: pytest.LogCaptureFixture
) -> None:
    chat, store = sqlite_chat
    path = store.path
    morning(chat, day(1))
    corrupt(path)
    opening, closing = morning(chat, day(2))
    valid(opening).says(DISCLAIMER)  # a stranger's welcome: no memory, no crash
    closing.does_not_say("in a row")
    lines = [r.getMessage() for r in caplog.records if "storage_failure" in r.getMessage()]
    assert lines and all("op=read store=sqlite cause=DatabaseError code=SQLITE_NOTADB"
                         " outcome=no_memory" in line for line in lines), lines
    assert ALICE not in caplog.text
    assert path.read_bytes().startswith(b"this is not a database"), "the evidence was replaced"


def test_a_read_only_directory_at_the_end_is_logged_as_a_lost_routine(
    sqlite_chat: tuple[Conversation, storage.SQLiteStore], caplog: pytest.LogCaptureFixture,
    record_property: Callable[..., None],
) -> None:
    """What a full disk does too: the session read its record, then nothing can be written.
    The last turn is answered by a process that opens the file then (another worker, or this
    one restarted): a connection kept from the read would go on writing into the files it holds
    open."""
    chat, store = sqlite_chat
    path = store.path
    chat.utter(OPEN)
    chat.utter("yes").says("Step 1 of 7")
    for n in range(2, 7):
        chat.utter("next").says(f"Step {n} of 7")
    store.close()
    with read_only_dir(path.parent):
        closing, seconds = timed(lambda: chat.utter("next"))
    valid(closing).says_line("finish.morning").ended()
    record_property("sqlite_closing_turn_read_only_dir_seconds", round(seconds, 3))
    assert seconds < RESPONSE_BUDGET
    retrying, lost = failures(caplog)
    assert len(retrying) == 1
    assert re.search(r"code=SQLITE_(CANTOPEN|READONLY)\S* outcome=lost", lost.getMessage()), lost
    assert "lost=completion" in lost.getMessage()


class Crowded(CountedAdapter):
    """The SQLite store with someone else writing just before each of this skill's writes (a
    third device, a fourth...): every write of ours finds a conflict."""

    def write_record(self, request_envelope: RequestEnvelope, attributes: dict, expected: int,
                     *, quick: bool = False) -> int:
        current = self.inner.read_record(request_envelope)
        other = {"profile": {**current.attributes.get("profile", {}), "disclaimer_heard": True}}
        self.inner.save_attributes(request_envelope, other)
        return super().write_record(request_envelope, attributes, expected, quick=quick)


class LostAnswer(CountedAdapter):
    """The SQLite store whose first write lands but whose answer is lost (a timeout after the
    table applied it): the retry must not count the routine twice."""

    def write_record(self, request_envelope: RequestEnvelope, attributes: dict, expected: int,
                     *, quick: bool = False) -> int:
        revision = super().write_record(request_envelope, attributes, expected, quick=quick)
        if self.calls["PutItem"] == 1:
            raise storage.StorageUnavailable("timed out", store="sqlite", cause="ReadTimeout")
        return revision


def whole_morning(chat: Conversation) -> Turn:
    chat.utter(OPEN)
    chat.utter("yes").says("Step 1 of 7")
    for n in range(2, 7):
        chat.utter("next").says(f"Step {n} of 7")
    return chat.utter("next").says_line("finish.morning").ended()


def test_conflicts_without_end_are_given_up_after_three_merges_and_said(
    talk: Talk, tmp_path: Path, merges: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    crowded = Crowded(storage.SQLiteStore(tmp_path / "skill.db"))
    valid(whole_morning(talk(user=ALICE, handler=serve(crowded))))
    assert merges() == app.MAX_MERGES
    assert crowded.calls == {"GetItem": 1 + app.MAX_MERGES, "PutItem": 1 + app.MAX_MERGES}
    _, lost = failures(caplog)
    assert "op=merge" in lost.getMessage() and "cause=Conflict" in lost.getMessage()
    assert f"merges={app.MAX_MERGES}" in lost.getMessage()


def test_a_write_that_landed_but_lost_its_answer_is_not_counted_twice(
    talk: Talk, tmp_path: Path, merges: Callable[[], int]
) -> None:
    store = LostAnswer(storage.SQLiteStore(tmp_path / "skill.db"))
    valid(whole_morning(talk(user=ALICE, handler=serve(store))))
    record = store.inner.read_record(envelope_for(ALICE)).attributes
    assert record["profile"]["history"] == {day(1).isoformat(): ["morning"]}
    assert merges() == 0


class TakenOver(CountedAdapter):
    """The SQLite store where a newer release writes the record just before this session's
    write (a rolling deploy): its record must not be merged into, or overwritten."""

    def write_record(self, request_envelope: RequestEnvelope, attributes: dict, expected: int,
                     *, quick: bool = False) -> int:
        if self.calls["PutItem"] == 0:
            self.inner.save_attributes(request_envelope, NEWER)
        return super().write_record(request_envelope, attributes, expected, quick=quick)


NEWER = {"profile": {"version": SCHEMA_VERSION + 1, "disclaimer_heard": True, "levels": [3]}}


def test_a_record_taken_over_by_a_newer_release_meanwhile_is_left_alone(
    talk: Talk, tmp_path: Path, merges: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    store = TakenOver(storage.SQLiteStore(tmp_path / "skill.db"))
    valid(whole_morning(talk(user=ALICE, handler=serve(store))))
    assert store.inner.read_record(envelope_for(ALICE)).attributes == NEWER
    assert merges() == 0
    _, lost = failures(caplog)
    assert "cause=NewerSchema" in lost.getMessage() and "lost=completion" in lost.getMessage()


# ---------------------------------------------------------------- forgetting


def test_forget_what_you_know_about_me_deletes_the_record_in_either_store(
    person: Callable[..., Conversation], store: Store
) -> None:
    chat = person()
    morning(chat, day(1))
    assert store.record(ALICE)["profile"]["history"]
    chat.set_time("21:00")
    chat.utter(OPEN)
    chat.utter("forget what you know about me").says_line("forget.question").asks()
    chat.utter("yes").says_line("forget.done").ended()
    assert store.record(ALICE) in (None, {}), store.name
    chat.wait(hours=1)
    chat.utter(OPEN).says(DISCLAIMER)  # nobody it knows
