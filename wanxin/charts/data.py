"""What a chart shows, as plain data for ``json_script``: categories and series of integer fen.
Apache ECharts (static/vendor/echarts, drawn by static/charts/charts.js) does the geometry,
the round axis, the tooltips, the legend and the resizing; every page keeps a table too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    name: str  # as the page's language names it (translate before)
    values: list[int]  # fen, one per category
    color: str = ""
    stack: str = ""  # series with the same stack are drawn on top of each other
    kind: str = "bar"  # or "line": a level over the categories (a balance) beside bars of flows


def bar_chart(categories: list[str], series: list[Series]) -> dict:
    """A bar chart of money per category (months, periods); a series may be drawn as a line."""
    for s in series:
        if s.kind not in ("bar", "line"):
            raise ValueError(f"series {s.name!r} has unknown kind {s.kind!r}")
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")
    return {
        "kind": "bar",
        "unit": "fen",
        "categories": [str(c) for c in categories],
        "series": [{"name": str(s.name), "data": [int(v) for v in s.values], "color": s.color, "stack": s.stack,
                    "type": s.kind}
                   for s in series],
    }
