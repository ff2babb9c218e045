"""The skill as ask-sdk assembles it, served the same way by Lambda, the web app and the console.

Memory: the profile is read once, at the first request of a session, into the session
attributes; it is written once, when the session ends, and only if it changed. A store that is
down costs the person their history for that session, never an answer, and never overwrites
what is already saved.

Two sessions of one person at once (two Echos) never overwrite each other: the write is
conditional on the revision read, and on a conflict the stored record is read again and merged
field by field (`skill.core.profile.merge`, three-way against the record as this session read
it), then written again; at most `MAX_MERGES` times. The session does not carry a second copy of
the record for that: after every turn it notes what the turn changed (each field's earlier value,
from its first change, and the request's time of its latest), which is enough to rebuild the
record as read and to let the later of two changes to one preference win. A failed write at the
end is tried once more if the time left allows, and logged at ERROR if it is still lost. A record
from a newer schema, or one too large to carry in a session, is used read-only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import RequestEnvelope, Response

from skill.alexa import can_fulfill, handlers, storage
from skill.alexa.handlers import PROFILE, STORED  # the session keys the shell owns
from skill.alexa.serializer import Serializer
from skill.core import profile as schema
from skill.core.profile import Profile

log = logging.getLogger(__name__)

#: Request attribute: the profile as this turn found it (never the turn's own copy), to tell
#: after the turn what it changed.
BEFORE_TURN = "profile_before_turn"
#: Beside the profile in the stored record: when each stamped field last changed.
STAMPS = "changed"
#: Conflicts resolved per session end before giving up (each is one read and one write).
MAX_MERGES = 3
#: Seconds the writes at a session's end may take in all, retry included: the closing words wait
#: for them, and a response within 3 s leaves Alexa's 8 s and Lambda's timeout well alone.
SAVE_BUDGET = 2.5


def _moment(handler_input: HandlerInput) -> datetime:
    """When the person spoke: the request's timestamp (this server's clock only without one)."""
    return handlers.request_time(handler_input) or datetime.now(UTC)


def _stamps(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    if all(isinstance(v, str) for v in raw.values()):  # keys are strings: it came as JSON
        return raw
    return {k: v for k, v in raw.items() if isinstance(v, str)}


def _opened(record: storage.Record) -> tuple[dict[str, Any], dict[str, Any]]:
    """The session's profile and its STORED bookkeeping, from the record as read."""
    raw = record.attributes.get(PROFILE, {}) if isinstance(record.attributes, dict) else {}
    if schema.is_newer(raw):
        # A newer release wrote this: answer from what we can read of it, and never write it
        # back (an older release must not reset or trim what it does not understand).
        log.warning("storage_read_only reason=newer_schema version=%s ours=%s",
                    raw.get("version"), schema.SCHEMA_VERSION)
        return Profile.from_dict(raw, keep_unknown=False).to_dict(), {"read_only": "newer_schema"}
    if schema.record_bytes(raw) > schema.MAX_RECORD_BYTES:
        storage.log_failure(
            storage.StorageUnavailable("record too large", cause="RecordTooLarge"),
            op="read", outcome="read_only", bytes=str(schema.record_bytes(raw)))
        return Profile.from_dict(raw, keep_unknown=False).to_dict(), {"read_only": "too_large"}
    # Normalised through the schema: DynamoDB hands 1.0 back as 1, and an unchanged profile
    # must compare equal when the session ends, or every session would write.
    profile = Profile.from_dict(raw).to_dict()
    stored = {"revision": record.revision, "stamps": _stamps(record.attributes.get(STAMPS)),
              "changes": {}}
    return profile, stored


def _request_type(handler_input: HandlerInput) -> str | None:
    return getattr(handler_input.request_envelope.request, "object_type", None)


def _bookkeeping(state: dict[str, Any]) -> dict[str, Any] | None:
    """The session's STORED bookkeeping if it is whole (a session we can write for), else None.
    Checked cheaply every turn; what it holds is checked where it is used."""
    stored = state.get(STORED)
    if not isinstance(stored, dict) or type(stored.get("revision")) is not int \
            or stored["revision"] < 0 or "read_only" in stored:
        return None
    changes = stored.get("changes")
    if not (isinstance(changes, dict) and isinstance(changes.get("before"), dict)
            and isinstance(changes.get("at"), dict)):
        stored["changes"] = {"before": {}, "at": {}}
    return stored


class LoadProfile(AbstractRequestInterceptor):
    """One read per session: at its first request, or when the session has no profile yet."""

    def __init__(self, store: storage.VersionedStore | None) -> None:
        self.store = store

    def process(self, handler_input: HandlerInput) -> None:
        if _request_type(handler_input) == can_fulfill.REQUEST_TYPE:
            return  # a query about a request, not a visit: no read, no session attributes
        manager = handler_input.attributes_manager
        try:
            state = manager.session_attributes
        except Exception:  # noqa: BLE001 - no session on this request: nothing to load into
            return
        if state is None:  # (ask-sdk gives None only where it raises above)
            return
        sent = getattr(handler_input.request_envelope.session, "attributes", None)
        if PROFILE not in state or STORED not in state:
            state[PROFILE], state[STORED] = self.load(handler_input)
        elif isinstance(sent, dict) and sent is not state:
            # ask-sdk gives the handlers a deep copy of the session attributes: the request's
            # own are the profile as this turn found it, whatever the turn does to the copy.
            manager.request_attributes[BEFORE_TURN] = sent.get(PROFILE)
            return
        if isinstance(state[PROFILE], dict) and state[STORED] is not None:
            manager.request_attributes[BEFORE_TURN] = schema.json_copy(state[PROFILE])

    def load(self, handler_input: HandlerInput) -> tuple[dict[str, Any], dict[str, Any] | None]:
        if self.store is None:
            return Profile().to_dict(), None
        try:
            record = self.store.read_record(handler_input.request_envelope)
        except Exception as error:  # noqa: BLE001 - any store failure means "answer without memory"
            storage.log_failure(error, op="read", outcome="no_memory")
            return {}, None
        return _opened(record)


class SaveProfile(AbstractResponseInterceptor):
    """Every turn: stamp what changed. When the session ends, one write, if anything changed and
    memory was available; a merge and another write only if someone else wrote meanwhile."""

    def __init__(self, store: storage.VersionedStore | None) -> None:
        self.store = store

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        if self.store is None:
            return
        try:
            state = handler_input.attributes_manager.session_attributes
        except Exception:  # noqa: BLE001 - no session: nothing to save
            return
        if state is None:
            return
        stored = _bookkeeping(state)
        mine = state.get(PROFILE)
        if stored is None or not isinstance(mine, dict):
            return
        before = handler_input.attributes_manager.request_attributes.get(BEFORE_TURN)
        if isinstance(before, dict):
            schema.note_changes(stored["changes"], before, mine, _moment(handler_input))
        ending = _request_type(handler_input) == "SessionEndedRequest" or (
            response is not None and response.should_end_session is True
        )
        if not ending:
            return
        mine = Profile.from_dict(mine).to_dict()  # bounded and well-formed, whatever happened
        base = schema.as_read(mine, stored["changes"])
        if mine == base:
            return
        written = save(self.store, handler_input.request_envelope, stored, mine,
                       deadline=time.monotonic() + SAVE_BUDGET, base=base)
        if written is not None:
            revision, record = written
            state[STORED] = {"revision": revision, "stamps": record[STAMPS], "changes": {}}


def save(store: storage.VersionedStore, envelope: Any, stored: dict[str, Any],
         mine: dict[str, Any], *, deadline: float, base: dict[str, Any]
         ) -> tuple[int, dict[str, Any]] | None:
    """Write this session's profile (`base`: the record as the session read it, from
    `profile.as_read`); merge with what another session stored meanwhile.

    Returns the new revision and the record written, or None when the write was lost (logged at
    ERROR, saying what kind of change was lost, never what it was).
    """
    my_stamps = _stamps(stored["changes"]["at"])
    base_stamps = _stamps(stored.get("stamps"))
    expected = stored["revision"]
    record = {PROFILE: mine, STAMPS: schema.stamps_after(base_stamps, my_stamps)}
    merges = 0
    retried = False
    while True:
        quick = retried or merges > 0  # a follow-up call: the time left is what counts
        try:
            return store.write_record(envelope, record, expected, quick=quick), record
        except storage.Conflict as conflict:
            if merges == MAX_MERGES or time.monotonic() + 2 * store.quick_worst_case > deadline:
                _lost(conflict, base, mine, merges=merges)
                return None
            try:
                theirs = store.read_record(envelope, quick=True)
            except Exception as error:  # noqa: BLE001 - as for a failed write
                _lost(error, base, mine, merges=merges)
                return None
            if theirs.attributes == record:
                return theirs.revision, record  # our own write had landed; its answer was lost
            raw = theirs.attributes.get(PROFILE, {})
            refusal = "NewerSchema" if schema.is_newer(raw) else (
                "RecordTooLarge" if schema.record_bytes(raw) > schema.MAX_RECORD_BYTES else None)
            if refusal:
                # Taken over meanwhile by a newer release, or grown past what a session may
                # carry: as at the start of a session, such a record is not ours to write.
                _lost(storage.StorageUnavailable(refusal, store=store.name, cause=refusal),
                      base, mine, merges=merges)
                return None
            merged = schema.merge(base, mine, Profile.from_dict(raw).to_dict(),
                                  base_stamps=base_stamps, my_stamps=my_stamps,
                                  their_stamps=_stamps(theirs.attributes.get(STAMPS)))
            merges += 1
            log.info("storage_merge store=%s attempt=%d contested=%s", store.name, merges,
                     ",".join(merged.contested) or "-")
            record = {PROFILE: merged.profile, STAMPS: merged.stamps}
            expected = theirs.revision
        except Exception as error:  # noqa: BLE001 - the answer matters more than the write
            if not retried and time.monotonic() + store.quick_worst_case <= deadline:
                storage.log_failure(error, op="write", outcome="retrying")
                retried = True
                continue
            _lost(error, base, mine, merges=merges)
            return None


def _lost(error: BaseException, base: dict[str, Any], mine: dict[str, Any], *,
          merges: int) -> None:
    """Log a session's changes that could not be stored, at ERROR: what kind, never what."""
    kinds = [path for path in ("history", "unfinished", "prefs", "reminder", "disclaimer_heard")
             if mine.get(path) != base.get(path)]
    lost = ",".join("completion" if k == "history" else k for k in kinds) or "-"
    storage.log_failure(error, op="merge" if isinstance(error, storage.Conflict) else "write",
                        outcome="lost", level=logging.ERROR, lost=lost, merges=str(merges))


def default_adapter() -> AbstractPersistenceAdapter | None:
    try:
        return storage.adapter_from_env()
    except storage.StorageUnavailable as error:
        # Every session of this process will be a stranger's: an operator must hear of it.
        storage.log_failure(error, op="setup", outcome="no_memory", level=logging.ERROR)
        return None


def build_skill(
    persistence: AbstractPersistenceAdapter | None = None,
    *,
    skill_id: str | None = None,
    use_default_store: bool = True,
) -> CustomSkill:
    """The skill. ``persistence`` overrides the store chosen from the environment. Without a skill
    ID (argument, else SKILL_ID) it refuses every request, unless in local development."""
    from skill.alexa import refusal

    skill_id = (skill_id if skill_id is not None else os.environ.get("SKILL_ID")) or None
    if skill_id is None and not refusal.local_development():
        return refusal.refusing_skill()
    if persistence is None and use_default_store:
        persistence = default_adapter()
    # ask-sdk's type comments are narrower than its code: both default to None.
    builder = CustomSkillBuilder(persistence_adapter=persistence)  # type: ignore[arg-type]
    builder.skill_id = skill_id  # type: ignore[assignment]
    for handler in (
        can_fulfill.CanFulfillHandler(),
        handlers.LaunchHandler(),
        handlers.IntentHandler(),
        handlers.SessionEndedHandler(),
        handlers.ExceptionEncounteredHandler(),
        handlers.OtherRequestHandler(),
    ):
        builder.add_request_handler(handler)
    builder.add_exception_handler(handlers.ApologyHandler())
    store = storage.versioned(persistence) if persistence is not None else None
    builder.add_global_request_interceptor(LoadProfile(store))
    builder.add_global_response_interceptor(SaveProfile(store))
    built = builder.create()
    built.serializer = Serializer()
    return built


_skill: CustomSkill | None = None


def skill() -> CustomSkill:
    global _skill
    if _skill is None:
        _skill = build_skill()
    return _skill


def invoke(current: CustomSkill, event: Any, context: Any = None) -> dict[str, Any]:
    """Run one request envelope (a dict) through a skill and return the response dict.

    A request for another skill is refused by raising; anything else that goes wrong before
    the handlers run (a malformed envelope) still gets a spoken apology back.
    """
    serializer = current.serializer
    try:
        if isinstance(serializer, Serializer):
            envelope = serializer.read_event(event)
        else:
            envelope = serializer.deserialize(json.dumps(event), RequestEnvelope)
        if envelope is None or envelope.request is None:
            raise ValueError("no request in the envelope")
        response = current.invoke(request_envelope=envelope, context=context)
    except AskSdkException as error:
        if "Skill ID Verification" in str(error):
            raise
        log.warning("unusable request: %s", type(error).__name__)
        return handlers.apology(event)
    except Exception as error:  # noqa: BLE001 - malformed envelopes must still be answered
        log.warning("unusable request: %s", type(error).__name__)
        return handlers.apology(event)
    serialized = serializer.serialize(response)  # typed for any object: an envelope is a dict
    return serialized if isinstance(serialized, dict) else handlers.apology(event)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point."""
    return invoke(skill(), event, context)
