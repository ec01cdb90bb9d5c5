"""What renders cost in device seconds: estimates from measured renders, monthly usage against a workspace's quota,
and the forecast of when each queued clip will be ready (to flag one that will miss its post)."""

from __future__ import annotations

import heapq
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Workspace
from generation.models import Clip, ClipStatus

HISTORY = 50  # the most recent measured renders of a model and size an estimate is drawn from
FORECAST_LIMIT = 5000  # queued clips a forecast looks at: enough for any real backlog, bounded for the page
FORECAST_CACHE_KEY = "generation:render-forecast"
FORECAST_CACHE_SECONDS = 5


def _work(params: dict) -> float:
    """Frames times steps: a render's device time grows with both; None (the model's default) counts as 1, the same
    on both sides of an estimate, so a campaign on its model's defaults is compared with itself."""
    return float(params.get("frames") or 1) * float(params.get("steps") or 1)


def _same_shape(params: dict) -> dict:
    return {"model_key": params.get("model_key"), "width": params.get("width"), "height": params.get("height")}


class Estimator:
    """Device seconds a clip will take: the median measured seconds per frame-step of the latest renders of the same
    model and size, times this clip's frames and steps; RENDER_DEFAULT_ESTIMATE_SECONDS when none rendered yet.
    One instance per request: it remembers each model and size it looked up."""

    def __init__(self) -> None:
        self._per_work: dict[tuple, float | None] = {}

    def seconds(self, params: dict) -> float:
        shape = _same_shape(params)
        key = tuple(shape.values())
        if key not in self._per_work:
            measured = (
                Clip.objects.filter(status=ClipStatus.SUCCEEDED, gpu_seconds__gt=0, render_params__contains=shape)
                .order_by("-finished_at").values_list("gpu_seconds", "render_params")[:HISTORY]
            )
            rates = [seconds / _work(done) for seconds, done in measured]
            self._per_work[key] = statistics.median(rates) if rates else None
        rate = self._per_work[key]
        return settings.RENDER_DEFAULT_ESTIMATE_SECONDS if rate is None else rate * _work(params)

    def remaining(self, clip: Clip) -> float:
        """What is left of a queued or rendering clip (progress is a percentage of the whole render)."""
        return self.seconds(clip.render_params) * (100 - clip.progress) / 100


def month_start(now: datetime | None = None) -> datetime:
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Usage:
    """A workspace's render seconds this month: used (measured) and committed (estimated for queued and rendering
    clips, which will be used whatever happens next), against its quota (None: no limit)."""

    used: float
    committed: float
    quota: int | None

    @property
    def total(self) -> float:
        return self.used + self.committed

    @property
    def percent(self) -> float | None:
        if self.quota is None:
            return None
        return 100 * self.total / self.quota if self.quota else 100.0

    @property
    def near_quota(self) -> bool:
        return self.percent is not None and self.percent >= settings.RENDER_QUOTA_WARN_PERCENT

    def warning(self) -> str | None:
        if not self.near_quota:
            return None
        used, quota = seconds_text(self.total), seconds_text(self.quota)
        return (f"This workspace has used {self.percent:.0f}% of its monthly render quota ({used} of {quota}, counting "
                "queued renders): ask an admin to raise it before it runs out.")


def usage(workspace: Workspace, now: datetime | None = None, estimator: Estimator | None = None) -> Usage:
    estimator = estimator or Estimator()
    clips = Clip.objects.filter(campaign__workspace=workspace)
    used = clips.filter(finished_at__gte=month_start(now)).aggregate(s=Sum("gpu_seconds"))["s"] or 0.0
    active = clips.active().only("render_params", "progress")
    committed = sum(estimator.remaining(clip) for clip in active)
    return Usage(used=used, committed=committed, quota=workspace.monthly_render_quota_seconds)


def check_quota(workspace_id: int, params: dict, count: int) -> list[str]:
    """Refuse (ValidationError) a batch of `count` clips that would take the workspace over its monthly render quota;
    return the warning for a workspace near it. Call inside the transaction that creates the clips: the workspace row
    is locked so that two batches cannot both squeeze into the same remaining seconds."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
    if workspace.monthly_render_quota_seconds is None or count == 0:
        return []
    estimator = Estimator()
    each = estimator.seconds(params)
    current = usage(workspace, estimator=estimator)
    batch = each * count
    left = max(0.0, current.quota - current.total)
    if batch > left:
        text = seconds_text
        raise ValidationError(
            f"This batch needs about {text(batch)} of rendering ({count:,} clip{'s' if count != 1 else ''} at "
            f"~{text(each)} each), but only {text(left)} of this workspace's monthly render quota of "
            f"{text(current.quota)} are left ({text(current.used)} used, ~{text(current.committed)} queued): "
            "render fewer clips, fewer frames or steps, or ask an admin to raise the quota."
        )
    after = Usage(used=current.used, committed=current.committed + batch, quota=current.quota)
    warning = after.warning()
    return [warning] if warning else []


def seconds_text(value: float | None) -> str:
    """Render seconds for people: "45 s", "12 min", "3.5 h"."""
    value = float(value or 0)
    if value >= 3600:
        return f"{value / 3600:,.1f} h"
    if value >= 120:
        return f"{value / 60:,.1f}".removesuffix(".0") + " min"
    return f"{value:,.0f} s"


def monthly_totals(workspace: Workspace, months: int = 12) -> list[dict]:
    """Render seconds and clips per calendar month (UTC), oldest first, the last `months` months with any render."""
    rows = (
        # A retried clip is unfinished again but keeps the seconds of its cancelled attempt: no month to show it in.
        Clip.objects.filter(campaign__workspace=workspace, gpu_seconds__isnull=False, finished_at__isnull=False)
        .annotate(month=TruncMonth("finished_at", tzinfo=UTC)).values("month")
        .annotate(gpu_seconds=Sum("gpu_seconds"), clips=Count("pk")).order_by("-month")[:months]
    )
    return [{"month": row["month"].strftime("%Y-%m"), "gpu_seconds": round(row["gpu_seconds"], 3),
             "clips": row["clips"]} for row in reversed(rows)]


def campaign_totals(workspace: Workspace, now: datetime | None = None) -> list[dict]:
    """Per campaign: render seconds in all and in this month (UTC), most expensive first."""
    this_month = Q(clips__finished_at__gte=month_start(now))
    rows = (
        workspace.campaigns.annotate(
            gpu_seconds=Sum("clips__gpu_seconds"), month_gpu_seconds=Sum("clips__gpu_seconds", filter=this_month),
            rendered=Count("clips", filter=Q(clips__gpu_seconds__isnull=False)),
        ).values("pk", "name", "gpu_seconds", "month_gpu_seconds", "rendered").order_by("-gpu_seconds", "name")
    )
    return [{"campaign": row["pk"], "name": row["name"], "gpu_seconds": round(row["gpu_seconds"] or 0.0, 3),
             "month_gpu_seconds": round(row["month_gpu_seconds"] or 0.0, 3), "clips": row["rendered"]}
            for row in rows]


def campaign_usage(campaign_id: int, now: datetime | None = None) -> dict[str, float]:
    """One campaign's render seconds: in all, and this calendar month (UTC)."""
    totals = Clip.objects.filter(campaign_id=campaign_id).aggregate(
        total=Sum("gpu_seconds"), month=Sum("gpu_seconds", filter=Q(finished_at__gte=month_start(now))),
    )
    return {"gpu_seconds": round(totals["total"] or 0.0, 3), "month_gpu_seconds": round(totals["month"] or 0.0, 3)}


@dataclass(frozen=True)
class RenderForecast:
    ready_at: datetime
    post_due_at: datetime | None

    @property
    def late(self) -> bool:
        """The clip cannot be rendered before its earliest scheduled post is due."""
        return self.post_due_at is not None and self.ready_at > self.post_due_at


def forecast(now: datetime | None = None) -> dict[int, RenderForecast]:
    """When each queued or rendering clip will be ready: the render queue (in the order workers take it) played
    forward on RENDER_WORKER_SLOTS workers (or as many as are rendering now) with each clip's estimated seconds.
    The queue is shared by every workspace, so this looks at all of it; callers show only their own clips."""
    now = now or timezone.now()
    estimator = Estimator()
    rendering = list(Clip.objects.filter(status=ClipStatus.RENDERING).with_post_due_at()
                     .only("pk", "render_params", "progress"))
    queued = list(Clip.objects.in_render_order().only("pk", "render_params", "progress")[:FORECAST_LIMIT])
    free_at = [0.0] * max(settings.RENDER_WORKER_SLOTS, len(rendering))
    result: dict[int, RenderForecast] = {}
    for slot, clip in enumerate(rendering):
        free_at[slot] = estimator.remaining(clip)
        result[clip.pk] = RenderForecast(now + timedelta(seconds=free_at[slot]), clip.post_due_at)
    heapq.heapify(free_at)
    for clip in queued:
        done = heapq.heappop(free_at) + estimator.seconds(clip.render_params)
        heapq.heappush(free_at, done)
        result[clip.pk] = RenderForecast(now + timedelta(seconds=done), clip.post_due_at)
    return result


def shared_forecast() -> dict[int, RenderForecast]:
    """The forecast as every page and API answer reads it: played once every few seconds for all of them (galleries
    poll every two seconds, and a long queue takes a fifth of a second to play), so a clip queued moments ago may
    show no forecast for up to FORECAST_CACHE_SECONDS."""
    ahead = cache.get(FORECAST_CACHE_KEY)
    if ahead is None:
        ahead = forecast()
        cache.set(FORECAST_CACHE_KEY, ahead, FORECAST_CACHE_SECONDS)
    return ahead


def attach_forecasts(clips: list[Clip]) -> list[Clip]:
    """Set `render_forecast` (a RenderForecast, or None once rendered) on each clip, with one forecast for all."""
    active = any(clip.status in (ClipStatus.QUEUED, ClipStatus.RENDERING) for clip in clips)
    ahead = shared_forecast() if active else {}
    for clip in clips:
        clip.render_forecast = ahead.get(clip.pk)
    return clips
