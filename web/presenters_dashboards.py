"""What the bureau dashboard page shows, built from the dashboard selectors: the
cards, the charts and the tables under them, as plain data for the template.

No request here: the view parses the period and renders; this module decides
what each figure looks like, so that it can be tested with made-up figures and no
database (`dashboard_present`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from web import selectors_dashboards as selectors
from web.charts import bar_chart, format_number, line_chart

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP_LINES = 5  # members drawn as their own line; the rest add up to "Other members"
TOP_BARS = 15  # bars a chart draws; its table lists everyone

RULE_LABELS = {
    "volume_spike": gettext_lazy("Volume spike"),
    "enumeration": gettext_lazy("Enumeration"),
    "contribution_imbalance": gettext_lazy("Query-to-contribution imbalance"),
    "purpose_drift": gettext_lazy("Purpose drift"),
}
SEVERITY_LABELS = {
    "high": gettext_lazy("High"),
    "medium": gettext_lazy("Medium"),
    "low": gettext_lazy("Low"),
}
SEVERITY_BADGE = {"high": "bad", "medium": "warn", "low": "ok"}


def dashboard_page(*, days: int, now: datetime | None = None) -> dict[str, Any]:
    """The template context of the dashboard for the last `days` days."""
    return dashboard_present(data=selectors.dashboard(days=days, now=now))


def dashboard_present(*, data: selectors.Dashboard) -> dict[str, Any]:
    """The template context for figures the selectors returned. Labels the latest
    alerts in place (the template reads `rule_label`, `severity_label`, `badge`)."""
    lines = furnished_lines(data.furnished)
    alert_rules = data.alerts.by_rule()
    # Labels set on the alerts the template lists, not fields of the model.
    for alert in data.alerts.latest:
        alert.rule_label = RULE_LABELS.get(alert.rule, alert.rule)  # type: ignore[attr-defined]
        alert.severity_label = SEVERITY_LABELS.get(alert.severity, alert.severity)  # type: ignore[attr-defined]
        alert.badge = SEVERITY_BADGE.get(alert.severity, "")  # type: ignore[attr-defined]
    return {
        "data": data,
        "days": data.period.days,
        "periods": PERIODS,
        "cards": dashboard_cards(data),
        "charts": dashboard_charts(data, lines, alert_rules),
        "series_names": list(lines),
        "hit_rate": format_number(data.queries.hit_rate, "%"),
        "furnished_rows": furnished_rows(data, lines),
        "query_rows": query_rows(data.period.dates, data.queries),
        "member_queries": [
            {
                "name": m.name or _("Bureau staff"),
                "queries": m.queries,
                "hits": m.hits,
                "rate": format_number(m.hit_rate, "%"),
            }
            for m in data.member_queries
        ],
        "rejects": [
            {
                "name": r.name,
                "total": r.rows_total,
                "rejected": r.rows_rejected,
                "rate": format_number(r.rate, "%"),
            }
            for r in data.rejects
        ],
        "severity_labels": list(SEVERITY_LABELS.values()),
        "alert_table": alert_table(data.alerts, alert_rules),
        "top_bars": TOP_BARS,
    }


def furnished_lines(furnished: list[selectors.MemberSeries]) -> dict[str, list[int]]:
    """Records furnished per day: the biggest furnishers as lines, the rest summed
    into one "Other members" line (a chart of fifty lines reads as none)."""
    lines = {s.name: s.per_day for s in furnished[:TOP_LINES]}
    rest = furnished[TOP_LINES:]
    if rest:
        lines[_("Other members")] = [
            sum(day) for day in zip(*(s.per_day for s in rest), strict=True)
        ]
    return lines


def furnished_rows(
    data: selectors.Dashboard, lines: dict[str, list[int]]
) -> list[dict[str, Any]]:
    """The table under the furnished chart: a row a day, a cell a line."""
    return [
        {
            "day": day,
            "values": [values[i] for values in lines.values()],
            "total": sum(s.per_day[i] for s in data.furnished),
        }
        for i, day in enumerate(data.period.dates)
    ]


def query_rows(
    dates: list[date], queries: selectors.QueryVolume
) -> list[dict[str, Any]]:
    return [
        {
            "day": day,
            "queries": q,
            "hits": h,
            "rate": format_number(100 * h / q if q else 0, "%"),
        }
        for day, q, h in zip(dates, queries.queries, queries.hits, strict=True)
    ]


def alert_table(
    alerts: selectors.OpenAlerts, alert_rules: dict[str, int]
) -> list[dict[str, Any]]:
    """Open alerts, a row a rule and a cell a severity (zeros included)."""
    return [
        {
            "label": label,
            "cells": [alerts.counts.get((rule, sev), 0) for sev in SEVERITY_LABELS],
            "total": alert_rules.get(rule, 0),
        }
        for rule, label in RULE_LABELS.items()
    ]


def dashboard_charts(
    data: selectors.Dashboard,
    lines: dict[str, list[int]],
    alert_rules: dict[str, int],
) -> dict[str, str]:
    dates = data.period.dates
    by_open = sorted(data.disputes.by_member, key=lambda m: -m.open)
    return {
        "furnished_daily": line_chart(
            dates,
            lines,
            title=_("Records furnished per day, by member"),
            chart_id="chart-furnished-daily",
        ),
        "furnished_members": bar_chart(
            [(s.name, s.total) for s in data.furnished[:TOP_BARS]],
            title=_("Records furnished per member"),
            legend=_("Records accepted in the period"),
            unit=_("records"),
            chart_id="chart-furnished-members",
        ),
        "rejects": bar_chart(
            [(r.name, r.rate) for r in data.rejects[:TOP_BARS]],
            title=_("Reject rate per member"),
            legend=_("Rejected rows, % of rows sent"),
            unit="%",
            colour="#b3261e",
            chart_id="chart-rejects",
        ),
        "queries": line_chart(
            dates,
            {_("Queries"): data.queries.queries, _("Hits"): data.queries.hits},
            title=_("Queries per day"),
            chart_id="chart-queries",
        ),
        "alerts": bar_chart(
            [
                (str(label), alert_rules.get(rule, 0))
                for rule, label in RULE_LABELS.items()
            ]
            if data.alerts.total
            else [],
            title=_("Open misuse alerts by rule"),
            legend=_("Open alerts"),
            colour="#8a4b00",
            chart_id="chart-alerts",
        ),
        "disputes": bar_chart(
            [(m.name, m.open) for m in by_open[:TOP_BARS]],
            title=_("Open disputes per member"),
            legend=_("Open disputes"),
            colour="#6a1b9a",
            chart_id="chart-disputes",
        ),
    }


def dashboard_cards(data: selectors.Dashboard) -> list[tuple[str, str, str]]:
    """(label, figure, badge) of the cards on top; "bad" marks what needs a look."""
    return [
        (_("Records furnished"), format_number(data.records_total), ""),
        (
            _("Reject rate"),
            format_number(data.reject_rate, "%"),
            "bad" if data.reject_rate > 10 else "",
        ),
        (_("Queries"), format_number(data.queries.total), ""),
        (_("Hit rate"), format_number(data.queries.hit_rate, "%"), ""),
        (
            _("Open misuse alerts"),
            format_number(data.alerts.total),
            "bad" if data.alerts.by_severity().get("high") else "",
        ),
        (
            _("Open disputes (%(overdue)s overdue)")
            % {"overdue": format_number(data.disputes.overdue)},
            format_number(data.disputes.total),
            "bad" if data.disputes.overdue else "",
        ),
    ]
