"""Labels and the 24-month grid for templates/reports/report.html.

The report dict carries codes (`overdue`, `guarantor`, `days_overdue`…); these
filters turn them into translated labels. Unknown codes are shown as sent.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bureau.records.history import GRID_MONTHS, month_start

register = template.Library()

STATUSES = {
    "current": _("Current"),
    "overdue": _("Overdue"),
    "default": _("Default"),
    "written_off": _("Written off"),
    "settled": _("Settled"),
    "closed": _("Closed"),
}
CLASSIFICATIONS = {
    "normal": _("Normal"),
    "special_mention": _("Special mention"),
    "substandard": _("Substandard"),
    "doubtful": _("Doubtful"),
    "loss": _("Loss"),
}
ROLES = {
    "borrower": _("Borrower"),
    "co_borrower": _("Co-borrower"),
    "guarantor": _("Guarantor"),
}
LOAN_TYPES = {
    "consumer": _("Consumer loan"),
    "cash": _("Cash loan"),
    "credit_line": _("Credit line"),
    "mortgage": _("Mortgage"),
    "auto": _("Auto loan"),
    "business": _("Business loan"),
    "other": _("Other"),
}
ID_TYPES = {
    "resident_id": _("PRC resident ID"),
    "passport": _("Passport"),
    "uscc": _("Unified social credit code"),
    "other": _("Other"),
}
PURPOSES = {
    "loan_approval": _("Loan approval"),
    "credit_card_approval": _("Credit card approval"),
    "post_loan_management": _("Post-loan management"),
    "guarantee_check": _("Guarantee check"),
    "self_inquiry": _("Self inquiry"),
    "dispute_handling": _("Dispute handling"),
}
# Blacklist clauses (bureau/records/services/aggregate.py BLACKLIST_CLAUSES); the
# thresholds come from settings.BUREAU_BLACKLIST.
BLACKLIST_CLAUSES = {
    "status": _("An account is %(statuses)s"),
    "days_overdue": _("%(days)s or more days overdue"),
    "platforms_overdue": _("Overdue on %(platforms)s or more platforms at once"),
}
# Same characters as bureau.records.history.LEGEND, translated.
GRID_LEGEND = {
    "N": _("Current"),
    "1": _("1–30 days overdue"),
    "2": _("31–60 days overdue"),
    "3": _("61–90 days overdue"),
    "4": _("91–120 days overdue"),
    "5": _("121–150 days overdue"),
    "6": _("151–180 days overdue"),
    "7": _("Over 180 days overdue"),
    "D": _("Default"),
    "Z": _("Written off"),
    "C": _("Settled or closed"),
    "G": _("Ended otherwise"),
    "#": _("Unknown"),
    "*": _("No payment due"),
    "/": _("Not yet open"),
}
GRID_CLASSES = {
    "N": "g-ok",
    **dict.fromkeys("123", "g-late"),
    **dict.fromkeys("4567", "g-bad"),
    **dict.fromkeys("DZ", "g-lost"),
    **dict.fromkeys("CG", "g-closed"),
    **dict.fromkeys("#*/", "g-none"),
}
_PLATFORM = re.compile(r"^platform (\S+)$")


class Cell(NamedTuple):
    char: str
    css_class: str
    label: str


def _label(labels: dict, value):
    if value in (None, ""):
        return ""
    return labels.get(value, value)


@register.filter
def status_label(value):
    return _label(STATUSES, value)


@register.filter
def classification_label(value):
    return _label(CLASSIFICATIONS, value)


@register.filter
def role_label(value):
    return _label(ROLES, value)


@register.filter
def loan_type_label(value):
    return _label(LOAN_TYPES, value)


@register.filter
def id_type_label(value):
    return _label(ID_TYPES, value)


@register.filter
def purpose_label(value):
    return _label(PURPOSES, value)


@register.filter
def blacklist_clause_label(value):
    label = BLACKLIST_CLAUSES.get(value)
    if label is None:
        return value
    rule = settings.BUREAU_BLACKLIST
    return str(label) % {
        "statuses": " / ".join(str(status_label(s)) for s in rule["statuses"]),
        "days": rule["min_days_overdue"],
        "platforms": rule["min_platforms_overdue"],
    }


@register.filter
def furnisher_label(value):
    """ "own" is the asking member; "platform A" an anonymised other member."""
    if value == "own":
        return gettext("Your platform")
    match = _PLATFORM.match(value or "")
    if match:
        return gettext("Platform %(label)s") % {"label": match.group(1)}
    return value


@register.filter
def as_datetime(value):
    """An ISO datetime string (as stored in the report JSON) as a datetime."""
    if isinstance(value, datetime) or not value:
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value


@register.filter
def grid_cells(history, generated_at=None) -> list[Cell]:
    """The 24-character history (most recent first) as cells; with the report's
    generation time the labels name the month ("2025-06: Current")."""
    chars = (history or "")[:GRID_MONTHS].ljust(GRID_MONTHS, "#")
    anchor = as_datetime(generated_at)
    if isinstance(anchor, datetime):
        anchor = timezone.localtime(anchor) if timezone.is_aware(anchor) else anchor
        anchor = anchor.date()
    else:
        anchor = None
    cells = []
    for back, char in enumerate(chars):
        label = str(GRID_LEGEND.get(char, GRID_LEGEND["#"]))
        if anchor is not None:
            label = f"{month_start(anchor, back):%Y-%m}: {label}"
        cells.append(Cell(char, GRID_CLASSES.get(char, "g-none"), label))
    return cells


@register.simple_tag
def grid_legend() -> list[Cell]:
    return [Cell(c, GRID_CLASSES[c], str(label)) for c, label in GRID_LEGEND.items()]
