"""The bedtime reminder as a conversation, through the Lambda handler, against a stand-in API.

Amazon's device APIs (Settings for the time zone, Reminders) answer only the apiAccessToken of a
live Alexa session, so they cannot run here. `tests.support.alexa_api.AlexaApi` stands in for
them: a small HTTP server on 127.0.0.1, started by each test, answering the same paths with the
same shapes as Amazon documents, keeping what it was asked, and able to answer 401/403/500 or to
hang. Every request's ``context.System.apiEndpoint`` points at it.

The person has granted the reminders permission unless a test says otherwise: Alexa then puts a
consent token in ``context.System.user.permissions.consentToken``. The profile is kept in a fresh
SQLite file (the `talk` fixture), so what the skill remembers carries across sessions, and every
response is checked against Alexa's rules.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from skill.alexa import app
from skill.core.conversation import REMINDER_PERMISSION
from tests.conversation import Conversation, Turn, resolve
from tests.support.alexa_api import REMINDERS, AlexaApi
from tests.support.ssml import response_errors

Talk = Callable[..., Conversation]

OPEN = "open bedside back coach"
DEVICE = "amzn1.ask.device.TESTDEVICE"  # the Conversation helper's device
#: Not en-US's usual zone (New York): a reminder in this zone can only have come from Settings.
ZONE = "America/Denver"
CONSENT = "consent-token-for-reminders"
NIGHTLY_AT_TEN = "FREQ=DAILY;BYHOUR=22;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
#: Lambda gives the skill 3 s in all, whatever Amazon's API does.
RESPONSE_BUDGET = 3.0


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlexaApi]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a developer's proxy must not see these calls
    with AlexaApi(time_zones={DEVICE: ZONE}) as stand_in:
        yield stand_in


def granted(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler, for someone who has granted the reminders permission: Alexa sends the
    consent token with every request, in the session and in the context."""
    for user in (event["session"]["user"], event["context"]["System"]["user"]):
        user["permissions"] = {"consentToken": CONSENT}
    return app.handler(event, context)


@pytest.fixture
def evening(talk: Talk, api: AlexaApi) -> Callable[..., Conversation]:
    """Someone in bed at 20:30 in Denver: ``evening()``, or ``evening(permitted=False)``."""

    def start(permitted: bool = True, **options: Any) -> Conversation:
        handler = granted if permitted else app.handler
        return talk(at="20:30", tz=ZONE, api_endpoint=api.endpoint, handler=handler, **options)

    return start


def remind_me_every_night_at_ten(chat: Conversation) -> Turn:
    """The person says "remind me every night at ten".

    The words match the model's sample "remind me every night at {time}". Alexa fills an
    AMAZON.TIME slot with a 24-hour "HH:MM" value, ten at night being "22:00"; the test helper
    matches samples but cannot turn words into times, so the slot is sent as Alexa sends it.
    """
    assert resolve("remind me every night at ten") == ("SetReminderIntent", {"time": "ten"})
    return chat.intent("SetReminderIntent", time="22:00")


def set_nightly_reminder(chat: Conversation, api: AlexaApi) -> str:
    """Open, ask for the reminder, say yes; returns the new reminder's alert token."""
    chat.utter(OPEN)
    remind_me_every_night_at_ten(chat)
    chat.utter("yes").says_line("reminder.done", time="10 p.m.", when="every night").asks()
    assert len(api.reminders) == 1, api.reminders
    return next(iter(api.reminders))


def posts(api: AlexaApi) -> list[Any]:
    return [c for c in api.calls if c.method == "POST" and c.path == REMINDERS]


def consent_card(turn: Turn) -> Turn:
    """The session closes with a kind word and a card in the Alexa app asking for permission."""
    turn.says("I need your permission", "sent a card to your Alexa app").ended()
    assert turn.response.get("card") == {
        "type": "AskForPermissionsConsent", "permissions": [REMINDER_PERMISSION]}, turn.response
    return turn


def asked_at(turn: Turn) -> str:
    """The request's timestamp, as Amazon's reminder body spells a UTC time."""
    stamp = datetime.fromisoformat(turn.request["request"]["timestamp"].replace("Z", "+00:00"))
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000")


def timed(action: Callable[[], Turn]) -> tuple[Turn, float]:
    started = time.monotonic()
    turn = action()
    return turn, time.monotonic() - started


# ---------------------------------------------------------------- setting it


def test_every_night_at_ten_is_confirmed_then_created_as_a_daily_reminder(
    evening: Callable[..., Conversation], api: AlexaApi
) -> None:
    chat = evening()
    chat.utter(OPEN).says_line("offer.bedtime")

    confirm = remind_me_every_night_at_ten(chat)
    confirm.says_line("reminder.confirm_question", time="10 p.m.", when="every night").asks()
    assert not posts(api), "nothing may be created before the person says yes"

    done = chat.utter("yes").says_line("reminder.done", time="10 p.m.", when="every night")
    done.asks()
    [call] = posts(api)
    assert call.authorization == "Bearer test-api-access-token"  # the session's apiAccessToken
    [(token, body)] = api.reminders.items()
    trigger = body["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE"
    assert trigger["timeZoneId"] == ZONE  # the device's zone, from the Settings API
    assert trigger["recurrence"]["recurrenceRules"] == [NIGHTLY_AT_TEN]
    # Local times, no trailing Z and no offset (Amazon answers 400 to a zone suffix).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT22:00:00\.000", trigger["scheduledTime"]), trigger
    assert trigger["recurrence"]["startDateTime"] == trigger["scheduledTime"]
    assert not body["requestTime"].endswith("Z") and "+" not in body["requestTime"]
    # The first night is tonight: it is 20:30 where the device is, on the conversation's day.
    assert trigger["scheduledTime"] == f"{chat.now.date().isoformat()}T22:00:00.000"
    assert body["requestTime"] == asked_at(done)
    [spoken] = body["alertInfo"]["spokenInfo"]["content"]
    assert spoken["locale"] == "en-US" and "open bedside back coach" in spoken["text"].lower()
    assert body["pushNotification"] == {"status": "ENABLED"}

    settings = [c.path for c in api.calls if c.method == "GET"]
    assert settings == [f"/v2/devices/{DEVICE}/settings/System.timeZone"]  # once per session
    assert done.profile["reminder"] == token


@pytest.mark.parametrize(("asked", "first_night"), [
    ("21:50", "2024-03-09T22:00:00.000"),  # ten is still ahead tonight
    ("22:10", "2024-03-10T22:00:00.000"),  # ten has passed: from tomorrow (Denver's first MDT day)
    ("23:30", "2024-03-10T22:00:00.000"),  # 06:30 UTC on the 10th: the local date still counts
])
def test_the_first_night_counts_from_when_the_person_asked_where_they_are(
    talk: Talk, api: AlexaApi, asked: str, first_night: str
) -> None:
    """Not from this server's clock (years from the conversation's day) nor from its zone: from
    the request's timestamp, in the device's time zone."""
    chat = talk(at=asked, on=date(2024, 3, 9), tz=ZONE, api_endpoint=api.endpoint,
                handler=granted, seconds_per_turn=1)
    chat.utter(OPEN)
    remind_me_every_night_at_ten(chat)
    done = chat.utter("yes").says("Done").asks()
    [body] = api.reminders.values()
    assert body["trigger"]["scheduledTime"] == first_night
    assert body["trigger"]["recurrence"]["startDateTime"] == first_night
    assert body["requestTime"] == asked_at(done)


def test_no_to_the_confirmation_creates_nothing(evening: Callable[..., Conversation],
                                                api: AlexaApi) -> None:
    chat = evening()
    chat.utter(OPEN)
    remind_me_every_night_at_ten(chat).asks()
    chat.utter("no").says_line("reminder.not_set").asks()
    assert not posts(api) and not api.reminders


# ---------------------------------------------------------------- cancelling it, later


def test_the_reminder_is_remembered_and_cancelled_in_a_later_session(
    evening: Callable[..., Conversation], api: AlexaApi
) -> None:
    chat = evening()
    token = set_nightly_reminder(chat, api)
    chat.utter("stop").ended()

    chat.wait(days=1)
    cancelled = chat.utter("ask bedside back coach to cancel my reminder")
    cancelled.says_line("reminder.cancelled").asks()
    assert api.deleted == [token] and not api.reminders
    assert cancelled.profile["reminder"] is None
    chat.utter("stop").ended()

    chat.wait(minutes=5)
    chat.utter("ask bedside back coach to cancel my reminder").says_line(
        "reminder.none_to_cancel").asks()
    assert api.deleted == [token]


# ---------------------------------------------------------------- permission


def test_without_permission_a_consent_card_and_a_kind_explanation(
    evening: Callable[..., Conversation], api: AlexaApi
) -> None:
    chat = evening(permitted=False)
    chat.utter(OPEN)
    remind_me_every_night_at_ten(chat).says("every night at 10 p.m.").asks()
    consent_card(chat.utter("yes"))
    assert not posts(api), "without consent the skill must not even try"


def test_cancelling_without_permission_asks_for_it_and_keeps_the_reminder(
    evening: Callable[..., Conversation], api: AlexaApi
) -> None:
    chat = evening()
    token = set_nightly_reminder(chat, api)
    chat.utter("stop").ended()

    # The person withdrew the permission in the Alexa app since.
    later = evening(permitted=False)
    consent_card(later.utter("ask bedside back coach to cancel my reminder"))
    assert not api.deleted and token in api.reminders
    chat.wait(minutes=1)
    chat.utter("ask bedside back coach to cancel my reminder").says_line("reminder.cancelled")
    assert api.deleted == [token]


@pytest.mark.parametrize("status", [401, 403])
def test_the_api_refusing_permission_gets_the_consent_card(
    evening: Callable[..., Conversation], api: AlexaApi, status: int
) -> None:
    chat = evening()
    chat.utter(OPEN)
    remind_me_every_night_at_ten(chat)
    api.fail(status)
    consent_card(chat.utter("yes"))
    assert len(posts(api)) == 1, "the create was tried once"
    api.heal()
    chat.wait(minutes=2)
    chat.utter("ask bedside back coach to cancel my reminder").says_line(
        "reminder.none_to_cancel")


# ---------------------------------------------------------------- the API failing


def break_api(api: AlexaApi, how: str) -> None:
    if how == "500":
        api.fail(500, "INTERNAL_SERVER_ERROR")
    else:
        api.hang(30)  # released when the test's stand-in stops


@pytest.mark.parametrize("how", ["500", "hanging"])
@pytest.mark.slow
def test_a_failing_api_gets_a_kind_answer_in_time_when_setting(
    evening: Callable[..., Conversation], api: AlexaApi, how: str
) -> None:
    chat = evening()
    chat.utter(OPEN)
    remind_me_every_night_at_ten(chat)
    break_api(api, how)
    turn, seconds = timed(lambda: chat.utter("yes"))
    assert seconds < RESPONSE_BUDGET, f"{seconds:.2f} s with the API {how}"
    turn.says("Sorry, I couldn't set the reminder just now").asks()
    assert not response_errors(turn.envelope)
    assert turn.profile["reminder"] is None
    chat.utter("stop").ended()


@pytest.mark.parametrize("how", ["500", "hanging"])
@pytest.mark.slow
def test_a_failing_api_gets_a_kind_answer_in_time_when_cancelling(
    evening: Callable[..., Conversation], api: AlexaApi, how: str
) -> None:
    chat = evening()
    token = set_nightly_reminder(chat, api)
    chat.utter("stop").ended()

    # The worst case: a one-shot at a new session pays for the time zone and the call at once.
    break_api(api, how)
    chat.wait(days=1)
    turn, seconds = timed(lambda: chat.utter("ask bedside back coach to cancel my reminder"))
    assert seconds < RESPONSE_BUDGET, f"{seconds:.2f} s with the API {how}"
    turn.says("Sorry, I couldn't cancel the reminder just now").asks()
    assert not response_errors(turn.envelope)
    assert turn.profile["reminder"] == token, "a reminder that still exists is still known"
    chat.utter("stop").ended()

    api.heal()
    chat.wait(minutes=10)
    chat.utter("ask bedside back coach to cancel my reminder").says_line("reminder.cancelled")
    assert token in api.deleted
