"""The device API client against a local stand-in for Amazon's Settings and Reminders APIs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from skill.alexa import reminders
from skill.alexa.reminders import ReminderFailed, ReminderPermissionMissing
from tests.support.alexa_api import AlexaApi

TOKEN = "in-session-api-access-token"
DEVICE = "amzn1.ask.device.AEXAMPLE"
# 18:30 UTC on a summer day: 19:30 in London, 11:30 in Los Angeles.
NOW = datetime(2025, 6, 15, 18, 30, tzinfo=UTC)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlexaApi]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a developer's proxy must not see these calls
    with AlexaApi(time_zones={DEVICE: "Europe/London"}) as stand_in:
        yield stand_in


def nightly(api: AlexaApi, **overrides: object) -> str:
    args: dict = dict(hour=22, minute=0, time_zone="Europe/London", locale="en-GB",
                      text="Time for your bedside back stretch.", now=NOW)
    args.update(overrides)
    return reminders.create_nightly(api.endpoint, TOKEN, **args)


def test_a_nightly_reminder_is_created_with_the_documented_shape(api: AlexaApi) -> None:
    token = nightly(api)

    body = api.reminders[token]
    assert body["trigger"] == {
        "type": "SCHEDULED_ABSOLUTE",
        "scheduledTime": "2025-06-15T22:00:00.000",
        "timeZoneId": "Europe/London",
        "recurrence": {
            "startDateTime": "2025-06-15T22:00:00.000",
            "recurrenceRules": ["FREQ=DAILY;BYHOUR=22;BYMINUTE=0;BYSECOND=0;INTERVAL=1"],
        },
    }
    assert body["alertInfo"] == {"spokenInfo": {"content": [
        {"locale": "en-GB", "text": "Time for your bedside back stretch."}]}}
    assert body["pushNotification"] == {"status": "ENABLED"}
    assert api.calls[-1].authorization == f"Bearer {TOKEN}"


def test_times_are_local_with_no_zone_suffix(api: AlexaApi) -> None:
    token = nightly(api, hour=7, minute=45)
    body = api.reminders[token]
    for moment in (body["requestTime"], body["trigger"]["scheduledTime"],
                   body["trigger"]["recurrence"]["startDateTime"]):
        assert not moment.endswith("Z") and "+" not in moment
    assert body["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=7;BYMINUTE=45;BYSECOND=0;INTERVAL=1"]


def test_the_first_night_is_tomorrow_once_the_hour_has_passed_locally(api: AlexaApi) -> None:
    # 19:30 in London: 19:00 has passed today, 22:00 has not.
    early = api.reminders[nightly(api, hour=19, minute=0)]
    late = api.reminders[nightly(api, hour=22, minute=0)]
    assert early["trigger"]["scheduledTime"] == "2025-06-16T19:00:00.000"
    assert late["trigger"]["scheduledTime"] == "2025-06-15T22:00:00.000"
    # In Los Angeles it is still 11:30 the same day.
    la = api.reminders[nightly(api, hour=8, minute=0, time_zone="America/Los_Angeles")]
    assert la["trigger"]["scheduledTime"] == "2025-06-16T08:00:00.000"


def test_a_time_that_is_not_a_time_of_day_is_refused_before_any_call(api: AlexaApi) -> None:
    with pytest.raises(ValueError):
        nightly(api, hour=24)
    assert api.calls == []


def test_reminders_can_be_listed_and_deleted(api: AlexaApi) -> None:
    first, second = nightly(api), nightly(api, hour=21)
    assert sorted(reminders.list_tokens(api.endpoint, TOKEN)) == sorted([first, second])

    reminders.delete(api.endpoint, TOKEN, first)

    assert api.deleted == [first]
    assert reminders.list_tokens(api.endpoint, TOKEN) == [second]
    reminders.delete(api.endpoint, TOKEN, first)  # already gone: not an error


@pytest.mark.parametrize("status", [401, 403])
def test_a_missing_permission_is_its_own_error(api: AlexaApi, status: int) -> None:
    api.fail(status)
    with pytest.raises(ReminderPermissionMissing):
        nightly(api)
    with pytest.raises(ReminderPermissionMissing):
        reminders.delete(api.endpoint, TOKEN, "alert-1")


def test_other_failures_carry_the_status_and_amazons_code(api: AlexaApi) -> None:
    api.fail(500, "INTERNAL_SERVER_ERROR")
    with pytest.raises(ReminderFailed) as failed:
        nightly(api)
    assert (failed.value.status, failed.value.code) == (500, "INTERNAL_SERVER_ERROR")
    assert not isinstance(failed.value, ReminderPermissionMissing)


@pytest.mark.slow
def test_a_hanging_api_fails_within_the_timeout(api: AlexaApi) -> None:
    api.hang()
    started = time.monotonic()
    with pytest.raises(ReminderFailed):
        nightly(api, timeout=0.5)
    assert time.monotonic() - started < 1.0


def test_an_unreachable_api_is_a_failure_not_a_crash(api: AlexaApi) -> None:
    endpoint = api.endpoint
    api.stop()
    with pytest.raises(ReminderFailed):
        reminders.create_nightly(endpoint, TOKEN, hour=22, minute=0, time_zone="Europe/London",
                                 locale="en-GB", text="Stretch.", now=NOW)


def test_the_device_time_zone_comes_from_the_settings_api(api: AlexaApi) -> None:
    assert reminders.time_zone(api.endpoint, TOKEN, DEVICE) == "Europe/London"
    assert api.calls[-1].path == f"/v2/devices/{DEVICE}/settings/System.timeZone"
    assert api.calls[-1].authorization == f"Bearer {TOKEN}"


@pytest.mark.parametrize("breakage", ["unknown device", "401", "500", "no token"])
def test_the_time_zone_is_none_when_it_cannot_be_had(api: AlexaApi, breakage: str) -> None:
    device, token = DEVICE, TOKEN
    if breakage == "unknown device":
        device = "amzn1.ask.device.OTHER"
    elif breakage == "no token":
        token = ""
    else:
        api.fail(int(breakage))
    assert reminders.time_zone(api.endpoint, token, device) is None


@pytest.mark.slow
def test_the_time_zone_gives_up_quickly_when_the_api_hangs(api: AlexaApi) -> None:
    api.hang()
    started = time.monotonic()
    assert reminders.time_zone(api.endpoint, TOKEN, DEVICE) is None
    assert time.monotonic() - started < 0.6 + 0.3
