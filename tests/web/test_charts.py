"""The server-side SVG charts: well-formed, accessible, marks proportional to the
numbers, and nothing breaks on empty or hostile input."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from django.utils import translation

from web.charts import PALETTE, _text_width, bar_chart, format_number, line_chart


@pytest.fixture(autouse=True)
def _english():
    # The assertions read English labels; the site's default language is zh-hans.
    with translation.override("en"):
        yield


NS = {"svg": "http://www.w3.org/2000/svg"}
DAYS = [date(2025, 3, 1) + timedelta(days=i) for i in range(10)]


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iterfind(".//svg:text", NS)]


def labelled_by(root: ET.Element) -> tuple[str, str]:
    """The text of the chart's <title> and <desc>, found through aria-labelledby."""
    ids = root.get("aria-labelledby").split()
    by_id = {el.get("id"): "".join(el.itertext()) for el in root.iter() if el.get("id")}
    return by_id[ids[0]], by_id[ids[1]]


def relative_luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


# -- bar chart ------------------------------------------------------------------


def test_bar_chart_when_rendered_is_accessible_svg_with_legend_and_labels():
    root = parse(
        bar_chart(
            [("Acme Lending", 120), ("Globex Credit", 30)],
            title="Records per member",
            unit="%",
            legend="Reject rate",
        )
    )
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img" and root.get("viewBox").startswith("0 0 480 ")
    assert root.get("width") == "100%"
    title, desc = labelled_by(root)
    assert title == "Records per member"
    assert "Acme Lending: 120%" in desc and "Globex Credit: 30%" in desc
    shown = texts(root)
    assert {"Acme Lending", "Globex Credit", "120%", "30%", "Reject rate"} <= set(shown)
    assert root.find(".//svg:g[@class='legend']", NS) is not None


def test_bar_chart_when_values_differ_draws_bars_proportional_to_values():
    root = parse(bar_chart([("a", 40), ("b", 10), ("c", 0), ("d", 25.5)], title="t"))
    widths = [
        float(r.get("width")) for r in root.iterfind(".//svg:rect[@class='bar']", NS)
    ]
    assert len(widths) == 4
    assert widths[1] / widths[0] == pytest.approx(10 / 40, abs=1e-3)
    assert widths[3] / widths[0] == pytest.approx(25.5 / 40, abs=1e-3)
    assert widths[2] == 0
    # the largest bar ends inside the viewBox
    largest = root.find(".//svg:rect[@class='bar']", NS)
    assert float(largest.get("x")) + widths[0] <= 480


def test_bar_chart_when_series_empty_says_no_data_and_draws_no_bars():
    root = parse(bar_chart([], title="Nothing", unit="%"))
    assert root.get("role") == "img"
    assert root.find(".//svg:rect[@class='bar']", NS) is None
    assert any("No data" in t for t in texts(root))
    assert labelled_by(root)[0] == "Nothing"


def test_bar_chart_when_all_values_zero_draws_empty_bars_without_dividing_by_zero():
    root = parse(bar_chart([("a", 0), ("b", 0)], title="t"))
    widths = [r.get("width") for r in root.iterfind(".//svg:rect[@class='bar']", NS)]
    assert widths == ["0", "0"]


def label_lines(root: ET.Element) -> list[list[str]]:
    """Each bar's label, line by line (a wrapped label is one tspan a line)."""
    labels = []
    for text in root.iterfind(".//svg:text[@class='label']", NS):
        spans = text.findall("svg:tspan", NS)
        labels.append(["".join(s.itertext()) for s in spans] or [text.text or ""])
    return labels


def test_bar_chart_when_labels_hostile_or_long_escapes_and_wraps_them_whole():
    long_name = "某某消费金融股份有限公司第一分公司某某消费金融股份有限公司"
    long_latin = "Umbrella Microloans and Consumer Finance Company Limited"
    svg = bar_chart(
        [('<script>alert("x")</script> & Co', 5), (long_name, 3), (long_latin, 1)],
        title="<b>t</b>",
    )
    assert "<script>" not in str(svg) and "<b>" not in str(svg)
    root = parse(svg)
    assert not [t for t in texts(root) if "…" in t]  # nothing cut off
    hostile, chinese, latin = label_lines(root)
    assert "".join(hostile).replace(" ", "") == '<script>alert("x")</script>&Co'
    assert "".join(chinese) == long_name and len(chinese) >= 2
    assert " ".join(latin) == long_latin and len(latin) >= 2  # broken at spaces
    # each line fits the label column, left of the bars
    plot_x = float(root.find(".//svg:rect[@class='bar']", NS).get("x"))
    assert all(_text_width(line) <= plot_x for line in chinese + latin)
    # rows grow with their labels: the bars do not overlap
    tops = [float(r.get("y")) for r in root.iterfind(".//svg:rect[@class='bar']", NS)]
    assert tops[2] - tops[1] >= 3 * 14 and tops[1] - tops[0] >= 28
    assert float(root.get("viewBox").split()[3]) > tops[2] + 18
    # the full names stay available as the bars' tooltips
    tooltips = ["".join(t.itertext()) for t in root.iterfind(".//svg:g/svg:title", NS)]
    assert tooltips == [
        '<script>alert("x")</script> & Co: 5',
        f"{long_name}: 3",
        f"{long_latin}: 1",
    ]


def test_bar_chart_when_values_negative_or_missing_counts_them_as_zero():
    root = parse(bar_chart([("a", -5), ("b", None), ("c", 2)], title="t"))
    values = [
        r.get("data-value") for r in root.iterfind(".//svg:rect[@class='bar']", NS)
    ]
    assert values == ["0", "0", "2"]


# -- line chart -----------------------------------------------------------------


def test_line_chart_when_rendered_has_one_line_per_series_and_a_legend():
    queries = [float(i) for i in range(10)]
    hits = [i / 2 for i in range(10)]
    root = parse(line_chart(DAYS, {"Queries": queries, "Hits": hits}, title="Per day"))
    assert root.get("role") == "img"
    title, desc = labelled_by(root)
    assert title == "Per day"
    assert "2025-03-01" in desc and "2025-03-10" in desc and "Queries: total 45" in desc
    lines = root.findall(".//svg:polyline", NS)
    assert len(lines) == 2
    assert all(len(line.get("points").split()) == 10 for line in lines)
    legend = root.find(".//svg:g[@class='legend']", NS)
    assert {"Queries", "Hits"} <= {"".join(t.itertext()) for t in legend.iter()}
    # the second series is dashed: told apart without colour
    assert lines[1].get("stroke-dasharray") and not lines[0].get("stroke-dasharray")
    assert "03-01" in texts(root) and "03-10" in texts(root)


def test_line_chart_when_values_differ_places_points_proportionally():
    root = parse(line_chart(DAYS[:3], {"s": [0, 5, 10]}, title="t"))
    (line,) = root.findall(".//svg:polyline", NS)
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    (x0, y0), (x1, y1), (x2, y2) = points
    assert x0 < x1 < x2 and x1 - x0 == pytest.approx(x2 - x1)
    assert y0 > y1 > y2  # up is bigger
    assert (y0 - y1) == pytest.approx(y1 - y2)  # a zero-based linear axis


def test_line_chart_when_empty_says_no_data():
    for dates, series in (([], {"s": []}), (DAYS, {})):
        root = parse(line_chart(dates, series, title="Nothing"))
        assert root.find(".//svg:polyline", NS) is None
        assert any("No data" in t for t in texts(root))


def test_line_chart_when_one_day_or_all_zero_still_renders():
    root = parse(line_chart(DAYS[:1], {"s": [0]}, title="t"))
    assert root.find(".//svg:polyline", NS) is None
    assert len(root.findall(".//svg:circle", NS)) == 1
    root = parse(line_chart(DAYS, {"s": [0] * 10}, title="t"))
    assert root.find(".//svg:polyline", NS) is not None


def test_line_chart_when_series_length_differs_from_dates_raises():
    with pytest.raises(ValueError, match="has 2 values"):
        line_chart(DAYS, {"s": [1, 2]}, title="t")


def test_line_chart_when_many_days_drops_point_markers_and_few_date_labels():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(90)]
    root = parse(line_chart(days, {"s": list(range(90))}, title="t"))
    assert not root.findall(".//svg:circle", NS)
    x_axis = root.find(".//svg:g[@class='x-axis']", NS)
    assert 2 <= len(x_axis.findall("svg:text", NS)) <= 6


# -- shared ---------------------------------------------------------------------


def test_palette_when_drawn_on_white_keeps_graphics_contrast_of_at_least_3_to_1():
    for colour in PALETTE:
        ratio = 1.05 / (relative_luminance(colour) + 0.05)
        assert ratio >= 4.5, colour  # above the 3:1 needed, readable as text too


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(1234, "", "1,234"), (12.345, "%", "12.3%"), (5.0, "%", "5%"), (0, "", "0")],
)
def test_format_number_when_given_value_formats_for_labels(value, unit, shown):
    assert format_number(value, unit) == shown
