"""Small server-side SVG charts: no JavaScript, no library, nothing fetched.

Each chart is one inline <svg role="img"> with a <title> and a <desc> that says
what a screen reader needs (the values themselves, not "a chart"), text labels on
the marks, a legend, and a viewBox so it scales down on a phone. Colours keep at
least 3:1 against white (WCAG 1.4.11) and lines also differ by dash pattern, so
no series is told apart by colour alone. Pages put the numbers in a table beside
each chart as well.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 480
FONT = 14
TEXT = "#1a1a1a"
MUTED = "#555555"
GRID = "#d0d4da"
# Blue, red, green, brown, purple, teal, slate: each ≥ 5:1 on white and apart
# for the common colour-vision deficiencies (with the dash patterns below).
PALETTE = (
    "#0b57d0",
    "#b3261e",
    "#1e7d32",
    "#8a4b00",
    "#6a1b9a",
    "#00695c",
    "#455a64",
)
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 2", "12 4", "1 2")
MAX_DESC_ITEMS = 12


# -- helpers --------------------------------------------------------------------


def format_number(value: float, unit: str = "") -> str:
    """1,234 or 12.5, with a "%" glued on; other units are left to the legend."""
    value = float(value)
    if math.isfinite(value) and abs(value - round(value)) < 1e-9:
        text = f"{round(value):,}"
    else:
        text = f"{value:,.1f}"
    return f"{text}%" if unit == "%" else text


def _with_unit(value: float, unit: str) -> str:
    text = format_number(value, unit)
    return f"{text} {unit}" if unit and unit != "%" else text


def _text_width(text: str, size: float = FONT) -> float:
    """Rough rendered width: CJK and other wide characters ~1 em, others ~0.6 em."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E7F)
    return (wide + 0.6 * (len(text) - wide)) * size


# A piece a label may break after: a run of narrow characters with the spaces
# after it, or one wide (CJK) character (Chinese breaks between any two).
_BREAKABLE = re.compile(r"[\u2e80-\U0010ffff]|[^\s\u2e80-\U0010ffff]+\s*|\s+")


def _wrap(text: str, width: float, size: float = FONT) -> list[str]:
    """The text as lines that fit `width`, none of it cut off: broken at spaces or
    between CJK characters, and inside a word only when the word alone is
    wider than a line."""
    lines: list[str] = []
    line = ""
    for piece in _BREAKABLE.findall(text):
        if line and _text_width((line + piece).rstrip(), size) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
        while len(line) > 1 and _text_width(line.rstrip(), size) > width:
            cut = len(line) - 1
            while cut > 1 and _text_width(line[:cut], size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha256(repr((kind, parts)).encode()).hexdigest()[:10]
    return f"chart-{kind}-{digest}"


def _n(value: float) -> str:
    """A coordinate: short, never in exponent form."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _value(raw: object) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def _open_svg(chart_id: str, height: float, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="{SVG_NS}" class="chart" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'width="100%" preserveAspectRatio="xMidYMin meet" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-size="{FONT}" fill="{TEXT}" style="max-width:100%;height:auto">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _empty(chart_id: str, title: str) -> SafeString:
    message = _("No data for this period.")
    parts = _open_svg(chart_id, 60, title, message)
    parts.append(
        f'<text class="empty" x="{WIDTH / 2:g}" y="35" text-anchor="middle" '
        f'fill="{MUTED}">{escape(message)}</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped


def _listing(items: Sequence[str]) -> str:
    shown = list(items[:MAX_DESC_ITEMS])
    if len(items) > MAX_DESC_ITEMS:
        shown.append(_("and %(count)d more") % {"count": len(items) - MAX_DESC_ITEMS})
    return "; ".join(shown) + "."


def _nice_step(peak: float, intervals: int = 4) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k step whose `intervals` reach `peak`."""
    if peak <= 0:
        return 1.0
    raw = peak / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw - 1e-12:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover -- the loop always returns


# -- bar chart ------------------------------------------------------------------


def bar_chart(
    series: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    legend: str | None = None,
    colour: str = PALETTE[0],
    chart_id: str | None = None,
) -> SafeString:
    """Horizontal bars, one per (label, value), longest = largest value.

    Labels sit left of the bars, whole: a long one (a member's full name) wraps
    onto more lines and its row grows; values sit right of the bars. `legend`
    names what the bars measure (default: the unit, else the title). Negative
    or missing values count as 0.
    """
    items = [(str(label), _value(value)) for label, value in series]
    chart_id = chart_id or _chart_id("bar", title, unit, items)
    if not items:
        return _empty(chart_id, title)
    row, bar, legend_h, pad = 28, 18, 28, 8
    line_h = FONT * 1.25
    label_w = min(max(_text_width(label) for label, _v in items) + pad, WIDTH * 0.4)
    value_w = max(_text_width(format_number(v, unit)) for _l, v in items) + pad
    plot_x, plot_w = label_w, max(WIDTH - label_w - value_w, 40)
    peak = max(value for _l, value in items)
    scale = plot_w / peak if peak > 0 else 0.0
    label_lines = [_wrap(label, label_w - pad) for label, _v in items]
    row_heights = [max(row, len(lines) * line_h + 10) for lines in label_lines]
    height = legend_h + sum(row_heights) + pad

    desc = (
        _("Bar chart.")
        + " "
        + _listing([f"{label}: {_with_unit(value, unit)}" for label, value in items])
    )
    parts = _open_svg(chart_id, height, title, desc)
    legend_text = legend or unit or title
    parts.append(
        f'<g class="legend"><rect x="0" y="6" width="14" height="14" '
        f'fill="{colour}"/><text x="20" y="18">{escape(legend_text)}</text></g>'
    )
    parts.append(
        f'<line x1="{_n(plot_x)}" y1="{legend_h - 2}" x2="{_n(plot_x)}" '
        f'y2="{_n(height - pad + 2)}" stroke="{MUTED}" stroke-width="1"/>'
    )
    top: float = legend_h
    for (label, value), lines, row_h in zip(
        items, label_lines, row_heights, strict=True
    ):
        middle = top + row_h / 2
        baseline = middle + FONT * 0.35
        width = value * scale
        shown = format_number(value, unit)
        label_x = _n(plot_x - 6)
        label_text: str
        if len(lines) == 1:
            label_text = escape(lines[0])
        else:
            label_text = "".join(
                f'<tspan x="{label_x}" dy="{0 if i == 0 else _n(line_h)}">'
                f"{escape(line)}</tspan>"
                for i, line in enumerate(lines)
            )
        first_baseline = baseline - (len(lines) - 1) * line_h / 2
        parts.append(
            f'<g class="bar-row"><title>{escape(label)}: '
            f"{escape(_with_unit(value, unit))}</title>"
            f'<text class="label" x="{label_x}" y="{_n(first_baseline)}" '
            f'text-anchor="end">{label_text}</text>'
            f'<rect class="bar" x="{_n(plot_x)}" y="{_n(middle - bar / 2)}" '
            f'width="{_n(width)}" height="{bar}" fill="{colour}" '
            f'data-value="{value:g}"/>'
            f'<text class="value" x="{_n(plot_x + width + 4)}" y="{_n(baseline)}">'
            f"{escape(shown)}</text></g>"
        )
        top += row_h
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped


# -- line chart -----------------------------------------------------------------


def line_chart(
    dates: Sequence[date],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    unit: str = "",
    chart_id: str | None = None,
) -> SafeString:
    """One line per named series over `dates` (each series one value a date), on
    a zero-based y axis with four gridlines; legend on top, ≤ 6 date labels."""
    dates = list(dates)
    named = {str(name): [_value(v) for v in values] for name, values in series.items()}
    for name, values in named.items():
        if len(values) != len(dates):
            raise ValueError(
                f"series {name!r} has {len(values)} values, not {len(dates)}"
            )
    chart_id = chart_id or _chart_id("line", title, unit, dates, named)
    if not dates or not named:
        return _empty(chart_id, title)

    # Legend: a sample of each line, wrapped onto as many rows as needed.
    legend, x, y = [], 0.0, 16.0
    for index, name in enumerate(named):
        item_w = 30 + _text_width(name) + 16
        if x and x + item_w > WIDTH:
            x, y = 0.0, y + 22
        legend.append(
            f'<g class="legend-item"><line x1="{_n(x)}" y1="{_n(y - 4)}" '
            f'x2="{_n(x + 24)}" y2="{_n(y - 4)}" stroke="{_colour(index)}" '
            f'stroke-width="3"{_dash(index)}/>'
            f'<text x="{_n(x + 30)}" y="{_n(y)}">{escape(name)}</text></g>'
        )
        x += item_w
    legend_h = y + 14

    peak = max((max(values) for values in named.values() if values), default=0.0)
    step = _nice_step(peak) if peak > 0 else 1.0
    y_max = step * 4
    ticks = [format_number(step * i, unit) for i in range(5)]
    plot_x = max(_text_width(t, 13) for t in ticks) + 10
    plot_top, plot_h = legend_h + 8, 170.0
    plot_w = WIDTH - plot_x - 14
    height = plot_top + plot_h + 26

    def px(i: int) -> float:
        return plot_x + (
            plot_w / 2 if len(dates) == 1 else i * plot_w / (len(dates) - 1)
        )

    def py(value: float) -> float:
        return plot_top + plot_h - value / y_max * plot_h

    desc_items = []
    for name, values in named.items():
        top_index = max(range(len(values)), key=values.__getitem__)
        desc_items.append(
            _("%(name)s: total %(total)s, highest %(peak)s on %(day)s")
            % {
                "name": name,
                "total": _with_unit(sum(values), unit),
                "peak": _with_unit(values[top_index], unit),
                "day": dates[top_index].isoformat(),
            }
        )
    desc = (
        _("Line chart from %(first)s to %(last)s.")
        % {"first": dates[0].isoformat(), "last": dates[-1].isoformat()}
        + " "
        + _listing(desc_items)
    )
    parts = _open_svg(chart_id, height, title, desc)
    parts.append('<g class="legend">' + "".join(legend) + "</g>")

    grid = ['<g class="y-axis" font-size="13">']
    for i, label in enumerate(ticks):
        gy = py(step * i)
        grid.append(
            f'<line x1="{_n(plot_x)}" y1="{_n(gy)}" x2="{_n(plot_x + plot_w)}" '
            f'y2="{_n(gy)}" stroke="{MUTED if i == 0 else GRID}" stroke-width="1"/>'
            f'<text x="{_n(plot_x - 6)}" y="{_n(gy + 4)}" text-anchor="end" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    grid.append("</g>")
    parts.extend(grid)

    labels = min(len(dates), 6)
    shown = sorted(
        {round(i * (len(dates) - 1) / max(labels - 1, 1)) for i in range(labels)}
    )
    parts.append(f'<g class="x-axis" font-size="13" fill="{MUTED}">')
    for i in shown:
        anchor = "middle"
        if len(dates) > 1 and i == 0:
            anchor = "start"
        elif len(dates) > 1 and i == len(dates) - 1:
            anchor = "end"
        parts.append(
            f'<text x="{_n(px(i))}" y="{_n(plot_top + plot_h + 18)}" '
            f'text-anchor="{anchor}">{dates[i]:%m-%d}</text>'
        )
    parts.append("</g>")

    for index, (name, values) in enumerate(named.items()):
        points = " ".join(f"{_n(px(i))},{_n(py(v))}" for i, v in enumerate(values))
        colour = _colour(index)
        parts.append(f'<g class="series" data-name="{escape(name)}">')
        parts.append(f"<title>{escape(name)}</title>")
        if len(values) > 1:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5" stroke-linejoin="round"{_dash(index)}/>'
            )
        if len(values) <= 31:
            parts.extend(
                f'<circle cx="{_n(px(i))}" cy="{_n(py(v))}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {dates[i].isoformat()}: "
                f"{escape(_with_unit(v, unit))}</title></circle>"
                for i, v in enumerate(values)
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _dash(index: int) -> str:
    dash = DASHES[index % len(DASHES)]
    return f' stroke-dasharray="{dash}"' if dash else ""
