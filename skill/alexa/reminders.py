"""The Alexa device APIs this skill calls: the device's time zone, and a nightly reminder.

A small urllib client rather than ask-sdk's ``DefaultApiClient``: it imports next to nothing and
every call has a short timeout, so a slow Alexa API costs the user a second at most, never the
whole response. ``api_endpoint`` and ``api_token`` are the request's
``context.System.apiEndpoint`` and ``context.System.apiAccessToken``.

Amazon's rules the caller must keep (see docs/ and platform-notes): the reminders permission
(``alexa::alerts:reminders:skill:readwrite``), a spoken yes for each reminder with its time and
recurrence said back, and creating only in session.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

REMINDERS_PATH = "/v1/alerts/reminders"
TIMEOUT = 1.5  # seconds per socket operation for the reminder calls
TIME_ZONE_TIMEOUT = 0.6


class ReminderError(Exception):
    """A reminder call did not do what was asked."""


class ReminderPermissionMissing(ReminderError):
    """401/403: the user has not granted the reminders permission (send a consent card)."""


class ReminderFailed(ReminderError):
    """Any other failure: an HTTP error, a timeout, an unreadable answer."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code  # Amazon's error code from the body, e.g. "MAX_REMINDERS_EXCEEDED"


def _local(moment: datetime) -> str:
    """Amazon's local time format: no offset and no trailing Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000")


def _first_day(hour: int, minute: int, time_zone: str, now: datetime) -> date:
    """The first local day on which hour:minute is still ahead in `time_zone`."""
    try:
        local_now = now.astimezone(ZoneInfo(time_zone))
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        # No tz database (or a zone we do not know): tomorrow in UTC is ahead in every zone;
        # at worst the first night is skipped.
        return (now.astimezone(UTC) + timedelta(days=1)).date()
    today = local_now.date()
    if (local_now.hour, local_now.minute) >= (hour, minute):
        return today + timedelta(days=1)
    return today


def nightly_request(
    *, hour: int, minute: int, time_zone: str, text: str, locale: str, now: datetime
) -> dict[str, Any]:
    """The body of a create-reminder call for every day at hour:minute local time."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"not a time of day: {hour}:{minute}")
    start = datetime.combine(_first_day(hour, minute, time_zone, now), datetime.min.time())
    start = start.replace(hour=hour, minute=minute)
    rule = f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute};BYSECOND=0;INTERVAL=1"
    return {
        "requestTime": _local(now.astimezone(UTC)),
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": _local(start),
            "timeZoneId": time_zone,
            "recurrence": {"startDateTime": _local(start), "recurrenceRules": [rule]},
        },
        "alertInfo": {"spokenInfo": {"content": [{"locale": locale, "text": text}]}},
        "pushNotification": {"status": "ENABLED"},
    }


def _call(
    method: str, url: str, api_token: str, body: dict[str, Any] | None, timeout: float
) -> Any:
    # Imported here: urllib.request (http.client, email, ssl) adds ~40 ms to a cold start.
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {api_token}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise ReminderPermissionMissing(f"{method} {url}: HTTP {e.code}") from e
        raise ReminderFailed(
            f"{method} {url}: HTTP {e.code}", status=e.code, code=_error_code(e)
        ) from e
    except (OSError, ValueError) as e:  # URLError, timeouts, refused, a malformed URL
        raise ReminderFailed(f"{method} {url}: {type(e).__name__}: {e}") from e
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ReminderFailed(f"{method} {url}: the answer is not JSON") from e


def _error_code(error: Any) -> str | None:
    """Amazon's error code from an HTTPError's JSON body, if there is one."""
    try:
        code = json.loads(error.read()).get("code")
    except (OSError, ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def _base(api_endpoint: str) -> str:
    return api_endpoint.rstrip("/")


def create_nightly(
    api_endpoint: str,
    api_token: str,
    *,
    hour: int,
    minute: int,
    time_zone: str,
    text: str,
    locale: str,
    timeout: float = TIMEOUT,
    now: datetime | None = None,
) -> str:
    """Create a reminder that speaks `text` every day at hour:minute in `time_zone`.

    `now` is when the person asked (the request's timestamp): the first night is the first
    hour:minute still ahead of it in `time_zone`. Only without one is the server's clock used.
    Returns its alertToken (keep it in the profile to delete it later).
    """
    body = nightly_request(
        hour=hour, minute=minute, time_zone=time_zone, text=text, locale=locale,
        now=now or datetime.now(UTC),
    )
    answer = _call("POST", _base(api_endpoint) + REMINDERS_PATH, api_token, body, timeout)
    token = answer.get("alertToken") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise ReminderFailed("the reminder was created but no alertToken came back")
    return token


def delete(api_endpoint: str, api_token: str, alert_token: str, *,
           timeout: float = TIMEOUT) -> None:
    """Delete one of this skill's reminders. One already gone (404) counts as deleted."""
    url = f"{_base(api_endpoint)}{REMINDERS_PATH}/{urllib.parse.quote(alert_token, safe='')}"
    try:
        _call("DELETE", url, api_token, None, timeout)
    except ReminderFailed as e:
        if e.status != 404:
            raise


def list_tokens(api_endpoint: str, api_token: str, *, timeout: float = TIMEOUT) -> list[str]:
    """The alertTokens of this skill's reminders for this user."""
    answer = _call("GET", _base(api_endpoint) + REMINDERS_PATH, api_token, None, timeout)
    alerts = answer.get("alerts") if isinstance(answer, dict) else None
    if not isinstance(alerts, list):
        raise ReminderFailed("the reminder list has no alerts")
    return [a["alertToken"] for a in alerts if isinstance(a, dict) and a.get("alertToken")]


def time_zone(
    api_endpoint: str | None,
    api_token: str | None,
    device_id: str | None,
    timeout: float = TIME_ZONE_TIMEOUT,
) -> str | None:
    """The device's IANA time zone ("Europe/London") from the Settings API, or None.

    None on any failure, quickly: the caller goes on with a default.
    """
    if not (api_endpoint and api_token and device_id):
        return None
    device = urllib.parse.quote(device_id, safe="")
    url = f"{_base(api_endpoint)}/v2/devices/{device}/settings/System.timeZone"
    try:
        answer = _call("GET", url, api_token, None, timeout)
    except ReminderError:
        return None
    return answer if isinstance(answer, str) and answer else None
