"""The bureau's dashboard: who furnishes, how clean their files are, how much is
queried, open misuse alerts and open disputes. Bureau staff only: members are
named here."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bureau.core.roles import BUREAU_ROLES
from web import selectors_dashboards as selectors
from web.access import role_required
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


def period_param(raw: str | None) -> int:
    try:
        days = int(raw or DEFAULT_PERIOD)
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


@role_required(*BUREAU_ROLES)
def dashboard(request):
    days = period_param(request.GET.get("days"))
    data = selectors.dashboard(days=days)
    dates = data.period.dates

    # Records furnished per day: the biggest furnishers as lines, the rest summed.
    lines = {s.name: s.per_day for s in data.furnished[:TOP_LINES]}
    rest = data.furnished[TOP_LINES:]
    if rest:
        lines[_("Other members")] = [
            sum(day) for day in zip(*(s.per_day for s in rest), strict=True)
        ]
    furnished_rows = [
        {
            "day": day,
            "values": [values[i] for values in lines.values()],
            "total": sum(s.per_day[i] for s in data.furnished),
        }
        for i, day in enumerate(dates)
    ]

    alert_rules = data.alerts.by_rule()
    alert_table = [
        {
            "label": label,
            "cells": [
                data.alerts.counts.get((rule, sev), 0) for sev in SEVERITY_LABELS
            ],
            "total": alert_rules.get(rule, 0),
        }
        for rule, label in RULE_LABELS.items()
    ]
    for alert in data.alerts.latest:
        alert.rule_label = RULE_LABELS.get(alert.rule, alert.rule)
        alert.severity_label = SEVERITY_LABELS.get(alert.severity, alert.severity)
        alert.badge = SEVERITY_BADGE.get(alert.severity, "")

    records_label = _("records")
    charts = {
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
            unit=records_label,
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
            [
                (m.name, m.open)
                for m in sorted(data.disputes.by_member, key=lambda m: -m.open)[
                    :TOP_BARS
                ]
            ],
            title=_("Open disputes per member"),
            legend=_("Open disputes"),
            colour="#6a1b9a",
            chart_id="chart-disputes",
        ),
    }
    cards = [
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
    return render(
        request,
        "web/dashboards/dashboard.html",
        {
            "data": data,
            "days": days,
            "periods": PERIODS,
            "cards": cards,
            "charts": charts,
            "series_names": list(lines),
            "hit_rate": format_number(data.queries.hit_rate, "%"),
            "furnished_rows": furnished_rows,
            "query_rows": [
                {
                    "day": day,
                    "queries": q,
                    "hits": h,
                    "rate": format_number(100 * h / q if q else 0, "%"),
                }
                for day, q, h in zip(
                    dates, data.queries.queries, data.queries.hits, strict=True
                )
            ],
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
            "alert_table": alert_table,
            "top_bars": TOP_BARS,
        },
    )
