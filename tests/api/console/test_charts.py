"""The console's server-side SVG: well-formed XML, bars proportional to their values, every
label escaped, nothing the Content-Security-Policy would refuse (no script, no style)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from api.console import charts
from api.console.charts import Group, Layout, Series, bar_chart

NS = {"svg": charts.SVG_NS}
SERIES = [Series("Udstedt", "granted"), Series("Brugt", "used")]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def bars(root: ET.Element, css: str | None = None) -> list[ET.Element]:
    found = [r for r in root.iter(f"{{{charts.SVG_NS}}}rect") if r.get("data-value") is not None]
    return [r for r in found if css is None or f"chart-bar-{css}" in r.get("class", "")]


def test_bars_are_proportional_to_their_values_from_a_zero_baseline() -> None:
    layout = Layout()
    root = parse(bar_chart("usage", "Kort", "Udstedte og brugte", SERIES, [
        Group("2023", (40, 10)), Group("2024", (25, 0)), Group("2025", (7, 3))]))
    heights = {(r.get("data-value")): float(r.get("height", "nan")) for r in bars(root)}
    assert len(bars(root)) == 6
    top, _ = charts.scale_top(40)
    assert top == 40
    for value in (40, 10, 25, 0, 7, 3):
        assert heights[str(value)] == pytest.approx(layout.plot_height * value / top, abs=0.01)
    # Every bar stands on the same baseline.
    baseline = layout.top + layout.plot_height
    for rect in bars(root):
        assert float(rect.get("y", "0")) + float(rect.get("height", "0")) == pytest.approx(
            baseline, abs=0.02)
    # Granted and used of one year stand side by side, in series order.
    granted, used = bars(root, "granted"), bars(root, "used")
    assert [r.get("data-value") for r in granted] == ["40", "25", "7"]
    assert [r.get("data-value") for r in used] == ["10", "0", "3"]
    for g, u in zip(granted, used, strict=True):
        assert float(u.get("x", "0")) == pytest.approx(
            float(g.get("x", "0")) + float(g.get("width", "0")), abs=0.02)


def test_the_chart_names_itself_for_screen_readers() -> None:
    root = parse(bar_chart("usage", "Udstedte og brugte frikort", "Tre år", SERIES,
                           [Group("2025", (3, 2), "67 % brugt")]))
    assert root.tag == f"{{{charts.SVG_NS}}}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "usage-title usage-desc"
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None and title.get("id") == "usage-title"
    assert title.text == "Udstedte og brugte frikort"
    assert desc is not None and desc.text == "Tre år"
    texts = ["".join(t.itertext()) for t in root.iter(f"{{{charts.SVG_NS}}}text")]
    assert "67 % brugt" in texts and "2025" in texts and "Udstedt" in texts
    tips = ["".join(t.itertext()) for r in bars(root) for t in r.findall("svg:title", NS)]
    assert tips == ["2025, Udstedt: 3", "2025, Brugt: 2"]


def test_labels_are_escaped_and_cannot_break_out() -> None:
    evil = '</text><script>alert("x")</script><text a=\'1\'>&amp;'
    markup = bar_chart('id"><script>', evil, evil, [Series(evil, 'x" onload="alert(1)')],
                       [Group(evil, (5,), note=evil), Group("ok\x00\x1b", (1,))])
    root = parse(markup)  # raises if the markup is not well-formed XML
    assert not list(root.iter(f"{{{charts.SVG_NS}}}script"))
    assert "<script" not in markup and "onload=\"" not in markup
    for element in root.iter():
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
    title = root.find("svg:title", NS)
    assert title is not None and title.text == evil
    texts = ["".join(t.itertext()) for t in root.iter(f"{{{charts.SVG_NS}}}text")]
    assert evil in texts and "ok" in texts
    assert root.get("aria-labelledby") == "idscript-title idscript-desc"


def test_empty_and_zero_charts_still_draw_an_axis() -> None:
    root = parse(bar_chart("days", "Samtaler", "Ingen", [Series("Samtaler", "c")],
                           [Group(f"{d:02d}.06", (0,)) for d in range(1, 31)], label_every=7))
    assert [r.get("height") for r in bars(root)] == ["0"] * 30
    labels = [t.text for t in root.iter(f"{{{charts.SVG_NS}}}text")
              if t.get("class") == "chart-label"]
    assert labels == ["02.06", "09.06", "16.06", "23.06", "30.06"]
    assert parse(bar_chart("none", "Tom", "Tom", SERIES, [])).get("role") == "img"


def test_a_group_must_have_one_value_per_series() -> None:
    with pytest.raises(ValueError):
        bar_chart("bad", "x", "y", SERIES, [Group("2025", (1,))])


@pytest.mark.parametrize(("largest", "top", "step"), [
    (0, 1, 1), (1, 1, 1), (3, 3, 1), (4, 4, 1), (5, 6, 2), (7, 8, 2), (9, 10, 5),
    (41, 60, 20), (100, 100, 50), (1234, 1500, 500)])
def test_the_axis_top_is_a_round_number_above_the_largest_value(
        largest: int, top: int, step: int) -> None:
    assert charts.scale_top(largest) == (top, step)
    assert top >= largest and top // step <= 4


def test_numbers_and_shares_are_written_the_danish_way() -> None:
    assert charts.number(1234567) == "1.234.567"
    assert charts.percent(2, 3) == 67
    assert charts.percent(0, 0) is None
