"""A customer's monthly usage against its limit as the geometry of an SVG chart.

Server-rendered: the template draws the rectangles this module measures; no chart library.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping
from dataclasses import dataclass

from usage.selectors import MonthUsage


@dataclass(frozen=True)
class Layout:
    """The size of one drawing of the chart: a wide one for desks, a narrow one for phones.

    The narrow one is drawn at about the width it is shown, so its text stays readable
    instead of being the wide chart shrunk to a third of its size.
    """

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    label_every: int  # label every n-th month under the bars (always the newest)
    limit_label_outside: bool  # the limit's label in the right margin, or above the line


WIDE = Layout(960, 320, 60, 80, 30, 40, 1, True)
NARROW = Layout(360, 260, 44, 10, 30, 40, 3, False)


@dataclass(frozen=True)
class Bar:
    month: MonthUsage
    x: float
    width: float
    y: float  # top of the whole bar
    height: float
    over_height: float  # the part above the limit, drawn in the warning colour
    label_x: float
    short_label: str  # "" when this bar goes unlabelled (narrow chart)
    sub_label: str  # "so far" under the current month, "no data" under an empty one
    # The month in progress: a dashed outline from the bar's top up to the projection by month
    # end (its part above the limit drawn as overage); 0 when there is none.
    projected_y: float = 0
    projected_height: float = 0
    projected_over_height: float = 0
    flag: str = ""  # why the month looks suspicious (usage.anomalies), "" when it does not
    marker_y: float = 0  # where the flag's marker sits: above the bar and its projection


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class UsageChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    bars: list[Bar]
    ticks: list[Tick]
    limit_y: float
    limit: int
    months: list[MonthUsage]
    plot_top: int
    limit_label_x: float
    limit_label_y: float
    limit_label_anchor: str
    projected: int | None = None  # the month in progress by month end, at the run rate
    flagged: int = 0  # how many months are flagged as suspicious


def _nice_step(raw: float) -> float:
    exponent = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * exponent:
            return factor * exponent
    return 10 * exponent  # pragma: no cover


def _compact(value: float) -> str:
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if value >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:g}"


def usage_chart(
    months: list[MonthUsage],
    layout: Layout = WIDE,
    *,
    projected: int | None = None,
    flags: Mapping[tuple[int, int], str] | None = None,
) -> UsageChart:
    """The chart of `months` (oldest first). `projected`: the month in progress's calls by
    month end (usage.levels.RunRate), drawn when above its usage so far; `flags`: {(year,
    month): reason} of the suspicious months, each marked above its bar."""
    flags = flags or {}
    width, height = layout.width, layout.height
    left, right, top, bottom_margin = layout.left, layout.right, layout.top, layout.bottom
    limit = months[0].limit if months else 0
    peak = max([limit, projected or 0, *[m.api_usage or 0 for m in months]]) or 1
    step = _nice_step(peak / 4)
    top_value = step * math.ceil(peak * 1.05 / step)
    plot_w = width - left - right
    plot_h = height - top - bottom_margin
    bottom = top + plot_h

    def y_of(value: float) -> float:
        return round(bottom - plot_h * value / top_value, 1)

    slot = plot_w / max(1, len(months))
    newest = len(months) - 1
    bars = []
    for i, month in enumerate(months):
        used = month.api_usage or 0
        x = left + i * slot + slot * 0.18
        bar_top = y_of(used)
        over_top = y_of(min(used, limit)) if used > limit else bar_top
        labelled = (newest - i) % layout.label_every == 0
        first_labelled = i == newest % layout.label_every
        if month.in_progress:
            sub_label = "so far"
        elif month.api_usage is None and layout.label_every == 1:
            sub_label = "no data"
        else:
            sub_label = ""
        projection = {}
        if month.in_progress and projected is not None and projected > used:
            projected_top = y_of(projected)
            over_bottom = y_of(max(limit, used)) if projected > limit else projected_top
            projection = {
                "projected_y": projected_top,
                "projected_height": round(bar_top - projected_top, 1),
                "projected_over_height": round(over_bottom - projected_top, 1),
            }
        highest = projection.get("projected_y", bar_top)
        bars.append(
            Bar(
                month=month,
                x=round(x, 1),
                width=round(slot * 0.64, 1),
                y=bar_top,
                height=round(bottom - bar_top, 1),
                over_height=round(over_top - bar_top, 1),
                label_x=round(left + i * slot + slot / 2, 1),
                short_label=(
                    calendar.month_abbr[month.month]
                    + (f" {month.year % 100:02d}" if month.month == 1 or first_labelled else "")
                    if labelled
                    else ""
                ),
                sub_label=sub_label if labelled or month.in_progress else "",
                flag=flags.get((month.year, month.month), ""),
                marker_y=round(highest - 8, 1),
                **projection,
            )
        )
    ticks = [
        Tick(y=y_of(step * k), label=_compact(step * k))
        for k in range(int(round(top_value / step)) + 1)
    ]
    limit_y = y_of(limit)
    if layout.limit_label_outside:
        label_x, label_y, anchor = width - right + 6, limit_y + 4, "start"
    else:
        # Above the line at the left edge of the plot, where the oldest (usually lower) bars are.
        label_x, label_y, anchor = left + 4, limit_y - 6, "start"
    return UsageChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=width - right,
        plot_bottom=bottom,
        bars=bars,
        ticks=ticks,
        limit_y=limit_y,
        limit=limit,
        months=months,
        plot_top=top,
        limit_label_x=label_x,
        limit_label_y=label_y,
        limit_label_anchor=anchor,
        projected=projected,
        flagged=sum(1 for bar in bars if bar.flag),
    )
