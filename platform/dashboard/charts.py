"""Tiny server-side SVG charts: geometry here, markup in templates/dashboard/charts/ (autoescaped labels).

No JavaScript chart library: the page must work offline and under a CSP without inline scripts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.template.defaultfilters import pluralize

PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 28, 12, 44
MAX_BAR_WIDTH = 80


TICKS = 5  # intervals on the value axis: with a maximum of at least 5, counts get whole-number ticks


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 times a power of ten; at least 5)."""
    if value <= TICKS:
        return float(TICKS)
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def short_number(value: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    label_x: float
    show_label: bool


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    x: float
    y: float
    show_label: bool


@dataclass
class Chart:
    title: str
    width: int
    height: int
    ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    kind: str = "bar"

    @property
    def empty(self) -> bool:
        return not self.bars and not self.points

    @property
    def plot_bottom(self) -> float:
        return self.height - PAD_BOTTOM

    @property
    def plot_left(self) -> int:
        return PAD_LEFT

    @property
    def plot_right(self) -> int:
        return self.width - PAD_RIGHT

    @property
    def center_x(self) -> int:
        return self.width // 2

    @property
    def center_y(self) -> int:
        return self.height // 2

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def summary(self) -> str:
        items = self.bars or self.points
        if not items:
            return f"{self.title}: no data yet."
        top = max(items, key=lambda item: item.value)
        count = len(items)
        return f"{self.title}: {count} value{pluralize(count)}, highest {short_number(top.value)} ({top.label})."


def _scale(title: str, values: Sequence[float], width: int, height: int, kind: str) -> tuple[Chart, float, float]:
    chart = Chart(title=title, width=width, height=height, kind=kind)
    top = nice_max(max(values, default=0))
    plot_height = height - PAD_TOP - PAD_BOTTOM
    chart.ticks = [
        Tick(y=PAD_TOP + plot_height * (1 - i / TICKS), label=short_number(top * i / TICKS)) for i in range(TICKS + 1)
    ]
    return chart, top, plot_height


def _label_every(count: int, plot_width: float, min_spacing: float = 56) -> int:
    return max(1, math.ceil(count / max(1, plot_width // min_spacing)))


def bar_chart(title: str, data: Sequence[tuple[str, float]], width: int = 560, height: int = 220) -> Chart:
    chart, top, plot_height = _scale(title, [v for _, v in data], width, height, "bar")
    if not data:
        return chart
    plot_width = width - PAD_LEFT - PAD_RIGHT
    slot = plot_width / len(data)
    bar_width = max(2.0, min(slot * 0.7, MAX_BAR_WIDTH))
    every = _label_every(len(data), plot_width)
    for i, (label, value) in enumerate(data):
        bar_height = plot_height * (value / top)
        x = PAD_LEFT + slot * i + (slot - bar_width) / 2
        chart.bars.append(
            Bar(
                label=label, value=value, x=x, y=PAD_TOP + plot_height - bar_height, width=bar_width,
                height=bar_height, label_x=x + bar_width / 2, show_label=i % every == 0,
            )
        )
    return chart


def line_chart(title: str, data: Sequence[tuple[str, float]], width: int = 560, height: int = 220) -> Chart:
    chart, top, plot_height = _scale(title, [v for _, v in data], width, height, "line")
    if not data:
        return chart
    plot_width = width - PAD_LEFT - PAD_RIGHT
    step = plot_width / max(1, len(data) - 1)
    every = _label_every(len(data), plot_width)
    for i, (label, value) in enumerate(data):
        x = PAD_LEFT + (step * i if len(data) > 1 else plot_width / 2)
        chart.points.append(
            Point(label=label, value=value, x=x, y=PAD_TOP + plot_height * (1 - value / top), show_label=i % every == 0)
        )
    return chart
