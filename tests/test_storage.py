"""Memory across sessions: one suite run against both stores the skill can use.

* sqlite: the embedded file store, in a temporary directory;
* dynamodb: the DynamoDB store `adapter_from_env` builds (the stock ask-sdk adapter's table and
  item layout, with a revision), against dynalite (a real DynamoDB-API server) on 127.0.0.1.

An outage is real in both: an exclusive lock on the SQLite file held by another connection (which
it can take only while the store holds none: see `sqlite_locked`), dynalite stopped (connections
refused and cut) for DynamoDB. A store that is down must fail fast, as `StorageUnavailable`, so
the skill still answers within Lambda's 3 s. Writes are conditional on the revision read
(`Conflict` otherwise), and every failure says why in one `storage_failure` log line that names
no one. Throttling is a botocore hook answering as DynamoDB does (dynalite
cannot throttle); a read-only directory is chmod, or chattr +i for root.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter, AttributesManager
from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User

from skill.alexa.storage import (
    DYNAMODB_MAX_ATTEMPTS,
    FAILURE_MARKER,
    RECENT_WRITERS,
    RETENTION_SECONDS,
    TTL_ATTRIBUTE,
    WRITERS_ATTRIBUTE,
    Conflict,
    DynamoDbStore,
    Record,
    SQLiteStore,
    StorageUnavailable,
    adapter_from_env,
    log_failure,
)
from tests.support import REPO_ROOT
from tests.support.dynalite import Dynalite, create_skill_table, running_dynalite
from tests.support.faults import corrupt, dynamodb_throttled, read_only_dir

FIXED_NOW = 1_750_000_000  # 2025-06-15T15:06:40Z
OUTAGE_BUDGET = 2.0  # seconds a load or a save may take to give up; the skill has 3 s in all

ALICE = "amzn1.ask.account.ALICE"
BOB = "amzn1.ask.account.BOB"


def envelope(user_id: str | None) -> RequestEnvelope:
    user = User(user_id=user_id) if user_id is not None else None
    return RequestEnvelope(context=Context(system=SystemState(user=user)))


def fixed_clock() -> float:
    return FIXED_NOW


@dataclass
class Backend:
    name: str
    adapter: AbstractPersistenceAdapter
    raw: Callable[[str], dict[str, Any] | None]  # the stored record, read around the adapter
    outage: Callable[[], AbstractContextManager[None]]  # the store is down inside this block

    def load(self, user_id: str) -> dict[str, Any]:
        return self.adapter.get_attributes(request_envelope=envelope(user_id))

    def save(self, user_id: str, attributes: dict[str, Any]) -> None:
        self.adapter.save_attributes(request_envelope=envelope(user_id), attributes=attributes)

    def delete(self, user_id: str) -> None:
        self.adapter.delete_attributes(request_envelope=envelope(user_id))


# ---------------------------------------------------------------- the two backends


@contextmanager
def sqlite_locked(store: SQLiteStore) -> Iterator[None]:
    """Another process holds the file exclusively: nobody else can read or write it.

    In WAL mode no connection can take the file exclusively while another one is open on it, and
    the store keeps its connection between operations: it lets go of it first, as a process does
    after a failure or a restart, so that its next operation opens the file and finds it locked.
    (What a kept connection meets is a writer holding the lock too long: see
    `test_sqlite_a_writer_holding_the_lock_fails_writes_fast_and_reads_still_answer`.)
    """
    store.close()
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("COMMIT")
    finally:
        holder.close()


def sqlite_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    path = tmp_path / "data" / "skill.db"  # the directory does not exist yet
    monkeypatch.delenv("SKILL_TABLE", raising=False)
    monkeypatch.setenv("SKILL_DB", str(path))
    adapter = adapter_from_env(clock=fixed_clock)
    assert isinstance(adapter, SQLiteStore)

    def raw(user_id: str) -> dict[str, Any] | None:
        with sqlite3.connect(path) as conn:
            row = conn.execute(
                "SELECT id, attributes, expires_at FROM profiles WHERE id = ?", (user_id,)
            ).fetchone()
        return None if row is None else {"id": row[0], "attributes": row[1], TTL_ATTRIBUTE: row[2]}

    return Backend("sqlite", adapter, raw, lambda: sqlite_locked(adapter))


@pytest.fixture(scope="module")
def dynalite() -> Iterator[Dynalite]:
    with running_dynalite(persist=True) as db:  # persist: a restart keeps the items
        yield db


def use_dynalite_env(db: Dynalite, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment and boto3 state for one test, all undone after it."""
    for name, value in db.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("SKILL_TABLE", table)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # our session must not outlive the test


def dynamodb_backend(db: Dynalite, monkeypatch: pytest.MonkeyPatch) -> Backend:
    table = f"skill-{uuid.uuid4().hex[:8]}"
    create_skill_table(db.endpoint, table)
    use_dynalite_env(db, table, monkeypatch)
    adapter = adapter_from_env(clock=fixed_clock)
    assert isinstance(adapter, DynamoDbStore)
    client = db.client()

    def raw(user_id: str) -> dict[str, Any] | None:
        item = client.get_item(TableName=table, Key={"id": {"S": user_id}}).get("Item")
        if item is None:
            return None
        return {"id": item["id"]["S"], "attributes": item["attributes"],
                TTL_ATTRIBUTE: int(item[TTL_ATTRIBUTE]["N"])}

    @contextmanager
    def outage() -> Iterator[None]:
        db.stop()
        try:
            yield
        finally:
            db.start()

    return Backend("dynamodb", adapter, raw, outage)


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.slow)])
def backend(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Backend:
    if request.param == "sqlite":
        return sqlite_backend(tmp_path, monkeypatch)
    return dynamodb_backend(request.getfixturevalue("dynalite"), monkeypatch)


def timed(action: Callable[[], object]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        action()
    except BaseException as e:  # noqa: BLE001 - returned for the test to assert on
        return time.monotonic() - started, e
    return time.monotonic() - started, None


# ---------------------------------------------------------------- the suite, on both


def test_someone_new_has_no_memory(backend: Backend) -> None:
    assert backend.load(ALICE) == {}


def test_what_is_saved_is_loaded_back(backend: Backend) -> None:
    profile = {"schema": 2, "prefs": {"pace": "slow", "voice": None}, "streak": 3,
               "done": ["knee-hug", "pelvic-tilt"], "seconds_held": 12.5, "consented": True,
               "empty": {"text": "", "list": [], "map": {}}}
    backend.save(ALICE, profile)
    assert backend.load(ALICE) == profile
    backend.save(ALICE, {"schema": 2, "streak": 4})
    assert backend.load(ALICE) == {"schema": 2, "streak": 4}


def test_numbers_come_back_as_the_same_python_types(backend: Backend) -> None:
    backend.save(ALICE, {"int": 3, "float": 2.5, "zero": 0, "negative": -7, "big": 2**53})
    loaded = backend.load(ALICE)
    assert {k: type(v) for k, v in loaded.items()} == {
        "int": int, "float": float, "zero": int, "negative": int, "big": int}


def test_a_whole_float_comes_back_equal_but_may_be_an_int(backend: Backend) -> None:
    """DynamoDB trims a number's trailing zeros ("1.0" is stored as "1"), so its type is lost;
    the value is not. Compare loaded records with ==, not by their JSON text."""
    backend.save(ALICE, {"hold_scale": 1.0})
    loaded = backend.load(ALICE)
    assert loaded == {"hold_scale": 1.0}
    assert type(loaded["hold_scale"]) is (int if backend.name == "dynamodb" else float)


def test_delete_forgets_only_that_person(backend: Backend) -> None:
    backend.save(ALICE, {"streak": 1})
    backend.save(BOB, {"streak": 2})
    backend.delete(ALICE)
    assert backend.load(ALICE) == {}
    assert backend.load(BOB) == {"streak": 2}
    backend.delete(ALICE)  # deleting what is not there is fine


def test_two_people_are_kept_apart(backend: Backend) -> None:
    backend.save(ALICE, {"name": "Alice", "streak": 5})
    backend.save(BOB, {"name": "Bob"})
    assert backend.load(ALICE) == {"name": "Alice", "streak": 5}
    assert backend.load(BOB) == {"name": "Bob"}


def test_concurrent_saves_from_threads_keep_each_record_whole(backend: Backend) -> None:
    people, rounds = 8, 10
    shared = "amzn1.ask.account.SHARED"

    def session(person: int) -> None:
        for n in range(rounds):
            backend.save(f"amzn1.ask.account.P{person}", {"person": person, "n": n})
            backend.save(shared, {"person": person, "n": n, "pad": "x" * 2000})

    with ThreadPoolExecutor(max_workers=people) as pool:
        list(pool.map(session, range(people)))

    for person in range(people):
        assert backend.load(f"amzn1.ask.account.P{person}") == {"person": person, "n": rounds - 1}
    last = backend.load(shared)
    assert last["pad"] == "x" * 2000 and 0 <= last["person"] < people and 0 <= last["n"] < rounds


def test_unicode_and_large_values_round_trip(backend: Backend) -> None:
    profile = {
        "name": "Zoë Ångström 背中 🌙",
        "note": "“curly” quotes, <angle> & ampersand, \\ backslash, \n newline, \u0000 nul",
        "history": [{"day": d, "tag": "étirement-🧘"} for d in range(500)],
        "blob": "🌙背" * 20_000,  # ~140 KB of UTF-8, well inside DynamoDB's 400 KB item
    }
    backend.save(ALICE, profile)
    assert backend.load(ALICE) == profile


def test_each_save_writes_the_ttl_400_days_ahead(backend: Backend) -> None:
    backend.save(ALICE, {"streak": 1})
    record = backend.raw(ALICE)
    assert record is not None and record["id"] == ALICE
    assert record[TTL_ATTRIBUTE] == FIXED_NOW + RETENTION_SECONDS
    assert RETENTION_SECONDS == 400 * 24 * 3600


def test_attributes_that_are_not_json_are_refused_as_unavailable(backend: Backend) -> None:
    with pytest.raises(StorageUnavailable):
        backend.save(ALICE, {"when": object()})
    assert backend.load(ALICE) == {}


def test_a_request_without_a_user_cannot_be_remembered(backend: Backend) -> None:
    with pytest.raises(StorageUnavailable):
        backend.adapter.get_attributes(request_envelope=envelope(None))


def test_it_plugs_into_ask_sdks_attributes_manager(backend: Backend) -> None:
    manager = AttributesManager(request_envelope=envelope(ALICE),
                                persistence_adapter=backend.adapter)
    assert manager.persistent_attributes == {}
    manager.persistent_attributes = {"streak": 7}
    manager.save_persistent_attributes()
    assert backend.load(ALICE) == {"streak": 7}


@pytest.mark.slow
def test_an_outage_fails_fast_and_loses_nothing(backend: Backend) -> None:
    backend.save(ALICE, {"streak": 9, "name": "Alice"})
    assert backend.load(ALICE) == {"streak": 9, "name": "Alice"}  # warm connections, as mid-session

    with backend.outage():
        load_time, load_error = timed(lambda: backend.load(ALICE))
        save_time, save_error = timed(lambda: backend.save(ALICE, {"streak": 10}))

    assert isinstance(load_error, StorageUnavailable), load_error
    assert isinstance(save_error, StorageUnavailable), save_error
    assert load_time < OUTAGE_BUDGET, f"{backend.name} load took {load_time:.2f} s while down"
    assert save_time < OUTAGE_BUDGET, f"{backend.name} save took {save_time:.2f} s while down"
    # Back up: what was saved before is all there, and the store works again.
    assert backend.load(ALICE) == {"streak": 9, "name": "Alice"}
    backend.save(ALICE, {"streak": 10})
    assert backend.load(ALICE) == {"streak": 10}


# ---------------------------------------------------------------- revisions, on both


def record(backend: Backend, user_id: str = ALICE) -> Record:
    return backend.adapter.read_record(envelope(user_id))


def write(backend: Backend, attributes: dict[str, Any], expected: int,
          user_id: str = ALICE) -> int:
    return backend.adapter.write_record(envelope(user_id), attributes, expected)


def test_a_write_is_conditional_on_the_revision_it_read(backend: Backend) -> None:
    assert record(backend) == Record({}, 0)
    assert write(backend, {"streak": 1}, 0) == 1
    with pytest.raises(Conflict):  # a second writer that also read "nothing stored"
        write(backend, {"streak": 99}, 0)
    assert record(backend) == Record({"streak": 1}, 1)
    assert write(backend, {"streak": 2}, 1) == 2
    with pytest.raises(Conflict):  # a writer that read revision 1, after someone wrote 2
        write(backend, {"streak": 99}, 1)
    assert record(backend) == Record({"streak": 2}, 2)


def test_an_unconditional_save_still_moves_the_revision_on(backend: Backend) -> None:
    write(backend, {"streak": 1}, 0)
    backend.save(ALICE, {"streak": 5})  # ask-sdk's own save, or another tool's
    assert record(backend) == Record({"streak": 5}, 2)
    with pytest.raises(Conflict):
        write(backend, {"streak": 2}, 1)


@pytest.mark.slow
def test_a_write_whose_reply_was_lost_is_not_taken_for_a_conflict(
        dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB did the write, the reply never came (a timeout under load), botocore tried again
    and met its own write: the store says the write happened, so the caller does not merge it in
    a second time (eight writers adding one each once counted 81 of 80 this way)."""
    backend = dynamodb_backend(dynalite, monkeypatch)
    write(backend, {"count": 1}, 0)
    dynalite.lose_replies("PutItem")
    dynalite.reset_counts()
    assert write(backend, {"count": 2}, 1) == 2
    assert record(backend) == Record({"count": 2}, 2)
    assert dynalite.counts() == {"PutItem": 2, "GetItem": 2}  # the retry, the check, the record


@pytest.mark.slow
def test_a_landed_write_is_still_found_under_later_ones(
        dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight writers at once: by the time a retried write checks, others may have written on
    top of it. Each write keeps the tokens of the last 32 before it, so it is still found."""
    backend = dynamodb_backend(dynalite, monkeypatch)
    store = backend.adapter
    assert isinstance(store, DynamoDbStore)
    tokens = []
    for n in range(RECENT_WRITERS + 1):
        revision = record(backend).revision  # each writer read what it writes over
        write(backend, {"count": n}, revision)
        item = dynalite.client().get_item(TableName=store.adapter.table_name,
                                          Key={"id": {"S": ALICE}})["Item"]
        tokens.append(item[WRITERS_ATTRIBUTE]["L"][0]["S"])
    assert all(store._landed(ALICE, t, False) for t in tokens[1:])  # the last 32
    assert not store._landed(ALICE, tokens[0], False)  # gone from the list: a conflict, as before
    assert not store._landed(ALICE, "not-a-writer", False)


@pytest.mark.slow
def test_a_retried_write_that_met_another_writer_is_still_a_conflict(
        dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = dynamodb_backend(dynalite, monkeypatch)
    write(backend, {"count": 1}, 0)
    write(backend, {"count": 5}, 1)  # the other device, after this one read revision 1
    dynalite.lose_replies("PutItem")  # the first attempt fails its condition too, unheard
    with pytest.raises(Conflict):
        write(backend, {"count": 2}, 1)
    assert record(backend) == Record({"count": 5}, 2)


def test_a_record_deleted_since_it_was_read_is_a_conflict(backend: Backend) -> None:
    write(backend, {"streak": 1}, 0)
    backend.delete(ALICE)
    with pytest.raises(Conflict):
        write(backend, {"streak": 2}, 1)
    assert record(backend) == Record({}, 0)


def test_writers_in_threads_lose_no_update(backend: Backend) -> None:
    """Eight writers, each adding one to a counter 10 times by read, compare-and-swap, and on a
    conflict read again: every increment is there at the end. On SQLite they start together,
    and each lets the others run between its read and its write (as a session does): an
    operation on a kept connection is over before a thread switch. (DynamoDB's calls overlap
    by themselves, and eight at once would only load dynalite.)"""
    writers, rounds = 8, 10
    conflicts = []
    sqlite = backend.name == "sqlite"
    start = threading.Barrier(writers)

    def add_ones(_: int) -> None:
        if sqlite:
            start.wait()
        for _ in range(rounds):
            while True:
                current = record(backend)
                if sqlite:
                    time.sleep(0.001)
                try:
                    write(backend, {"count": current.attributes.get("count", 0) + 1},
                          current.revision)
                    break
                except Conflict:
                    conflicts.append(1)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(add_ones, range(writers)))
    assert record(backend) == Record({"count": writers * rounds}, writers * rounds)
    assert conflicts, "the writers never overlapped: this proved nothing"


# ---------------------------------------------------------------- failures say why


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if FAILURE_MARKER in r.getMessage()]


def logged(error: StorageUnavailable, caplog: pytest.LogCaptureFixture, **where: str) -> str:
    """Log `error` as the skill does and return the line, checked for what it must never say."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="skill.alexa.storage"):
        log_failure(error, op=where.get("op", "write"), outcome=where.get("outcome", "lost"))
    [line] = failure_lines(caplog)
    assert line.startswith(f"{FAILURE_MARKER} op="), line
    assert "amzn1." not in line and ALICE not in line, line
    return line


@pytest.mark.slow
def test_a_throttled_table_says_so(dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch,
                                   caplog: pytest.LogCaptureFixture) -> None:
    """dynalite cannot throttle: a botocore hook answers as a throttled DynamoDB does."""
    use_dynalite_env(dynalite, f"skill-{uuid.uuid4().hex[:8]}", monkeypatch)
    create_skill_table(dynalite.endpoint, os.environ["SKILL_TABLE"])
    with dynamodb_throttled("PutItem", times=10) as throttle:
        store = adapter_from_env(clock=fixed_clock)
        took, error = timed(lambda: store.write_record(envelope(ALICE), {"a": 1}, 0))
        assert throttle.answered == DYNAMODB_MAX_ATTEMPTS  # botocore retried it, as it should
        _, quick_error = timed(lambda: store.write_record(envelope(ALICE), {"a": 1}, 0,
                                                          quick=True))
        assert throttle.answered == DYNAMODB_MAX_ATTEMPTS + 1  # a quick call tries once
    assert isinstance(error, StorageUnavailable) and isinstance(quick_error, StorageUnavailable)
    assert took < OUTAGE_BUDGET
    line = logged(error, caplog)
    # botocore raises its modelled subclass of ClientError, named after the code
    assert ("store=dynamodb cause=ProvisionedThroughputExceededException"
            " code=ProvisionedThroughputExceededException") in line
    assert "provisioned throughput" in line


@pytest.mark.slow
def test_an_item_over_400_kb_is_refused_by_dynamodb_and_says_so(
    dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    backend = dynamodb_backend(dynalite, monkeypatch)
    write(backend, {"streak": 1}, 0)
    with pytest.raises(StorageUnavailable) as refused:
        write(backend, {"blob": "x" * 410_000}, 1)
    assert record(backend) == Record({"streak": 1}, 1)
    line = logged(refused.value, caplog)
    assert "cause=ClientError code=ValidationException" in line
    assert 'detail="Item size has exceeded the maximum allowed size"' in line


def test_a_corrupt_sqlite_file_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = SQLiteStore(tmp_path / "skill.db")
    store.write_record(envelope(ALICE), {"streak": 1}, 0)
    corrupt(tmp_path / "skill.db")
    with pytest.raises(StorageUnavailable) as failed:
        store.read_record(envelope(ALICE))
    line = logged(failed.value, caplog, op="read", outcome="no_memory")
    assert "op=read store=sqlite cause=DatabaseError code=SQLITE_NOTADB" in line
    assert 'detail="file is not a database"' in line


def test_a_read_only_directory_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What a full disk or a read-only mount does to the store: nothing can be created."""
    fresh_dir, used_dir = tmp_path / "fresh", tmp_path / "used"
    fresh_dir.mkdir()
    used_dir.mkdir()
    used = SQLiteStore(used_dir / "skill.db")
    used.write_record(envelope(ALICE), {"streak": 1}, 0)
    # As a process that opens the file now: a connection kept from before goes on writing into
    # the files it holds open (they are still writable), so it would have nothing to report.
    used.close()
    with read_only_dir(fresh_dir), read_only_dir(used_dir):
        for store in (SQLiteStore(fresh_dir / "skill.db"), used):
            took, error = timed(lambda store=store: store.write_record(
                envelope(ALICE), {"streak": 2}, 1))
            assert isinstance(error, StorageUnavailable), error
            assert took < OUTAGE_BUDGET
            line = logged(error, caplog)
            assert re.search(r"store=sqlite cause=OperationalError code=SQLITE_(CANTOPEN|READONLY)"
                             r"\S* outcome=lost detail=\"(unable to open|attempt to write)", line)
    assert record(Backend("sqlite", used, lambda _: None, contextlib.nullcontext)) == \
        Record({"streak": 1}, 1)


def test_a_message_naming_a_person_is_logged_without_them(
    caplog: pytest.LogCaptureFixture
) -> None:
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "ValidationException", "Message":
                        f"One or more parameter values were invalid: {ALICE} "
                        "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"}}, "PutItem")
    line = logged(StorageUnavailable.of(error, "dynamodb", "write"), caplog)
    assert 'detail="One or more parameter values were invalid: <id> token <id>"' in line


def test_a_failure_that_may_quote_a_value_names_only_its_type(
    caplog: pytest.LogCaptureFixture
) -> None:
    error = TypeError(f"Unsupported type {{'profile': {{'name': 'Alice'}}, 'id': {ALICE!r}}}")
    line = logged(StorageUnavailable.of(error, "dynamodb", "write"), caplog)
    assert line == ('storage_failure op=write store=dynamodb cause=TypeError code=- '
                    'outcome=lost detail=""'), line


# ---------------------------------------------------------------- SQLite only


def test_sqlite_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "skill.db"
    store = adapter_from_env({"SKILL_DB": str(path)})
    store.save_attributes(envelope(ALICE), {"streak": 1})
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_defaults_to_the_users_data_directory(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = adapter_from_env({})
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / ".local/share/bedside-back-coach/skill.db"


def test_sqlite_at_an_unwritable_path_is_unavailable_at_once(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = adapter_from_env({"SKILL_DB": str(blocker / "skill.db")})  # building it does no I/O
    load_time, load_error = timed(lambda: store.get_attributes(envelope(ALICE)))
    save_time, save_error = timed(lambda: store.save_attributes(envelope(ALICE), {"a": 1}))
    assert isinstance(load_error, StorageUnavailable) and isinstance(save_error, StorageUnavailable)
    assert load_time < 0.5 and save_time < 0.5


def test_sqlite_treats_an_expired_record_as_gone(tmp_path: Path) -> None:
    now = [float(FIXED_NOW)]
    store = SQLiteStore(tmp_path / "skill.db", clock=lambda: now[0])
    store.save_attributes(envelope(ALICE), {"streak": 1})
    now[0] += RETENTION_SECONDS - 1
    assert store.get_attributes(envelope(ALICE)) == {"streak": 1}
    now[0] += 1
    assert store.get_attributes(envelope(ALICE)) == {}


@pytest.mark.slow
def test_sqlite_a_writer_holding_the_lock_fails_writes_fast_and_reads_still_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The outage a kept connection meets: another process holds the write lock for longer than
    a write waits. The write gives up within the busy timeout, saying so; reads go on (WAL); once
    the lock is let go, the same store writes again, and nothing was lost."""
    store = SQLiteStore(tmp_path / "skill.db")
    store.write_record(envelope(ALICE), {"streak": 1}, 0)
    holder = sqlite3.connect(tmp_path / "skill.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        took, error = timed(lambda: store.write_record(envelope(ALICE), {"streak": 2}, 1))
        assert isinstance(error, StorageUnavailable), error
        assert took < OUTAGE_BUDGET
        assert "cause=OperationalError code=SQLITE_BUSY" in logged(error, caplog)
        assert store.read_record(envelope(ALICE)) == Record({"streak": 1}, 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.write_record(envelope(ALICE), {"streak": 2}, 1) == 2
    assert store.read_record(envelope(ALICE)) == Record({"streak": 2}, 2)


def test_sqlite_keeps_a_connection_per_thread(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "skill.db")
    store.write_record(envelope(ALICE), {"streak": 1}, 0)
    mine = store._connection()
    assert store.read_record(envelope(ALICE)) == Record({"streak": 1}, 1)
    assert store._connection() is mine, "the connection was not kept"
    theirs: list[sqlite3.Connection] = []

    def other_thread() -> None:
        assert store.read_record(envelope(ALICE)) == Record({"streak": 1}, 1)
        theirs.append(store._connection())

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert theirs and theirs[0] is not mine  # sqlite3 connections belong to their thread


def test_sqlite_a_file_removed_under_a_kept_connection_is_set_up_again(tmp_path: Path) -> None:
    """Deleted (its WAL files too) or replaced while the store runs: the next operation opens
    the file now at the path, never the old one that only a kept connection still sees."""
    path = tmp_path / "skill.db"
    store = SQLiteStore(path)
    store.write_record(envelope(ALICE), {"streak": 1}, 0)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)
    assert store.read_record(envelope(ALICE)) == Record({}, 0)
    assert store.write_record(envelope(ALICE), {"streak": 7}, 0) == 1
    with contextlib.closing(sqlite3.connect(path)) as other:  # what another process finds there
        assert other.execute("SELECT attributes FROM profiles").fetchall() == [('{"streak": 7}',)]

    backup = SQLiteStore(tmp_path / "restored.db")
    backup.write_record(envelope(ALICE), {"streak": 3}, 0)
    backup.close()  # the last connection: its WAL is written into the file
    os.replace(tmp_path / "restored.db", path)  # a backup restored over the file in use
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    assert store.read_record(envelope(ALICE)) == Record({"streak": 3}, 1)


@pytest.mark.slow
def test_sqlite_conditional_writes_lose_no_update_across_processes(tmp_path: Path) -> None:
    """Four processes, each with its kept connection, add one to a counter 15 times by read,
    compare-and-swap and, on a conflict, read again: every increment is there. They start at
    one moment, set three seconds ahead, so that their writes overlap."""
    path = tmp_path / "skill.db"
    SQLiteStore(path).write_record(envelope(ALICE), {"count": 0}, 0)
    adder = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from ask_sdk_model import Context, RequestEnvelope
        from ask_sdk_model.interfaces.system import SystemState
        from ask_sdk_model.user import User
        from skill.alexa.storage import Conflict, SQLiteStore

        env = RequestEnvelope(context=Context(system=SystemState(user=User(user_id={ALICE!r}))))
        store = SQLiteStore(Path({str(path)!r}))
        store.read_record(env)  # the connection is open before the start
        time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # all start together
        conflicts = 0
        for _ in range(15):
            while True:
                current = store.read_record(env)
                time.sleep(0.002)  # a session between its read and its write
                try:
                    store.write_record(env, {{"count": current.attributes["count"] + 1}},
                                       current.revision)
                    break
                except Conflict:
                    conflicts += 1
        print(conflicts)
    """)
    start = str(time.time() + 3.0)  # after every process has imported the store
    procs = [subprocess.Popen([sys.executable, "-c", adder, start], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err.decode() for _, err in outs]
    assert SQLiteStore(path).read_record(envelope(ALICE)) == Record({"count": 60}, 61)
    assert sum(int(out) for out, _ in outs) > 0, "the processes never overlapped: proved nothing"


@pytest.mark.slow
def test_sqlite_is_safe_for_several_processes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "skill.db"
    writer = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from ask_sdk_model import Context, RequestEnvelope
        from ask_sdk_model.interfaces.system import SystemState
        from ask_sdk_model.user import User
        from skill.alexa.storage import SQLiteStore

        def env(user):
            return RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user))))

        me = int(sys.argv[1])
        store = SQLiteStore(Path({str(path)!r}))
        for n in range(25):
            store.save_attributes(env(f"P{{me}}"), {{"me": me, "n": n}})
            store.save_attributes(env("shared"), {{"me": me, "n": n}})
            assert store.get_attributes(env(f"P{{me}}")) == {{"me": me, "n": n}}
    """)
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(i)], cwd=REPO_ROOT,
                              stderr=subprocess.PIPE) for i in range(4)]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    store = SQLiteStore(path)
    for i in range(4):
        assert store.get_attributes(envelope(f"P{i}")) == {"me": i, "n": 24}
    assert store.get_attributes(envelope("shared"))["n"] in range(25)


def test_sqlite_file_from_before_revisions_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "skill.db"
    with sqlite3.connect(path) as old:  # the table as the previous release made it
        old.execute("CREATE TABLE profiles (id TEXT PRIMARY KEY, attributes TEXT NOT NULL,"
                    " expires_at INTEGER NOT NULL)")
        old.execute("INSERT INTO profiles VALUES (?, ?, ?)",
                    (ALICE, '{"streak": 4}', FIXED_NOW + 100))
    store = SQLiteStore(path, clock=fixed_clock)
    assert store.read_record(envelope(ALICE)) == Record({"streak": 4}, 0)
    assert store.write_record(envelope(ALICE), {"streak": 5}, 0) == 1
    assert store.read_record(envelope(ALICE)) == Record({"streak": 5}, 1)


def test_sqlite_expired_record_keeps_its_revision_for_the_next_write(tmp_path: Path) -> None:
    now = [float(FIXED_NOW)]
    store = SQLiteStore(tmp_path / "skill.db", clock=lambda: now[0])
    store.write_record(envelope(ALICE), {"streak": 1}, 0)
    now[0] += RETENTION_SECONDS
    assert store.read_record(envelope(ALICE)) == Record({}, 1)
    assert store.write_record(envelope(ALICE), {"streak": 1}, 1) == 2


# ---------------------------------------------------------------- DynamoDB only


@contextmanager
def unanswering_server(*, accept: bool) -> Iterator[str]:
    """A loopback endpoint that never answers. accept=True: connections are made and requests
    hang (read timeout). accept=False: the listen backlog is full, so connecting hangs
    (connect timeout), as with a host that drops packets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8 if accept else 0)
    fillers = []
    if not accept:
        filler = socket.create_connection(server.getsockname())
        fillers.append(filler)
    try:
        yield "http://{}:{}".format(*server.getsockname())
    finally:
        for s in fillers:
            s.close()
        server.close()


@pytest.mark.parametrize("accept", [True, False], ids=["request-hangs", "connect-hangs"])
@pytest.mark.slow
def test_dynamodb_worst_case_gives_up_in_time(
    dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch, accept: bool
) -> None:
    use_dynalite_env(dynalite, "skill-table", monkeypatch)
    with unanswering_server(accept=accept) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        store = adapter_from_env(clock=fixed_clock)
        load_time, load_error = timed(lambda: store.get_attributes(envelope(ALICE)))
        save_time, save_error = timed(lambda: store.save_attributes(envelope(ALICE), {"a": 1}))
    assert isinstance(load_error, StorageUnavailable) and isinstance(save_error, StorageUnavailable)
    assert load_time < OUTAGE_BUDGET and save_time < OUTAGE_BUDGET, (load_time, save_time)


def test_dynamodb_never_creates_or_describes_the_table(
    dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_dynalite_env(dynalite, "no-such-table", monkeypatch)
    dynalite.reset_counts()
    store = adapter_from_env(clock=fixed_clock)
    with pytest.raises(StorageUnavailable):
        store.get_attributes(envelope(ALICE))
    with pytest.raises(StorageUnavailable):
        store.save_attributes(envelope(ALICE), {"a": 1})
    with pytest.raises(StorageUnavailable):
        store.write_record(envelope(ALICE), {"a": 1}, 0)
    assert set(dynalite.counts()) == {"GetItem", "UpdateItem", "PutItem"}


@pytest.mark.slow
def test_dynamodb_items_keep_the_stock_adapter_layout(
    dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the stock adapter alone would read back: a deployment can switch either way."""
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    backend = dynamodb_backend(dynalite, monkeypatch)
    backend.save(ALICE, {"streak": 3, "prefs": {"pace": "slow"}})
    ours = backend.adapter
    assert isinstance(ours, DynamoDbStore)
    stock = DynamoDbAdapter(table_name=ours.adapter.table_name,
                            dynamodb_resource=ours.adapter.dynamodb)
    assert stock.get_attributes(envelope(ALICE)) == {"streak": 3, "prefs": {"pace": "slow"}}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=60)


def test_importing_storage_does_not_import_boto3() -> None:
    code = "import sys, skill.alexa.storage; print(sorted(m for m in sys.modules if 'boto' in m))"
    result = run_python(code, {"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_dynamodb_without_a_region_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        from skill.alexa.storage import StorageUnavailable, adapter_from_env
        try:
            adapter_from_env({"SKILL_TABLE": "t"})
        except StorageUnavailable as e:
            print("unavailable:", e)
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("unavailable:") and "region" in result.stdout


@pytest.mark.slow
def test_a_skill_that_cannot_set_up_its_store_says_so_at_error(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        from skill.alexa import app
        assert app.default_adapter() is None
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true",
           "SKILL_TABLE": "t"}
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "ERROR storage_failure op=setup store=dynamodb cause=NoRegionError code=- "
        'outcome=no_memory detail="SKILL_TABLE is set but no AWS region is configured '
        '(AWS_REGION)"'), result.stderr


@pytest.mark.slow
def test_dynamodb_region_can_come_from_the_env_mapping_alone(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        from skill.alexa.storage import DynamoDbStore, adapter_from_env
        store = adapter_from_env({"SKILL_TABLE": "t", "AWS_REGION": "eu-west-1"})
        assert isinstance(store, DynamoDbStore)
        print(store.adapter.dynamodb.meta.client.meta.region_name)
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "eu-west-1"


@pytest.mark.slow
def test_dynamodb_item_written_by_the_stock_adapter_is_revision_0(
    dynalite: Dynalite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    backend = dynamodb_backend(dynalite, monkeypatch)
    ours = backend.adapter
    assert isinstance(ours, DynamoDbStore)
    stock = DynamoDbAdapter(table_name=ours.adapter.table_name,
                            dynamodb_resource=ours.adapter.dynamodb)
    stock.save_attributes(envelope(ALICE), {"streak": 3})
    assert record(backend) == Record({"streak": 3}, 0)
    assert write(backend, {"streak": 4}, 0) == 1
    assert stock.get_attributes(envelope(ALICE)) == {"streak": 4}
    stock.save_attributes(envelope(ALICE), {"streak": 9})  # the stock put drops our revision...
    with pytest.raises(Conflict):  # ...and a writer that read revision 1 notices
        write(backend, {"streak": 5}, 1)
