"""The dashboard presenter on made-up figures: no request, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from bureau.audit.models import Alert
from web import presenters_dashboards as presenter
from web import selectors_dashboards as selectors

NOW = timezone.make_aware(datetime(2026, 3, 10, 15, 0))


@pytest.fixture(autouse=True)
def english():
    """The labels are read in English, whatever language an earlier test left
    active (the site's default is zh-hans)."""
    with translation.override("en"):
        yield


def figures(
    *,
    days: int = 7,
    furnished: list[selectors.MemberSeries] | None = None,
    rejects: list[selectors.RejectRate] | None = None,
    alerts: dict[tuple[str, str], int] | None = None,
    latest: list[Alert] | None = None,
    disputes: list[selectors.MemberDisputes] | None = None,
) -> selectors.Dashboard:
    queries = [0] * days
    queries[-1], queries[-2] = 4, 1
    hits = [0] * days
    hits[-1] = 3
    return selectors.Dashboard(
        period=selectors.period_of(days, now=NOW),
        furnished=furnished or [],
        rejects=rejects or [],
        queries=selectors.QueryVolume(queries=queries, hits=hits),
        member_queries=[
            selectors.MemberQueries(member_id=1, name="Acme", queries=4, hits=3),
            selectors.MemberQueries(member_id=None, name="", queries=1, hits=0),
        ],
        alerts=selectors.OpenAlerts(counts=alerts or {}, latest=latest or []),
        disputes=selectors.OpenDisputes(by_member=disputes or []),
    )


def series(name: str, today: int, days: int = 7) -> selectors.MemberSeries:
    return selectors.MemberSeries(
        member_id=today, name=name, per_day=[0] * (days - 1) + [today]
    )


def member_disputes(name: str, open_: int, overdue: int) -> selectors.MemberDisputes:
    return selectors.MemberDisputes(
        member_id=open_,
        name=name,
        open=open_,
        overdue=overdue,
        due_soon=0,
        next_due=NOW + timedelta(days=3),
        days_left=3,
    )


def test_dashboard_present_when_seven_furnishers_draws_five_lines_and_sums_the_rest():
    data = figures(furnished=[series(f"Member {i}", 7 - i) for i in range(7)])
    context = presenter.dashboard_present(data=data)
    assert context["series_names"] == [f"Member {i}" for i in range(5)] + [
        "Other members"
    ]
    today = context["furnished_rows"][-1]
    assert today["day"] == NOW.date()
    assert today["values"] == [7, 6, 5, 4, 3, 2 + 1] and today["total"] == 28
    assert len(context["furnished_rows"]) == 7


def test_dashboard_present_when_five_furnishers_or_fewer_adds_no_other_line():
    data = figures(furnished=[series("Acme", 3), series("Globex", 2)])
    assert presenter.dashboard_present(data=data)["series_names"] == [
        "Acme",
        "Globex",
    ]


def test_dashboard_present_when_alerts_open_tables_every_rule_and_labels_latest():
    alert = Alert(rule="enumeration", severity="high")
    data = figures(
        alerts={("enumeration", "high"): 2, ("volume_spike", "low"): 1},
        latest=[alert],
    )
    context = presenter.dashboard_present(data=data)
    table = {str(row["label"]): row for row in context["alert_table"]}
    assert list(table) == [str(label) for label in presenter.RULE_LABELS.values()]
    # cells in the order of the severity columns: high, medium, low
    assert table["Enumeration"]["cells"] == [2, 0, 0]
    assert table["Volume spike"]["cells"] == [0, 0, 1]
    assert table["Purpose drift"] == {
        "label": presenter.RULE_LABELS["purpose_drift"],
        "cells": [0, 0, 0],
        "total": 0,
    }
    assert (str(alert.rule_label), str(alert.severity_label), alert.badge) == (
        "Enumeration",
        "High",
        "bad",
    )
    cards = {str(label): (value, badge) for label, value, badge in context["cards"]}
    assert cards["Open misuse alerts"] == ("3", "bad")


def test_dashboard_present_when_alert_rule_unknown_shows_its_code():
    alert = Alert(rule="new_rule", severity="odd")
    presenter.dashboard_present(data=figures(latest=[alert]))
    assert (alert.rule_label, alert.severity_label, alert.badge) == (
        "new_rule",
        "odd",
        "",
    )


def test_dashboard_present_when_rejects_high_marks_the_card_bad_and_formats_rates():
    rejects = [
        selectors.RejectRate(member_id=1, name="Acme", rows_total=8, rows_rejected=2),
        selectors.RejectRate(member_id=2, name="Globex", rows_total=2, rows_rejected=0),
    ]
    context = presenter.dashboard_present(data=figures(rejects=rejects))
    cards = {str(label): (value, badge) for label, value, badge in context["cards"]}
    assert cards["Reject rate"] == ("20%", "bad")
    assert context["rejects"][0] == {
        "name": "Acme",
        "total": 8,
        "rejected": 2,
        "rate": "25%",
    }


def test_dashboard_present_when_queries_given_rates_each_day_and_names_staff():
    context = presenter.dashboard_present(data=figures())
    assert context["hit_rate"] == "60%"
    assert [row["rate"] for row in context["query_rows"][-2:]] == ["0%", "75%"]
    assert context["query_rows"][0]["rate"] == "0%"  # no query: no division
    assert [str(m["name"]) for m in context["member_queries"]] == [
        "Acme",
        "Bureau staff",
    ]


def test_dashboard_present_when_disputes_overdue_counts_them_in_the_card():
    disputes = [member_disputes("Acme", 1, 0), member_disputes("Globex", 4, 2)]
    context = presenter.dashboard_present(data=figures(disputes=disputes))
    label, value, badge = context["cards"][-1]
    assert (str(label), value, badge) == ("Open disputes (2 overdue)", "5", "bad")
    # the bar chart lists the member with the most open disputes first
    chart = str(context["charts"]["disputes"])
    assert chart.index("Globex") < chart.index("Acme")


def test_dashboard_present_when_nothing_happened_draws_six_empty_charts():
    context = presenter.dashboard_present(data=figures(days=30))
    assert context["days"] == 30 and context["periods"] == presenter.PERIODS
    assert sorted(context["charts"]) == sorted(
        [
            "furnished_daily",
            "furnished_members",
            "rejects",
            "queries",
            "alerts",
            "disputes",
        ]
    )
    assert all('role="img"' in str(chart) for chart in context["charts"].values())
    badges = [badge for _label, _value, badge in context["cards"]]
    assert badges == ["", "", "", "", "", ""]


@pytest.mark.django_db
def test_dashboard_page_when_database_empty_builds_the_context_of_the_period():
    context = presenter.dashboard_page(days=7, now=NOW)
    assert context["days"] == 7
    assert context["data"].period.dates[-1] == NOW.date()
    assert context["series_names"] == [] and context["furnished_rows"][0]["total"] == 0
