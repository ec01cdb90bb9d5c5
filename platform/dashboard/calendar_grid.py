"""Week and month grids of posts in one time zone (pure date arithmetic, no queries)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from publishing.models import Post, PostStatus
from publishing.scheduling import local_to_utc, slot_instants, utc_to_local

VIEWS = ("week", "month")


@dataclass
class Entry:
    post: Post
    local: datetime
    campaign_date: date | None = None  # the post's day in its campaign's zone: a drag moves it by whole days

    @property
    def status(self) -> str:
        return self.post.status


@dataclass
class Slot:
    """An empty posting slot of a campaign: a place to create a post, or to drop one."""

    campaign: object
    at: datetime  # UTC
    local: datetime  # naive, in the calendar's zone


@dataclass
class Day:
    day: date
    in_range: bool
    is_today: bool
    entries: list[Entry] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)


@dataclass
class Calendar:
    view: str
    anchor: date
    tz_name: str
    first: date  # first day shown
    last: date  # last day shown (inclusive)
    days: list[Day] = field(default_factory=list)

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def title(self) -> str:
        if self.view == "month":
            return self.anchor.strftime("%B %Y")
        return f"Week of {self.first:%-d %b %Y}"

    @property
    def previous(self) -> date:
        if self.view == "month":
            return (self.anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
        return self.anchor - timedelta(weeks=1)

    @property
    def next(self) -> date:
        if self.view == "month":
            return (self.anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
        return self.anchor + timedelta(weeks=1)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        start = local_to_utc(datetime.combine(self.first, time()), self.tz_name)
        end = local_to_utc(datetime.combine(self.last + timedelta(days=1), time()), self.tz_name)
        return start, end


def frame(view: str, anchor: date, tz_name: str, today: date) -> Calendar:
    """The days a week (Monday first) or a month (whole weeks around it) view shows."""
    if view == "month":
        month_first = anchor.replace(day=1)
        month_last = (month_first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        first = month_first - timedelta(days=month_first.weekday())
        last = month_last + timedelta(days=6 - month_last.weekday())
        in_range = lambda d: d.month == anchor.month  # noqa: E731
    else:
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        in_range = lambda d: True  # noqa: E731
    calendar = Calendar(view=view, anchor=anchor, tz_name=tz_name, first=first, last=last)
    day = first
    while day <= last:
        calendar.days.append(Day(day=day, in_range=in_range(day), is_today=day == today))
        day += timedelta(days=1)
    return calendar


def place(calendar: Calendar, posts: Iterable[Post]) -> Calendar:
    """Put each post on the local day it went out (posted) or is due (otherwise)."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for post in posts:
        instant = post.posted_at if post.status == PostStatus.POSTED and post.posted_at else post.scheduled_at
        local = utc_to_local(instant, calendar.tz_name)
        # Naive local time: the template date filter would otherwise convert an aware one back to UTC.
        campaign_date = utc_to_local(post.scheduled_at, post.clip.campaign.timezone).date()
        by_day[local.date()].append(Entry(post=post, local=local.replace(tzinfo=None), campaign_date=campaign_date))
    for day in calendar.days:
        day.entries = sorted(by_day.get(day.day, []), key=lambda entry: entry.local)
    return calendar


def place_slots(calendar: Calendar, campaigns: Iterable, taken: set[tuple[int, datetime]], after: datetime) -> Calendar:
    """Put each campaign's weekly posting slots after `after` that no post of the campaign occupies on their day;
    `campaigns` carry `pk`, `timezone` and `slot_times` ((weekday, local time) pairs)."""
    start, end = calendar.utc_bounds()
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for campaign in campaigns:
        for instant in slot_instants(campaign.slot_times, campaign.timezone, max(start, after), end):
            if (campaign.pk, instant) not in taken:
                local = utc_to_local(instant, calendar.tz_name).replace(tzinfo=None)
                by_day[local.date()].append(Slot(campaign=campaign, at=instant, local=local))
    for day in calendar.days:
        day.slots = sorted(by_day.get(day.day, []), key=lambda slot: (slot.local, slot.campaign.pk))
    return calendar
