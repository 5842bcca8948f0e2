"""The bureau's dashboard: who furnishes, how clean their files are, how much is
queried, open misuse alerts and open disputes. Bureau staff only: members are
named here. The page's figures are put together in web.presenters_dashboards."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from bureau.core.roles import BUREAU_ROLES
from web.access import role_required
from web.presenters_dashboards import DEFAULT_PERIOD, PERIODS, dashboard_page


def period_param(raw: str | None) -> int:
    """Days of the period asked for; an unknown one falls back to the default."""
    try:
        days = int(raw or DEFAULT_PERIOD)
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


@role_required(*BUREAU_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    days = period_param(request.GET.get("days"))
    return render(request, "web/dashboards/dashboard.html", dashboard_page(days=days))
