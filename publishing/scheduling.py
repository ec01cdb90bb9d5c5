"""Wall-clock scheduling: local times in a campaign's time zone to UTC instants, weekly slots, catch-up policy.

Rules for local times that DST makes odd (stated once, applied everywhere):
- a local time that does not exist (spring forward, e.g. 02:30 in New York) moves forward by the gap (03:30);
  the dashboard's forms refuse such a time instead, naming the time it would become, so the marketer chooses;
- a local time that happens twice (fall back, e.g. 01:30) means its first occurrence (the daylight-time one).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

MAX_SLOT_SEARCH = timedelta(weeks=8)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name!r} is not a known IANA time zone (for example Europe/Berlin).") from exc


def local_to_utc(local: datetime, tz_name: str) -> datetime:
    """A naive local date-time in `tz_name` as an aware UTC instant, by the rules above."""
    if local.tzinfo is not None:
        raise ValueError("local_to_utc expects a naive local date-time")
    # fold=0 is exactly our rule: zoneinfo reads a nonexistent time with the offset before the gap (so it lands
    # after the gap) and an ambiguous time as its first occurrence.
    return local.replace(tzinfo=zone(tz_name), fold=0).astimezone(UTC)


def skipped_by_dst(local: datetime, tz_name: str) -> datetime | None:
    """The wall-clock time `local` would move to because DST skips it (02:30 -> 03:30), or None if it exists."""
    moved = local_to_utc(local, tz_name).astimezone(zone(tz_name)).replace(tzinfo=None)
    return moved if moved != local else None


def utc_to_local(instant: datetime, tz_name: str) -> datetime:
    return instant.astimezone(zone(tz_name))


def slot_instants(
    slots: Iterable[tuple[int, time]], tz_name: str, start: datetime, end: datetime
) -> list[datetime]:
    """UTC instants of weekly (weekday, local time) slots in [start, end), sorted and without duplicates."""
    tz = zone(tz_name)
    slots = list(slots)
    first_day: date = start.astimezone(tz).date() - timedelta(days=1)
    last_day: date = end.astimezone(tz).date() + timedelta(days=1)
    instants: set[datetime] = set()
    day = first_day
    while day <= last_day:
        for weekday, local_time in slots:
            if day.weekday() == weekday:
                instant = local_to_utc(datetime.combine(day, local_time), tz_name)
                if start <= instant < end:
                    instants.add(instant)
        day += timedelta(days=1)
    return sorted(instants)


def next_free_slot(
    slots: Iterable[tuple[int, time]], tz_name: str, after: datetime, taken: Iterable[datetime] = ()
) -> datetime | None:
    """The first slot instant strictly after `after` that no post occupies yet (None if there are no slots)."""
    slots = list(slots)
    if not slots:
        return None
    occupied = set(taken)
    window_start = after + timedelta(microseconds=1)
    horizon = after + MAX_SLOT_SEARCH
    while window_start < horizon:
        window_end = window_start + timedelta(weeks=1)
        for instant in slot_instants(slots, tz_name, window_start, window_end):
            if instant not in occupied:
                return instant
        window_start = window_end
    return None


class CatchUp(enum.Enum):
    SEND = "send"
    WAIT = "wait"  # too soon after the account's previous post: keep it scheduled, try again later
    SKIP = "skip"  # later than the account allows: never post it out of context


def catch_up_decision(
    scheduled_at: datetime,
    now: datetime,
    last_sent_at: datetime | None,
    min_gap: timedelta,
    max_lateness: timedelta,
) -> CatchUp:
    """What to do with a due post: after downtime, overdue posts go out late but spaced, never in a burst."""
    if now - scheduled_at > max_lateness:
        return CatchUp.SKIP
    if last_sent_at is not None and now - last_sent_at < min_gap:
        return CatchUp.WAIT
    return CatchUp.SEND
