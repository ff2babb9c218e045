"""A coach who remembers: whole conversations across sessions and days, on both stores.

Every test here talks through the real request pipeline (`skill.alexa.app.invoke` on a skill built
with `build_skill(persistence=...)`), with envelopes from `tests.conversation`, and runs twice:

* sqlite: the embedded store, a file in a temporary directory;
* dynamodb: the stock ask-sdk DynamoDB adapter as `storage.adapter_from_env` builds it, against
  dynalite (a real DynamoDB-API server) started on 127.0.0.1, on a table made by
  `create_skill_table`. dynalite keeps its data on disk (persist=True), so stopping and starting
  it is an outage, not a wipe.

Requests to the store are counted per session: on the wire for DynamoDB (dynalite's counting
proxy: GetItem, PutItem and anything else by its X-Amz-Target name); for SQLite by the adapter's
calls under the same names (each is one SQL statement). An outage is real in both: dynalite
stopped (connections refused, open ones cut), or another process holding the SQLite file locked.

Every response of every conversation is also checked against Alexa's rules by the `talk` fixture.
"""

from __future__ import annotations

import collections
import contextlib
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
from skill.core import content, pacing, routine
from skill.core.profile import SCHEMA_VERSION
from tests.conversation import Conversation, Handler, Turn
from tests.support.dynalite import (
    Dynalite,
    create_skill_table,
    dynamodb_client,
    running_dynalite,
)
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
    """The SQLite store, its calls counted under DynamoDB's names: one assertion fits both."""

    def __init__(self, inner: AbstractPersistenceAdapter) -> None:
        self.inner = inner
        self.calls: collections.Counter[str] = collections.Counter()

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        self.calls["GetItem"] += 1
        return self.inner.get_attributes(request_envelope)

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        self.calls["PutItem"] += 1
        self.inner.save_attributes(request_envelope, attributes)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self.calls["DeleteItem"] += 1
        self.inner.delete_attributes(request_envelope)


@dataclass
class Store:
    """One backend as the tests see it: the skill on top, and ways around the skill to the data."""

    name: str
    handler: Handler  # the skill, built on this store
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
        """Another connection (as another process would) takes the file exclusively."""
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
        "sqlite", serve(counted), around,
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

    return Store("dynamodb", serve(skill_side), around, db.stop, db.start, db.counts,
                 db.reset_counts, plant_unreadable)


@pytest.fixture(params=["sqlite", "dynamodb"])
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


def hold(seconds: int, counting: str = "auto") -> str:
    """The SSML of one hold of `seconds`, counted as `counting` asks."""
    return pacing.hold_ssml(seconds, pacing.style_for(seconds, counting), WORDS)


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
    bob.utter("how am i doing").says("You haven't finished a routine with me yet")


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


def test_the_store_going_down_mid_session_costs_no_answer_and_loses_nothing(
    person: Callable[..., Conversation], store: Store, record_property: Callable[..., None]
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

    assert store.record(ALICE) == saved, "what was saved before the outage changed"
    opening, closing = morning(chat, day(3))
    opening.does_not_say(DISCLAIMER)
    # day 2 could not be saved; day 1 is still there
    closing.does_not_say_line("finish.streak_morning")
    chat.utter("ask bedside back coach how am i doing").says_line("progress.summary", total=2)


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
    "a newer schema version": {"profile": {
        "version": 99, "disclaimer_heard": True, "streaks": {"morning": 40}}},
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
