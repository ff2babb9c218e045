"""Where a person's profile is kept between sessions.

Two backends, both ask-sdk ``AbstractPersistenceAdapter``s with a revision beside each record:

* ``SKILL_TABLE`` set: DynamoDB, through the stock ask-sdk adapter's table, with tight boto3
  timeouts, a TTL attribute (``expires_at``) and a ``revision`` number written on every save;
* otherwise: an embedded SQLite file at ``SKILL_DB`` (default under ``~/.local/share``).

Both key a record by the Alexa user id and hold the same JSON-shaped dict. ``read_record`` gives
the record with its revision (0: nothing stored yet) and ``write_record`` writes only if the
stored revision is still the one read, raising ``Conflict`` otherwise: two sessions of one person
on two devices can never silently overwrite each other (the caller merges and writes again).
Every other failure, whatever the backend, is raised as ``StorageUnavailable`` so the skill can
carry on without memory; it names its cause (exception type, the backend's error code, and a
message that carries no user data), and ``log_failure`` logs it under one greppable marker,
``storage_failure``.

boto3 and the DynamoDB adapter are imported only when ``SKILL_TABLE`` is set: importing them costs
about half a second, and the stock adapter builds a boto3 resource in a default argument at import
time (``NoRegionError`` when no region is configured).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ask_sdk_model import RequestEnvelope

Clock = Callable[[], float]
Attributes = dict[str, Any]
T = TypeVar("T")

TTL_ATTRIBUTE = "expires_at"
#: The record's revision: 0 when nothing is stored, one more on every write.
REVISION_ATTRIBUTE = "revision"
#: the tokens of the last conditional DynamoDB writes, newest first, kept beside the revision:
#: when a write's reply is lost and botocore's retry meets its own earlier success (perhaps with
#: other writes on top by then: a retry waits out a backoff), its token in the list says that the
#: write landed. 32 tokens of 16 hex digits: about 600 bytes of the item.
WRITERS_ATTRIBUTE = "writers"
RECENT_WRITERS = 32
#: how many people's last-read writer lists a process keeps (a bound, not a cache to tune)
MAX_REMEMBERED_WRITERS = 1024
# A profile untouched for this long is dropped (DynamoDB's TTL sweeper; SQLite ignores it on read).
RETENTION_SECONDS = 400 * 24 * 3600
DEFAULT_DB_PATH = "~/.local/share/bedside-back-coach/skill.db"

# boto3 settings for the table. Worst case with the table unreachable or hanging: two attempts of
# at most connect 0.3 s or read 0.4 s, and one jittered backoff of at most 1 s between them
# (botocore's legacy backoff formula; the newer one waits at most 25 ms, or 1 s when throttled):
# about 1.8 s, which leaves room inside the 3 s a Lambda invocation is given. Measured in
# tests/test_storage.py. A retry or a merge at a session's end tries once: at most 0.7 s.
DYNAMODB_CONNECT_TIMEOUT = 0.3
DYNAMODB_READ_TIMEOUT = 0.4
DYNAMODB_MAX_ATTEMPTS = 2

# How long SQLite waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT = 1.0

#: What every storage failure's log line starts with (a CloudWatch metric filter counts them).
FAILURE_MARKER = "storage_failure"


class StorageUnavailable(PersistenceException):
    """The profile store could not be read or written; answer without memory.

    ``cause`` is the underlying exception's type, ``code`` the backend's own error code
    (``SQLITE_READONLY``, ``ProvisionedThroughputExceededException``, ``ENOSPC``) and ``detail``
    the backend's words with anything that could identify a person taken out.
    """

    def __init__(self, message: str, *, store: str = "store", cause: str = "",
                 code: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.store = store
        self.cause = cause or type(self).__name__
        self.code = code
        self.detail = detail

    @classmethod
    def of(cls, error: BaseException, store: str, what: str) -> StorageUnavailable:
        """The failure `error` (raised by the backend while doing `what`)."""
        code, detail = _code_and_detail(error)
        return cls(f"{store} store: {what}: {type(error).__name__}: {detail or code}",
                   store=store, cause=type(error).__name__, code=code, detail=detail)


class Conflict(Exception):
    """The record was written by someone else since it was read (its revision moved on)."""


class Record(NamedTuple):
    attributes: Attributes
    #: 0 when nothing is stored yet
    revision: int


# Alexa ids ("amzn1.ask.account.AE...", device and skill ids alike) and anything long enough to
# be a key or a token: a log line may name what failed, never whom it failed for.
_IDENTIFYING = re.compile(r"amzn1\.[\w.\-]+|[A-Za-z0-9+/=_\-]{24,}")


def _safe(text: str) -> str:
    text = _IDENTIFYING.sub("<id>", " ".join(str(text).split()))
    return text.replace('"', "'")[:160]


def _code_and_detail(error: BaseException) -> tuple[str, str]:
    """The backend's error code and its words, from the parts that never carry user data."""
    if isinstance(error, sqlite3.Error):
        # SQLite's own messages ("database disk image is malformed", "attempt to write a
        # readonly database"): fixed texts of the library, never a value we gave it.
        return getattr(error, "sqlite_errorname", "") or "", _safe(str(error))
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        # botocore's ClientError: AWS's code and message (about the request, not its values).
        found = response["Error"]
        return str(found.get("Code") or ""), _safe(str(found.get("Message") or ""))
    if isinstance(error, OSError) and error.errno is not None:
        return errno.errorcode.get(error.errno, str(error.errno)), _safe(error.strerror or "")
    # Anything else (a botocore connection error, a serialisation error): its message may quote
    # a value it was given, so the type is all that is said.
    return "", ""


def log_failure(error: BaseException, *, op: str, outcome: str, level: int = logging.WARNING,
                **extra: str) -> None:
    """One line per failure: ``storage_failure op=... store=... cause=... code=... outcome=...``.

    `op`: read, write or merge; `outcome`: what it cost (no_memory, retrying, lost, read_only,
    reset). Never a user id, never a profile's content.
    """
    failure = error if isinstance(error, StorageUnavailable) else StorageUnavailable.of(
        error, "store", op)
    fields = {"op": op, "store": failure.store, "cause": failure.cause,
              "code": failure.code or "-", "outcome": outcome, **extra}
    line = " ".join(f"{k}={v}" for k, v in fields.items())
    log.log(level, '%s %s detail="%s"', FAILURE_MARKER, line, failure.detail)


def user_key(request_envelope: RequestEnvelope) -> str:
    """The record key: the Alexa user id, as the stock DynamoDB adapter's default keygen uses."""
    context = request_envelope.context
    user = context.system.user if context is not None and context.system is not None else None
    user_id = user.user_id if user is not None else None
    if not user_id:
        raise StorageUnavailable("the request carries no user id", cause="NoUserId")
    return user_id


def adapter_from_env(
    env: Mapping[str, str] = os.environ, *, clock: Clock = time.time
) -> AbstractPersistenceAdapter:
    """The store this deployment uses: DynamoDB when ``SKILL_TABLE`` is set, else SQLite.

    Call it once per process (in Lambda, at import time: the init phase is not counted against
    the invocation's timeout). It does no I/O for SQLite; for DynamoDB it imports boto3 and builds
    the client. Raises ``StorageUnavailable`` when the DynamoDB side cannot be set up (boto3
    missing, no AWS region).
    """
    table = env.get("SKILL_TABLE", "").strip()
    if table:
        return _dynamodb_store(table, env, clock)
    path = env.get("SKILL_DB", "").strip() or DEFAULT_DB_PATH
    return SQLiteStore(Path(path).expanduser(), clock=clock)


def _json_text(attributes: Mapping[str, Any], store: str) -> str:
    """The attributes as JSON text (what reads back: JSON types only, tuples become lists)."""
    try:
        return json.dumps(attributes, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageUnavailable(f"attributes are not JSON-serialisable: {type(e).__name__}",
                                 store=store, cause="NotJson") from e


def _json_copy(attributes: Mapping[str, Any], store: str, **loads_options: Any) -> Attributes:
    """The attributes as they will read back: JSON types only, tuples become lists."""
    copy: Attributes = json.loads(_json_text(attributes, store), **loads_options)
    return copy


class VersionedStore:
    """What the skill's interceptors need of a store (both of ours are one).

    `name` is said in log lines; `worst_case` is how long one call can take before it gives up,
    and `quick_worst_case` the same for a call with ``quick=True`` (a follow-up at a session's
    end: a retry or a merge, which a store may try only once), so a caller with a deadline knows
    whether another call still fits.
    """

    name = "store"
    worst_case = 1.0
    quick_worst_case = 1.0

    def read_record(self, request_envelope: RequestEnvelope, *, quick: bool = False) -> Record:
        raise NotImplementedError

    def write_record(self, request_envelope: RequestEnvelope, attributes: Attributes,
                     expected: int, *, quick: bool = False) -> int:
        """Write if the stored revision is still `expected`; the new revision, or ``Conflict``."""
        raise NotImplementedError


class Unversioned(VersionedStore):
    """Any other ask-sdk adapter: read and written as it can be, unconditionally (it keeps no
    revision, so two sessions at once can overwrite each other)."""

    name = "adapter"

    def __init__(self, adapter: AbstractPersistenceAdapter) -> None:
        self.adapter = adapter

    def read_record(self, request_envelope: RequestEnvelope, *, quick: bool = False) -> Record:
        return Record(self.adapter.get_attributes(request_envelope=request_envelope), 0)

    def write_record(self, request_envelope: RequestEnvelope, attributes: Attributes,
                     expected: int, *, quick: bool = False) -> int:
        self.adapter.save_attributes(request_envelope=request_envelope, attributes=attributes)
        return expected + 1


def versioned(adapter: AbstractPersistenceAdapter) -> VersionedStore:
    """`adapter` as a store with revisions (a plain ask-sdk adapter gets `Unversioned`)."""
    if callable(getattr(adapter, "read_record", None)) and \
            callable(getattr(adapter, "write_record", None)):
        return adapter  # type: ignore[return-value]
    return Unversioned(adapter)


class _Kept(NamedTuple):
    """A connection kept between operations, and what it was opened on."""

    conn: sqlite3.Connection
    pid: int
    #: (device, inode) of the database file and of its ``-shm`` (None without one)
    identity: tuple[tuple[int, int] | None, ...]


#: Connections given up without closing them (see `SQLiteStore._abandon`): held until the process
#: ends, as a process that crashed holds its own.
_ABANDONED: list[sqlite3.Connection] = []


def _never_closed(conn: sqlite3.Connection) -> None:
    """Keep `conn` open until the process ends, interpreter shutdown included (which would
    otherwise free, and so close, whatever a module still holds)."""
    import ctypes  # only here: a file replaced under a running store is rare

    _ABANDONED.append(conn)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(conn))


class SQLiteStore(AbstractPersistenceAdapter, VersionedStore):
    """A profile per user in one SQLite file; safe for several processes at once.

    Each thread keeps one connection to the file between operations (opening one, setting it
    up and closing it cost about 60 times the query), and each operation is one transaction on
    it, so no lock is held between requests. WAL lets readers run beside a writer; a writer waits
    at most ``busy_timeout`` seconds for another one. A conditional write is a compare-and-swap
    in one statement (so one transaction, under the write lock, whichever process holds the
    other connection): it moves the revision on only where it is still the one read.

    A kept connection is used again only while the file it was opened on is still the one at
    `path` (the same database and ``-shm`` files: one stat each per operation); a file removed,
    replaced or overwritten with its WAL files is opened afresh, and one that fails an operation
    is closed, so the next operation starts over as the first one did.
    """

    name = "sqlite"

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS profiles ("
        " id TEXT PRIMARY KEY,"
        " attributes TEXT NOT NULL,"
        " expires_at INTEGER NOT NULL,"
        " revision INTEGER NOT NULL DEFAULT 0)"
    )
    #: The conditional write of a first record: inserted, or written over a record still at
    #: revision 0 (one from before revisions); a record at any other revision is left alone.
    _CREATE_IF_NEW = (
        "INSERT INTO profiles (id, attributes, expires_at, revision) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes,"
        " expires_at = excluded.expires_at, revision = 1 WHERE profiles.revision = 0"
    )
    #: The conditional write of a record read at revision ``expected`` (> 0): a record deleted
    #: since, or written by someone else, is left as it is.
    _UPDATE_IF_UNCHANGED = (
        "UPDATE profiles SET attributes = ?, expires_at = ?, revision = ?"
        " WHERE id = ? AND revision = ?"
    )

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = time.time,
        busy_timeout: float = SQLITE_BUSY_TIMEOUT,
        retention: int = RETENTION_SECONDS,
    ) -> None:
        self.path = path
        self._shm = Path(f"{path}-shm")
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._retention = retention
        self._ready = False
        self._local = threading.local()
        self.worst_case = self.quick_worst_case = busy_timeout + 0.1

    def _identity(self) -> tuple[tuple[int, int] | None, ...]:
        found: list[tuple[int, int] | None] = []
        for path in (self.path, self._shm):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                found.append(None)
            else:
                found.append((st.st_dev, st.st_ino))
        return tuple(found)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection: the kept one while it is still on the file at `path`."""
        kept: _Kept | None = getattr(self._local, "kept", None)
        if kept is not None:
            if kept.pid == os.getpid() and kept.identity == self._identity():
                return kept.conn
            self._abandon()
        conn = self._connect()
        self._local.kept = _Kept(conn, os.getpid(), self._identity())
        return conn

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a write holds the lock
            # for microseconds instead of an fsync, so concurrent writers do not starve. A commit
            # can be lost to a power cut (never to a crash of the process); the file stays sound.
            conn.execute("PRAGMA synchronous=NORMAL")
            if not self._ready:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(self._SCHEMA)
                self._migrate(conn)
                self._ready = True
            else:
                # Open the WAL now, so that the identity kept beside the connection names its -shm.
                conn.execute("SELECT 1 FROM profiles LIMIT 0").fetchall()
        except BaseException:
            conn.close()
            raise
        return conn

    def _drop(self) -> None:
        """Close this thread's connection after a failure: the next operation opens the file
        again, as the first one did (its directory, journal mode and table included)."""
        self._ready = False  # the file may have been removed: set it up again next time
        with contextlib.suppress(sqlite3.Error):
            self.close()

    def _abandon(self) -> None:
        """Give up a connection whose file is no longer at `path` (or that another process
        opened before a fork) without closing it. Closing would checkpoint its WAL into whatever
        file it still holds and delete the WAL files at `path` by name, which may be another
        connection's by now; left open, it is a crashed process's connection, which SQLite is
        built to survive."""
        kept: _Kept = self._local.kept
        self._local.kept = None
        self._ready = False
        _never_closed(kept.conn)

    def close(self) -> None:
        """Close this thread's connection (the next operation opens the file again)."""
        kept: _Kept | None = getattr(self._local, "kept", None)
        self._local.kept = None
        if kept is not None and kept.pid == os.getpid():
            kept.conn.close()

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """A file from before revisions: add the column (every record starts at revision 0)."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(profiles)")}
        if REVISION_ATTRIBUTE in columns:
            return
        try:
            conn.execute("ALTER TABLE profiles ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
        except sqlite3.OperationalError as e:
            if "duplicate column" not in str(e):  # another process added it first: fine
                raise

    def _run(self, work: Callable[[sqlite3.Connection], T], what: str) -> T:
        # SQLite's busy handler covers an ordinary wait for a lock, but while several processes
        # create a new file and switch it to WAL at once, one can be told "locked" at once (seen
        # in the several-processes test). Such a transaction did nothing: try it again until the
        # deadline, so the worst case stays about `busy_timeout`.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return work(self._connection())
            except sqlite3.OperationalError as e:
                busy = e.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if busy and time.monotonic() < deadline:
                    time.sleep(0.005)
                    continue
                error: Exception = e
            except (sqlite3.Error, OSError) as e:
                error = e
            self._drop()
            raise StorageUnavailable.of(error, self.name, what) from error

    def read_record(self, request_envelope: RequestEnvelope, *, quick: bool = False) -> Record:
        key = user_key(request_envelope)
        rows = self._run(lambda conn: conn.execute(
            "SELECT attributes, expires_at, revision FROM profiles WHERE id = ?", (key,)
        ).fetchall(), "read")
        if not rows:
            return Record({}, 0)
        text, expires_at, revision = rows[0]
        if expires_at <= int(self._clock()):
            return Record({}, revision)  # gone, as far as anyone reads it; the row is overwritten
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            # The store answered, but the record is garbage: start this person afresh (the
            # session's save replaces it) rather than answer without memory forever.
            log_failure(StorageUnavailable("unreadable record", store=self.name,
                                           cause="UnreadableRecord"), op="read", outcome="reset")
            return Record({}, revision)
        return Record(record, revision)

    def write_record(self, request_envelope: RequestEnvelope, attributes: Attributes,
                     expected: int, *, quick: bool = False) -> int:
        key = user_key(request_envelope)
        text = _json_text(attributes, self.name)
        expires_at = int(self._clock()) + self._retention

        def swap(conn: sqlite3.Connection) -> int | None:
            # One statement, so one transaction under the write lock: it writes only if the
            # stored revision is still `expected` (no record at all counts as revision 0).
            if expected == 0:
                done = conn.execute(self._CREATE_IF_NEW, (key, text, expires_at))
            else:
                done = conn.execute(self._UPDATE_IF_UNCHANGED,
                                    (text, expires_at, expected + 1, key, expected))
            return expected + 1 if done.rowcount == 1 else None

        revision = self._run(swap, "write")
        if revision is None:
            raise Conflict("the record changed since it was read")
        return revision

    def get_attributes(self, request_envelope: RequestEnvelope) -> Attributes:
        return self.read_record(request_envelope).attributes

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: Attributes) -> None:
        """An unconditional write (ask-sdk's contract); it still moves the revision on, so that
        a conditional writer that read before it notices."""
        key = user_key(request_envelope)
        text = _json_text(attributes, self.name)
        expires_at = int(self._clock()) + self._retention
        self._run(lambda conn: conn.execute(
            "INSERT INTO profiles (id, attributes, expires_at, revision) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes,"
            " expires_at = excluded.expires_at, revision = profiles.revision + 1",
            (key, text, expires_at),
        ), "write")

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        key = user_key(request_envelope)
        self._run(lambda conn: conn.execute("DELETE FROM profiles WHERE id = ?", (key,)), "delete")


def _from_dynamo(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; give the int/float that SQLite would give.

    DynamoDB trims trailing zeros ("1.0" is stored as "1"), so a float with a whole value comes
    back as an int: equal (1 == 1.0), but not the same JSON text. Compare records with ==.
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


class DynamoDbStore(AbstractPersistenceAdapter, VersionedStore):
    """The stock ask-sdk ``DynamoDbAdapter``'s table, with revisions, a TTL and our error type.

    Items keep the stock shape, ``{id: <user id>, attributes: {...}}`` (the stock adapter alone
    reads them), with ``expires_at`` (epoch seconds, for the table's TTL) and ``revision`` beside
    them. An item without a revision (written by the stock adapter or an older release) is
    revision 0. A conditional write is one ``PutItem`` with a ``ConditionExpression`` on the
    revision.
    """

    name = "dynamodb"
    #: two attempts of connect + read, and botocore's backoff between them (at most 1 s)
    worst_case = DYNAMODB_MAX_ATTEMPTS * (DYNAMODB_CONNECT_TIMEOUT + DYNAMODB_READ_TIMEOUT) + 1.0
    #: a quick call goes through a client that tries once
    quick_worst_case = DYNAMODB_CONNECT_TIMEOUT + DYNAMODB_READ_TIMEOUT

    def __init__(self, adapter: Any, *, clock: Clock = time.time,
                 retention: int = RETENTION_SECONDS,
                 quick_resource: Callable[[], Any] | None = None) -> None:
        self.adapter = adapter
        self._clock = clock
        self._retention = retention
        self._quick_resource = quick_resource
        self._quick_table: Any = None
        #: user id -> (revision, its recent writers) as last read, for the next write's list
        self._writers: dict[str, tuple[int, list[str]]] = {}

    def _key(self, request_envelope: RequestEnvelope) -> dict[str, str]:
        adapter = self.adapter
        try:
            return {adapter.partition_key_name: adapter.partition_keygen(request_envelope)}
        except PersistenceException as e:  # the stock keygen's "no user id"
            raise StorageUnavailable("the request carries no user id", store=self.name,
                                     cause="NoUserId") from e

    def _table(self, quick: bool) -> Any:
        """The table; for a quick call, through a client that tries once (worst case connect +
        read, 0.7 s, instead of `worst_case`), built on first need: merges and retries are rare."""
        if quick and self._quick_resource is not None:
            if self._quick_table is None:
                self._quick_table = self._quick_resource().Table(self.adapter.table_name)
            return self._quick_table
        return self.adapter.dynamodb.Table(self.adapter.table_name)

    def read_record(self, request_envelope: RequestEnvelope, *, quick: bool = False) -> Record:
        key = self._key(request_envelope)
        try:
            found = self._table(quick).get_item(Key=key, ConsistentRead=True)
        except Exception as e:
            raise StorageUnavailable.of(e, self.name, "read") from e
        item = found.get("Item") or {}
        revision = item.get(REVISION_ATTRIBUTE, 0)
        revision = int(revision) if isinstance(revision, Decimal | int) else 0
        writers = item.get(WRITERS_ATTRIBUTE)
        writers = [w for w in writers if isinstance(w, str)] if isinstance(writers, list) else []
        if len(self._writers) >= MAX_REMEMBERED_WRITERS:
            self._writers.clear()
        self._writers[key[self.adapter.partition_key_name]] = (revision, writers)
        record = item.get(self.adapter.attribute_name, {})
        if not isinstance(record, dict):
            # The stock adapter's read would raise KeyError here: a record the table returns but
            # nobody can read is reset, not treated as an outage.
            log_failure(StorageUnavailable("unreadable record", store=self.name,
                                           cause="UnreadableRecord"), op="read", outcome="reset")
            return Record({}, revision)
        return Record(_from_dynamo(record), revision)

    def _item(self, request_envelope: RequestEnvelope, attributes: Attributes) -> dict[str, Any]:
        return {
            **self._key(request_envelope),
            self.adapter.attribute_name: _json_copy(attributes, self.name, parse_float=Decimal),
            TTL_ATTRIBUTE: int(self._clock()) + self._retention,
        }

    def write_record(self, request_envelope: RequestEnvelope, attributes: Attributes,
                     expected: int, *, quick: bool = False) -> int:
        token = uuid.uuid4().hex[:16]
        item = {**self._item(request_envelope, attributes), REVISION_ATTRIBUTE: expected + 1}
        key_value = item[self.adapter.partition_key_name]
        seen = self._writers.get(key_value)
        earlier = seen[1] if seen is not None and seen[0] == expected else []
        item[WRITERS_ATTRIBUTE] = [token, *earlier][:RECENT_WRITERS]
        if expected == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(#r)"}
        else:
            condition = {"ConditionExpression": "#r = :expected",
                         "ExpressionAttributeValues": {":expected": expected}}
        try:
            self._table(quick).put_item(
                Item=item, ExpressionAttributeNames={"#r": REVISION_ATTRIBUTE}, **condition)
        except Exception as e:
            found = getattr(e, "response", None)
            if isinstance(found, dict) and \
                    found.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                retried = found.get("ResponseMetadata", {}).get("RetryAttempts", 0)
                if retried and self._landed(key_value, token, quick):
                    return expected + 1  # an earlier attempt landed; its reply was lost
                raise Conflict("the record changed since it was read") from e
            raise StorageUnavailable.of(e, self.name, "write") from e
        return expected + 1

    def _landed(self, key_value: str, token: str, quick: bool) -> bool:
        """Whether the write that carried ``token`` is in the record (perhaps under later ones):
        one consistent read, made only when a conditional write was retried and failed its
        condition. Without it, the caller would merge its own write in a second time."""
        try:
            found = self._table(quick).get_item(
                Key={self.adapter.partition_key_name: key_value}, ConsistentRead=True,
                ProjectionExpression="#w",
                ExpressionAttributeNames={"#w": WRITERS_ATTRIBUTE})
        except Exception:  # noqa: BLE001 - unknown is a conflict: the caller reads again
            return False
        return token in ((found.get("Item") or {}).get(WRITERS_ATTRIBUTE) or [])

    def get_attributes(self, request_envelope: RequestEnvelope) -> Attributes:
        return self.read_record(request_envelope).attributes

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: Attributes) -> None:
        """An unconditional write (ask-sdk's contract); it still moves the revision on, so that
        a conditional writer that read before it notices."""
        item = self._item(request_envelope, attributes)
        key = {self.adapter.partition_key_name: item.pop(self.adapter.partition_key_name)}
        try:
            self._table(False).update_item(
                Key=key,
                UpdateExpression="SET #a = :a, #t = :t ADD #r :one",
                ExpressionAttributeNames={"#a": self.adapter.attribute_name, "#t": TTL_ATTRIBUTE,
                                          "#r": REVISION_ATTRIBUTE},
                ExpressionAttributeValues={":a": item[self.adapter.attribute_name],
                                           ":t": item[TTL_ATTRIBUTE], ":one": 1},
            )
        except Exception as e:
            raise StorageUnavailable.of(e, self.name, "write") from e

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        try:
            self.adapter.delete_attributes(request_envelope)
        except PersistenceException as e:
            raise StorageUnavailable.of(e.__cause__ or e, self.name, "delete") from e


def _dynamodb_store(table: str, env: Mapping[str, str], clock: Clock) -> DynamoDbStore:
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError
    except ImportError as e:
        raise StorageUnavailable("SKILL_TABLE is set but boto3 is not installed",
                                 store="dynamodb", cause="ImportError",
                                 detail="SKILL_TABLE is set but boto3 is not installed") from e

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    if boto3.DEFAULT_SESSION is None:
        # The stock adapter's default argument uses boto3's default session; give it the region
        # from `env` so that importing the adapter cannot fail for want of one.
        boto3.setup_default_session(region_name=region)
    # boto3 reads AWS_ENDPOINT_URL_DYNAMODB from os.environ itself; this honours `env`.
    endpoint = env.get("AWS_ENDPOINT_URL_DYNAMODB") or None

    def resource(attempts: int) -> Any:
        return boto3.resource(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint,
            config=Config(
                connect_timeout=DYNAMODB_CONNECT_TIMEOUT,
                read_timeout=DYNAMODB_READ_TIMEOUT,
                retries={"mode": "standard", "total_max_attempts": attempts},
            ),
        )

    try:
        from ask_sdk_dynamodb.adapter import DynamoDbAdapter
        from ask_sdk_dynamodb.partition_keygen import user_id_partition_keygen

        main = resource(DYNAMODB_MAX_ATTEMPTS)
    except ImportError as e:
        message = "SKILL_TABLE is set but ask-sdk-dynamodb-persistence-adapter is not installed"
        raise StorageUnavailable(message, store="dynamodb", cause="ImportError",
                                 detail=message) from e
    except NoRegionError as e:
        message = "SKILL_TABLE is set but no AWS region is configured (AWS_REGION)"
        raise StorageUnavailable(message, store="dynamodb", cause="NoRegionError",
                                 detail=message) from e
    adapter = DynamoDbAdapter(
        table_name=table,
        partition_key_name="id",
        attribute_name="attributes",
        create_table=False,  # the table, its TTL and on-demand billing belong to the template
        partition_keygen=user_id_partition_keygen,
        dynamodb_resource=main,
    )
    return DynamoDbStore(adapter, clock=clock, quick_resource=lambda: resource(1))
