from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from publishing.scheduling import CatchUp, catch_up_decision, local_to_utc, next_free_slot, slot_instants

SUNDAY = 6


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "local", "expected"),
    [
        # Ordinary times on either side of the changes.
        ("America/New_York", datetime(2026, 3, 7, 9, 0), utc(2026, 3, 7, 14, 0)),
        ("America/New_York", datetime(2026, 3, 8, 9, 0), utc(2026, 3, 8, 13, 0)),
        # Spring forward (2026-03-08 02:00 -> 03:00): 02:30 does not exist and moves forward to 03:30 EDT.
        ("America/New_York", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30)),
        # Fall back (2026-11-01 02:00 -> 01:00): 01:30 happens twice; we take the first (EDT).
        ("America/New_York", datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30)),
        ("America/New_York", datetime(2026, 11, 1, 9, 0), utc(2026, 11, 1, 14, 0)),
        # Berlin: spring forward 2026-03-29 02:00 -> 03:00, fall back 2026-10-25 03:00 -> 02:00.
        ("Europe/Berlin", datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30)),
        ("Europe/Berlin", datetime(2026, 3, 29, 9, 0), utc(2026, 3, 29, 7, 0)),
        ("Europe/Berlin", datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
        ("Europe/Berlin", datetime(2026, 10, 25, 9, 0), utc(2026, 10, 25, 8, 0)),
    ],
)
def test_local_times_land_on_the_right_utc_instant(tz, local, expected):
    assert local_to_utc(local, tz) == expected


def test_a_weekly_slot_keeps_its_local_time_across_both_changes_in_new_york():
    instants = slot_instants([(SUNDAY, time(9, 0))], "America/New_York", utc(2026, 3, 1), utc(2026, 3, 16))
    assert instants == [utc(2026, 3, 1, 14, 0), utc(2026, 3, 8, 13, 0), utc(2026, 3, 15, 13, 0)]
    instants = slot_instants([(SUNDAY, time(9, 0))], "America/New_York", utc(2026, 10, 25), utc(2026, 11, 9))
    assert instants == [utc(2026, 10, 25, 13, 0), utc(2026, 11, 1, 14, 0), utc(2026, 11, 8, 14, 0)]


def test_slots_in_the_gap_and_the_overlap_in_berlin_follow_the_stated_rule():
    spring = slot_instants([(SUNDAY, time(2, 30))], "Europe/Berlin", utc(2026, 3, 28), utc(2026, 3, 30))
    assert spring == [utc(2026, 3, 29, 1, 30)]  # 03:30 CEST
    autumn = slot_instants([(SUNDAY, time(2, 30))], "Europe/Berlin", utc(2026, 10, 24), utc(2026, 10, 26))
    assert autumn == [utc(2026, 10, 25, 0, 30)]  # first 02:30 (CEST), once


def test_next_free_slot_skips_taken_instants():
    slots = [(0, time(9, 0)), (2, time(9, 0))]  # Monday and Wednesday 09:00 in Berlin
    after = utc(2026, 11, 23, 12, 0)  # Monday afternoon
    first = next_free_slot(slots, "Europe/Berlin", after)
    assert first == utc(2026, 11, 25, 8, 0)
    assert next_free_slot(slots, "Europe/Berlin", after, taken=[first]) == utc(2026, 11, 30, 8, 0)
    assert next_free_slot([], "Europe/Berlin", after) is None


def test_unknown_time_zones_are_a_clear_error():
    with pytest.raises(ValidationError, match="not a known IANA time zone"):
        local_to_utc(datetime(2026, 1, 1, 9, 0), "Europe/Atlantis")


def test_catch_up_sends_spaced_posts_and_skips_what_is_too_late():
    now = utc(2026, 11, 24, 12, 0)
    gap, lateness = timedelta(minutes=10), timedelta(hours=3)
    assert catch_up_decision(now - timedelta(hours=2), now, None, gap, lateness) is CatchUp.SEND
    recent = now - timedelta(minutes=3)
    assert catch_up_decision(now - timedelta(hours=2), now, recent, gap, lateness) is CatchUp.WAIT
    assert catch_up_decision(now - timedelta(hours=4), now, None, gap, lateness) is CatchUp.SKIP


def test_catch_up_after_two_hours_of_downtime_never_posts_closer_than_the_gap():
    """Simulate a dispatcher ticking every 30 s after 2 h of downtime with 12 overdue posts (one every 10 min)."""
    down_from = utc(2026, 11, 24, 10, 0)
    due = [down_from + timedelta(minutes=10 * i) for i in range(12)]
    gap, lateness = timedelta(minutes=5), timedelta(hours=6)
    now = down_from + timedelta(hours=2)
    sent: list[datetime] = []
    pending = list(due)
    for _ in range(2000):
        for scheduled_at in [s for s in pending if s <= now]:
            decision = catch_up_decision(scheduled_at, now, sent[-1] if sent else None, gap, lateness)
            if decision is CatchUp.SEND:
                sent.append(now)
                pending.remove(scheduled_at)
        now += timedelta(seconds=30)
    assert len(sent) == 12
    assert min(b - a for a, b in itertools.pairwise(sent)) >= gap
