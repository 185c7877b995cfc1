"""Charts drawn on the server as SVG (no chart library to vendor or keep: the console's charts
are bars, lines and a gauge, which a template draws from the shapes computed here)."""

import math
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH, HEIGHT = 360, 150  # the viewBox, about the size a card shows it at (labels stay legible)
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 40, 18, 8


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if value <= step * magnitude * 1.0000001)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass
class BarChart:
    bars: list[Bar]
    top: str  # the axis's top value, as shown
    labels: list[tuple[float, str]] = field(default_factory=list)  # a few x labels
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    left: int = PAD_LEFT


def bar_chart(points: list[tuple[str, float]], unit: str = "") -> BarChart:
    """Vertical bars, one per (label, value), in order."""
    top = _nice_max(max((v for _, v in points), default=0))
    span_w = WIDTH - PAD_LEFT - 4
    span_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = span_w / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = span_h * value / top
        bars.append(
            Bar(
                x=round(PAD_LEFT + i * step + step * 0.1, 2),
                y=round(HEIGHT - PAD_BOTTOM - h, 2),
                width=round(step * 0.8, 2),
                height=round(h, 2),
                label=label,
                value=f"{_fmt(value)}{unit}",
            )
        )
    every = max(1, len(points) // 4)
    labels = [(b.x + b.width / 2, b.label) for i, b in enumerate(bars) if i % every == 0]
    return BarChart(bars=bars, top=f"{_fmt(top)}{unit}", labels=labels)


@dataclass
class Series:
    name: str
    points: str  # the polyline's "x,y x,y ..."
    css: str


@dataclass
class LineChart:
    series: list[Series]
    top: str
    count: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    left: int = PAD_LEFT


def line_chart(named: dict[str, list[float]]) -> LineChart:
    """One line per name over the same x steps (epochs)."""
    values = [v for vs in named.values() for v in vs]
    top = _nice_max(max(values, default=0))
    count = max((len(vs) for vs in named.values()), default=0)
    span_w = WIDTH - PAD_LEFT - 4
    span_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = span_w / max(count - 1, 1)
    series = []
    for i, (name, vs) in enumerate(named.items()):
        pts = " ".join(
            f"{PAD_LEFT + j * step:.1f},{HEIGHT - PAD_BOTTOM - span_h * v / top:.1f}"
            for j, v in enumerate(vs)
        )
        series.append(Series(name=name, points=pts, css=f"s{i % 4}"))
    return LineChart(series=series, top=_fmt(top), count=count)


@dataclass
class Gauge:
    percent: float  # 0-100, capped
    label: str
    over: bool
    dash: str  # stroke-dasharray of the arc


def gauge(spent: Decimal, cap: Decimal | None) -> Gauge | None:
    """Month-to-date spend against the cap, as a half circle; None without a cap."""
    if cap is None or cap <= 0:
        return None
    percent = float(min(spent / cap * 100, Decimal(100)))
    arc = 3.14159 * 80  # half of a circle of radius 80
    return Gauge(
        percent=round(percent, 1),
        label=f"{percent:.0f} %",
        over=spent >= cap,
        dash=f"{arc * percent / 100:.1f} {arc:.1f}",
    )


@dataclass
class HBar:
    label: str
    value: str
    percent: float  # of the largest magnitude
    negative: bool


def horizontal_bars(items: list[tuple[str, float]], signed: bool = True) -> list[HBar]:
    """Bars, largest magnitude first: signed values (importances, contributions) with their
    sign, or counts (`signed=False`)."""
    largest = max((abs(v) for _, v in items), default=0) or 1.0
    return [
        HBar(
            label=k,
            value=f"{v:+.4g}" if signed else _fmt(v),
            percent=round(100 * abs(v) / largest, 1),
            negative=v < 0,
        )
        for k, v in sorted(items, key=lambda kv: -abs(kv[1]))
    ]


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"
