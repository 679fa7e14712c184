"""Geometry of an allocation's chart (pure, drawn as SVG by the template): recorded total
assets over time against its warning and liquidation lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str  # the polyline of total assets
    dots: list[tuple[float, float, dt.date, int]]
    warning_y: float
    liquidation_y: float
    low: int
    high: int


def assets_chart(statuses: list[tuple[dt.date, int]], *, warning_line: int, liquidation_line: int,
                 width: int = 720, height: int = 240) -> LineChart:
    left, right, top, bottom = 10, 10, 10, 10
    values = [v for _, v in statuses] + [warning_line, liquidation_line]
    low, high = min(values), max(values)
    pad = max((high - low) // 10, 1)
    low, high = max(low - pad, 0), high + pad
    span_y = high - low or 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(value: int) -> float:
        return round(top + plot_h * (high - value) / span_y, 2)

    count = max(len(statuses) - 1, 1)
    dots = [(round(left + plot_w * i / count, 2), y(v), day, v) for i, (day, v) in enumerate(statuses)]
    return LineChart(width, height, " ".join(f"{x},{yy}" for x, yy, _, _ in dots), dots, y(warning_line),
                     y(liquidation_line), low, high)
