"""Best time to post, from the workspace's own posted history: engagement rate by weekday and hour (in a chosen
time zone), per account.

The rate of a cell is smoothed toward the account's overall rate, as if each cell had already seen
`PRIOR_IMPRESSIONS` impressions at the overall rate: (engagements + k * overall) / (impressions + k). An hour with
one lucky post does not outrank an hour with twenty good ones, and an empty hour reads as the overall rate, not
zero. Ranking uses the smoothed rate; the map shows both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from publishing.metrics import engagements_of
from publishing.models import Post, PostStatus, XAccount
from publishing.scheduling import utc_to_local

PRIOR_IMPRESSIONS = 500
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Cell:
    weekday: int
    hour: int
    posts: int = 0
    impressions: int = 0
    engagements: int = 0
    smoothed: float = 0.0

    @property
    def rate(self) -> float | None:
        return self.engagements / self.impressions if self.impressions else None

    @property
    def label(self) -> str:
        return f"{DAYS[self.weekday]} {self.hour:02d}:00"


@dataclass
class HeatMap:
    account: XAccount
    tz_name: str
    cells: list[list[Cell]] = field(default_factory=list)  # [weekday][hour]
    overall: float = 0.0
    posts: int = 0

    def best(self, count: int = 3) -> list[Cell]:
        """The hours with the best smoothed rate among those the account has posted in."""
        tried = [cell for row in self.cells for cell in row if cell.posts]
        return sorted(tried, key=lambda c: (-c.smoothed, -c.impressions, c.weekday, c.hour))[:count]

    @property
    def top(self) -> float:
        return max((cell.smoothed for row in self.cells for cell in row if cell.posts), default=0.0)


def heat_map(account: XAccount, tz_name: str) -> HeatMap:
    grid = [[Cell(day, hour) for hour in range(24)] for day in range(7)]
    posted = Post.objects.filter(x_account=account, status=PostStatus.POSTED, posted_at__isnull=False).exclude(
        metrics={}).values_list("posted_at", "metrics")
    total_impressions = total_engagements = count = 0
    for posted_at, metrics in posted:
        impressions = int(metrics.get("impression_count", 0) or 0)
        engaged = min(engagements_of(metrics), impressions)
        local = utc_to_local(posted_at, tz_name)
        cell = grid[local.weekday()][local.hour]
        cell.posts += 1
        cell.impressions += impressions
        cell.engagements += engaged
        total_impressions += impressions
        total_engagements += engaged
        count += 1
    overall = total_engagements / total_impressions if total_impressions else 0.0
    for row in grid:
        for cell in row:
            cell.smoothed = (cell.engagements + PRIOR_IMPRESSIONS * overall) / (cell.impressions + PRIOR_IMPRESSIONS)
    return HeatMap(account=account, tz_name=tz_name, cells=grid, overall=overall, posts=count)
