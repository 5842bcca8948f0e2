"""The 24-month status grid: one character per month, most recent first.

Bureau's legend (PBOC style): N current; 1–7 overdue by 30-day buckets (1 = 1–30
days … 7 = over 180); D default; Z written off; C settled or closed; # unknown;
* no payment due; / not yet open. Furnishers may send the same characters in
`payment_history` (G and the rest of the PBOC set are accepted as sent).
"""

from __future__ import annotations

from datetime import date

GRID_MONTHS = 24

LEGEND = {
    "N": "current",
    "1": "1–30 days overdue",
    "2": "31–60 days overdue",
    "3": "61–90 days overdue",
    "4": "91–120 days overdue",
    "5": "121–150 days overdue",
    "6": "151–180 days overdue",
    "7": "over 180 days overdue",
    "D": "default",
    "Z": "written off",
    "C": "settled or closed",
    "G": "ended otherwise",
    "#": "unknown",
    "*": "no payment due",
    "/": "not yet open",
}


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month `back` months before `day`'s."""
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return date(year, month + 1, 1)


def month_status(status: str, days_overdue: int) -> str:
    """The grid character for a reported status."""
    if status in ("settled", "closed"):
        return "C"
    if status == "written_off":
        return "Z"
    if status == "default":
        return "D"
    if days_overdue <= 0:
        return "N"
    return str(min(7, (days_overdue - 1) // 30 + 1))
