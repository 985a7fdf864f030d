"""Server-side SVG charts for the console: pure functions from numbers to markup.

Why server-side: the Content-Security-Policy allows no inline script or style, and a busy
caseworker should see the figures at once, without a JavaScript charting library. The SVG
uses only element attributes and CSS classes (`chart-*` in console.css), never `style=`.
Every piece of text is escaped (markupsafe) before it enters the markup, so a label can
never break out of the SVG; the result is well-formed XML. Words come from the caller.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal
from markupsafe import Markup, escape

SVG_NS = "http://www.w3.org/2000/svg"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold at all, escaped or not (NUL, most control characters)."""


@dataclass(frozen=True)
class Series:
    """One kind of bar: `label` for the legend, `css` names its class (chart-bar-<css>)."""

    label: str
    css: str


@dataclass(frozen=True)
class Group:
    """One position on the x axis: a value per series, and an optional note above it."""

    label: str
    values: tuple[int, ...]
    note: str = ""


@dataclass(frozen=True)
class Layout:
    width: int = 640
    height: int = 280
    left: int = 48
    right: int = 12
    top: int = 48
    bottom: int = 30

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom


def number(value: int) -> str:
    """A count the Danish way: "1.234"."""
    return str(format_decimal(value, format="#,##0", locale="da_DK"))


def percent(part: int, whole: int) -> int | None:
    """`part` of `whole` in whole per cent, or None when there is no whole to share."""
    return round(100 * part / whole) if whole > 0 else None


def scale_top(largest: int) -> tuple[int, int]:
    """(top of the axis, step between its ticks): a round step of 1, 2 or 5 times a power of
    ten, at most five ticks, so the axis reads at a glance and bars stay proportional."""
    largest = max(largest, 1)
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            if -(-largest // step) <= 4:
                return -(-largest // step) * step, step
        magnitude *= 10


def _text(value: object) -> Markup:
    """Escaped text, with characters XML cannot carry removed."""
    return escape(_NOT_XML.sub("", str(value)))


def _fmt(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart(
    chart_id: str, title: str, description: str, series: Sequence[Series],
    groups: Sequence[Group], *, label_every: int = 1, layout: Layout = Layout(),
) -> Markup:
    """Grouped bars: per group one bar per series side by side, all on one y axis from 0.

    `chart_id` must be unique on the page (it names the <title> and <desc> for screen
    readers). Labels are shown on every `label_every`-th group, counted back from the last.
    """
    if any(len(g.values) != len(series) for g in groups):
        raise ValueError("every group needs one value per series")
    cid = _text(re.sub(r"[^A-Za-z0-9_-]", "", chart_id) or "chart")
    top, step = scale_top(max((v for g in groups for v in g.values), default=0))
    parts = [Markup(
        '<svg xmlns="{ns}" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="img" aria-labelledby="{cid}-title {cid}-desc">'
        '<title id="{cid}-title">{title}</title><desc id="{cid}-desc">{desc}</desc>'
    ).format(ns=SVG_NS, w=layout.width, h=layout.height, cid=cid, title=_text(title),
             desc=_text(description))]
    parts += _legend(series, layout)
    parts += _axis(top, step, layout)
    parts += _bars(series, groups, top, label_every, layout)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _legend(series: Sequence[Series], layout: Layout) -> list[Markup]:
    out, x = [], float(layout.left)
    for item in series:
        out.append(Markup(
            '<g class="chart-legend"><rect class="chart-bar chart-bar-{css}" x="{x}" y="8" '
            'width="12" height="12"/><text x="{tx}" y="18">{label}</text></g>'
        ).format(css=_text(item.css), x=_fmt(x), tx=_fmt(x + 18), label=_text(item.label)))
        x += 18 + 8 * len(item.label) + 24
    return out


def _axis(top: int, step: int, layout: Layout) -> list[Markup]:
    out = []
    for tick in range(0, top + 1, step):
        y = layout.top + layout.plot_height * (1 - tick / top)
        out.append(Markup(
            '<line class="chart-grid" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
            '<text class="chart-tick" x="{tx}" y="{ty}" text-anchor="end">{label}</text>'
        ).format(x1=layout.left, x2=_fmt(layout.width - layout.right), y=_fmt(y),
                 tx=layout.left - 6, ty=_fmt(y + 4), label=number(tick)))
    return out


def _bars(series: Sequence[Series], groups: Sequence[Group], top: int, label_every: int,
          layout: Layout) -> list[Markup]:
    out: list[Markup] = []
    if not groups:
        return out
    slot = layout.plot_width / len(groups)
    gap = slot * 0.2
    bar = (slot - gap) / len(series)
    baseline = layout.top + layout.plot_height
    for index, group in enumerate(groups):
        x0 = layout.left + index * slot + gap / 2
        for n, (item, value) in enumerate(zip(series, group.values, strict=True)):
            height = layout.plot_height * value / top
            out.append(Markup(
                '<rect class="chart-bar chart-bar-{css}" x="{x}" y="{y}" width="{w}" '
                'height="{h}" data-value="{v}"><title>{tip}</title></rect>'
            ).format(css=_text(item.css), x=_fmt(x0 + n * bar), y=_fmt(baseline - height),
                     w=_fmt(bar), h=_fmt(height), v=value,
                     tip=_text(f"{group.label}, {item.label}: {number(value)}")))
        centre = _fmt(x0 + (slot - gap) / 2)
        if group.note:
            tallest = layout.plot_height * max(group.values) / top
            out.append(Markup(
                '<text class="chart-note" x="{x}" y="{y}" text-anchor="middle">{note}</text>'
            ).format(x=centre, y=_fmt(baseline - tallest - 6), note=_text(group.note)))
        if (len(groups) - 1 - index) % label_every == 0:
            out.append(Markup(
                '<text class="chart-label" x="{x}" y="{y}" text-anchor="middle">{label}</text>'
            ).format(x=centre, y=_fmt(baseline + 18), label=_text(group.label)))
    return out
