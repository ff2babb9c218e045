"""Where a person's profile is kept between sessions.

Two backends behind ask-sdk's ``AbstractPersistenceAdapter``:

* ``SKILL_TABLE`` set: the stock ask-sdk DynamoDB adapter on that table, with tight boto3 timeouts
  and a TTL attribute (``expires_at``) written on every save.
* otherwise: an embedded SQLite file at ``SKILL_DB`` (default under ``~/.local/share``).

Both key a record by the Alexa user id and hold the same JSON-shaped dict. Every failure, whatever
the backend, is raised as ``StorageUnavailable`` so the skill can carry on without memory.

boto3 and the DynamoDB adapter are imported only when ``SKILL_TABLE`` is set: importing them costs
about half a second, and the stock adapter builds a boto3 resource in a default argument at import
time (``NoRegionError`` when no region is configured).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ask_sdk_model import RequestEnvelope

Clock = Callable[[], float]
Attributes = dict[str, Any]

TTL_ATTRIBUTE = "expires_at"
# A profile untouched for this long is dropped (DynamoDB's TTL sweeper; SQLite ignores it on read).
RETENTION_SECONDS = 400 * 24 * 3600
DEFAULT_DB_PATH = "~/.local/share/bedside-back-coach/skill.db"

# boto3 settings for the table. Worst case with the table unreachable or hanging: two attempts of
# at most connect 0.3 s or read 0.4 s, and one jittered backoff of at most 1 s between them
# (botocore's legacy backoff formula; the newer one waits at most 25 ms): about 1.8 s, which
# leaves room inside the 3 s a Lambda invocation is given. Measured in tests/test_storage.py.
DYNAMODB_CONNECT_TIMEOUT = 0.3
DYNAMODB_READ_TIMEOUT = 0.4
DYNAMODB_MAX_ATTEMPTS = 2

# How long SQLite waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT = 1.0


class StorageUnavailable(PersistenceException):
    """The profile store could not be read or written; answer without memory."""


def user_key(request_envelope: RequestEnvelope) -> str:
    """The record key: the Alexa user id, as the stock DynamoDB adapter's default keygen uses."""
    try:
        user_id = request_envelope.context.system.user.user_id
    except AttributeError as e:
        raise StorageUnavailable("the request carries no user id") from e
    if not user_id:
        raise StorageUnavailable("the request carries no user id")
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


def _json_copy(attributes: Mapping[str, Any], **loads_options: Any) -> Attributes:
    """The attributes as they will read back: JSON types only, tuples become lists."""
    try:
        text = json.dumps(attributes, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageUnavailable(f"attributes are not JSON-serialisable: {e}") from e
    return json.loads(text, **loads_options)


class SQLiteStore(AbstractPersistenceAdapter):
    """A profile per user in one SQLite file; safe for several processes at once.

    Each operation opens a connection, runs one statement (its own transaction) and closes it, so
    no lock is held between requests. WAL lets readers run beside a writer; a writer waits at most
    ``busy_timeout`` seconds for another one.
    """

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS profiles ("
        " id TEXT PRIMARY KEY,"
        " attributes TEXT NOT NULL,"
        " expires_at INTEGER NOT NULL)"
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
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._retention = retention
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a write holds the lock
        # for microseconds instead of an fsync, so concurrent writers do not starve. A commit can
        # be lost to a power cut (never to a crash of the process), and the file stays sound.
        conn.execute("PRAGMA synchronous=NORMAL")
        if not self._ready:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(self._SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._ready = True
        return conn

    def _run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # SQLite's busy handler covers an ordinary wait for a lock, but while several processes
        # create a new file and switch it to WAL at once, one can be told "locked" at once (seen
        # in the several-processes test). Such a statement did nothing: try it again until the
        # deadline, so the worst case stays about `busy_timeout`.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                with closing(self._connect()) as conn:
                    return conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as e:
                busy = e.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if busy and time.monotonic() < deadline:
                    time.sleep(0.005)
                    continue
                error: Exception = e
            except (sqlite3.Error, OSError) as e:
                error = e
            self._ready = False  # the file may have been removed: set it up again next time
            raise StorageUnavailable(f"SQLite store {self.path}: {error}") from error

    def get_attributes(self, request_envelope: RequestEnvelope) -> Attributes:
        rows = self._run(
            "SELECT attributes FROM profiles WHERE id = ? AND expires_at > ?",
            (user_key(request_envelope), int(self._clock())),
        )
        if not rows:
            return {}
        try:
            record = json.loads(rows[0][0])
        except ValueError:
            record = None
        if not isinstance(record, dict):
            # The store answered, but the record is garbage: start this person afresh (the
            # session's save replaces it) rather than answer without memory forever.
            log.warning("unreadable record in %s: reset", self.path)
            return {}
        return record

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: Attributes) -> None:
        key = user_key(request_envelope)
        text = json.dumps(_json_copy(attributes), ensure_ascii=False)
        self._run(
            "INSERT INTO profiles (id, attributes, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE"
            " SET attributes = excluded.attributes, expires_at = excluded.expires_at",
            (key, text, int(self._clock()) + self._retention),
        )

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self._run("DELETE FROM profiles WHERE id = ?", (user_key(request_envelope),))


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


class DynamoDbStore(AbstractPersistenceAdapter):
    """The stock ask-sdk ``DynamoDbAdapter``, plus a TTL attribute on save and our error type.

    Items keep the stock shape, ``{id: <user id>, attributes: {...}}``, with ``expires_at``
    (epoch seconds) beside them for the table's TTL.
    """

    def __init__(self, adapter: Any, *, clock: Clock = time.time,
                 retention: int = RETENTION_SECONDS) -> None:
        self.adapter = adapter
        self._clock = clock
        self._retention = retention

    def get_attributes(self, request_envelope: RequestEnvelope) -> Attributes:
        # The stock adapter's read, minus its KeyError on an item without attributes: a record
        # the table returns but nobody can read is reset, not treated as an outage.
        adapter = self.adapter
        try:
            key = {adapter.partition_key_name: adapter.partition_keygen(request_envelope)}
            found = adapter.dynamodb.Table(adapter.table_name).get_item(
                Key=key, ConsistentRead=True)
        except Exception as e:
            raise StorageUnavailable(
                f"DynamoDB table {adapter.table_name}: {type(e).__name__}: {e}"
            ) from e
        record = found.get("Item", {}).get(adapter.attribute_name, {})
        if not isinstance(record, dict):
            log.warning("unreadable record in %s: reset", adapter.table_name)
            return {}
        return _from_dynamo(record)

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: Attributes) -> None:
        # The stock save writes only {id, attributes}; this is that put with the TTL beside it.
        adapter = self.adapter
        value = _json_copy(attributes, parse_float=Decimal)
        try:
            item = {
                adapter.partition_key_name: adapter.partition_keygen(request_envelope),
                adapter.attribute_name: value,
                TTL_ATTRIBUTE: int(self._clock()) + self._retention,
            }
            adapter.dynamodb.Table(adapter.table_name).put_item(Item=item)
        except Exception as e:
            raise StorageUnavailable(
                f"DynamoDB table {adapter.table_name}: {type(e).__name__}: {e}"
            ) from e

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        try:
            self.adapter.delete_attributes(request_envelope)
        except PersistenceException as e:
            raise StorageUnavailable(str(e)) from e


def _dynamodb_store(table: str, env: Mapping[str, str], clock: Clock) -> DynamoDbStore:
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError
    except ImportError as e:
        raise StorageUnavailable("SKILL_TABLE is set but boto3 is not installed") from e

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    if boto3.DEFAULT_SESSION is None:
        # The stock adapter's default argument uses boto3's default session; give it the region
        # from `env` so that importing the adapter cannot fail for want of one.
        boto3.setup_default_session(region_name=region)
    try:
        from ask_sdk_dynamodb.adapter import DynamoDbAdapter
        from ask_sdk_dynamodb.partition_keygen import user_id_partition_keygen

        resource = boto3.resource(
            "dynamodb",
            region_name=region,
            # boto3 reads AWS_ENDPOINT_URL_DYNAMODB from os.environ itself; this honours `env`.
            endpoint_url=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            config=Config(
                connect_timeout=DYNAMODB_CONNECT_TIMEOUT,
                read_timeout=DYNAMODB_READ_TIMEOUT,
                retries={"mode": "standard", "total_max_attempts": DYNAMODB_MAX_ATTEMPTS},
            ),
        )
    except ImportError as e:
        raise StorageUnavailable(
            "SKILL_TABLE is set but ask-sdk-dynamodb-persistence-adapter is not installed"
        ) from e
    except NoRegionError as e:
        raise StorageUnavailable(
            "SKILL_TABLE is set but no AWS region is configured (AWS_REGION)"
        ) from e
    adapter = DynamoDbAdapter(
        table_name=table,
        partition_key_name="id",
        attribute_name="attributes",
        create_table=False,  # the table, its TTL and on-demand billing belong to the template
        partition_keygen=user_id_partition_keygen,
        dynamodb_resource=resource,
    )
    return DynamoDbStore(adapter, clock=clock)
