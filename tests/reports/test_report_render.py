"""The printable report (templates/reports/report.html) and its PDF, in both languages.

The template is rendered straight from a report dict shaped like
reports.services.report.build_report's output: no database needed.
"""

import re
import shutil
import subprocess

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from bureau.records.history import GRID_MONTHS, LEGEND
from reports.services.pdf import render_pdf
from reports.services.report import ACCOUNT_FIELDS, PROFILE_FIELDS
from reports.templatetags.report_tags import GRID_LEGEND, grid_cells

# Members that furnished the accounts: their codes and names must never be printed.
MEMBER_CODES = ["acme", "globex", "Acme Lending", "Globex Credit"]
MASKED_ID = "110105********002X"
NAME = "张三丰"


def a_report() -> dict:
    def account(**values):
        return {
            "furnisher": "own",
            "own": True,
            "role": "borrower",
            "loan_type": "consumer",
            "currency": "CNY",
            "principal": "20000.00",
            "balance": "8000.00",
            "amount_overdue": "0.00",
            "days_overdue": 0,
            "status": "current",
            "classification": "normal",
            "opened_on": "2023-03-15",
            "due_on": "2026-03-15",
            "first_delinquency_on": None,
            "as_of": "2025-05-31",
            "under_dispute": False,
            "history": "N" * GRID_MONTHS,
            **values,
        }

    return {
        "inquiry_id": "7f9c2d1e-5b3a-4c8e-9d10-2a6b4e8f0c11",
        "generated_at": "2025-06-10T02:30:00+00:00",
        "subject": {"id_type": "resident_id", "id_masked": MASKED_ID, "name": NAME},
        "profile": {
            "platforms_total": 2,
            "platforms_with_overdue": 1,
            "accounts_total": 2,
            "accounts_overdue": 1,
            "guarantees_total": 1,
            "guarantees_overdue": 0,
            "total_principal": "70000.00",
            "total_balance": "53211.45",
            "total_amount_overdue": "45211.45",
            "max_days_overdue": 95,
            "worst_status": "default",
            "worst_classification": "substandard",
            "first_delinquency_on": "2025-03-01",
            "last_reported_on": "2025-05-31",
            "blacklisted": True,
            "blacklist_reasons": ["status", "days_overdue"],
        },
        "accounts": [
            account(account_no="LN-2023-0001", history="21NNNNNNNNNNNNNNNNNNNNNN"),
            account(
                furnisher="platform A",
                own=False,
                loan_type="cash",
                principal="50000.00",
                balance="45211.45",
                amount_overdue="45211.45",
                days_overdue=95,
                status="default",
                classification="substandard",
                first_delinquency_on="2025-03-01",
                history="4321NNNNNNNNNNNN////////",
            ),
            account(
                furnisher="platform A",
                own=False,
                role="guarantor",
                loan_type="business",
                principal="100000.00",
                balance="60000.00",
                history="NNNNNNNNCCC#############",
            ),
        ],
        "inquiries": {
            "last_1m": {"count": 3, "members": 2},
            "last_3m": {"count": 7, "members": 5},
            "last_6m": {"count": 11, "members": 6},
        },
        "disputes": [],
        "statements": [],
    }


def render(language: str, *, for_print: bool = False) -> str:
    with translation.override(language):
        return render_to_string(
            "reports/report.html", {"report": a_report(), "for_print": for_print}
        )


def test_hand_built_report_has_the_shape_of_build_report():
    report = a_report()

    assert set(report["profile"]) == set(PROFILE_FIELDS)
    for account in report["accounts"]:
        expected = {"furnisher", "own", *ACCOUNT_FIELDS, "under_dispute", "history"}
        assert set(account) - {"account_no"} == expected


def test_report_in_chinese_shows_chinese_labels():
    html = render("zh-hans")

    assert '<html lang="zh-hans">' in html
    for label in (
        "信用报告",
        "黑名单",
        "逾期平台数",
        "近3个月查询次数",
        "担保人",
        "违约",
    ):
        assert label in html
    assert "Credit report" not in html
    assert "Blacklisted" not in html


def test_report_in_english_shows_english_labels():
    html = render("en")

    assert '<html lang="en">' in html
    for label in (
        "Credit report",
        "Blacklisted",
        "Platforms with overdue",
        "Inquiries in the last 3 months",
        "Guarantor",
        "Default",
    ):
        assert label in html
    assert "信用报告" not in html


def test_report_shows_subject_totals_and_inquiry_counts():
    html = render("en")

    assert MASKED_ID in html
    assert NAME in html
    assert "PRC resident ID" in html
    for total in ("70000.00", "53211.45", "45211.45", ">95<"):
        assert total in html
    assert "7f9c2d1e-5b3a-4c8e-9d10-2a6b4e8f0c11" in html


def test_report_blacklist_names_the_clauses_that_fired(settings):
    settings.BUREAU_BLACKLIST = {
        "statuses": ["default", "written_off"],
        "min_days_overdue": 90,
        "min_platforms_overdue": 2,
    }
    html = render("en")

    clauses = re.findall(r'data-clause="([a-z_]+)"', html)
    assert clauses == ["status", "days_overdue"]
    assert "An account is Default / Written off" in html
    assert "90 or more days overdue" in html
    assert "platforms at once" not in html


def test_report_not_blacklisted_says_so():
    report = a_report()
    report["profile"].update(blacklisted=False, blacklist_reasons=[])
    with translation.override("zh-hans"):
        html = render_to_string("reports/report.html", {"report": report})

    assert "未列入黑名单" in html
    assert "data-clause" not in html


def test_report_shows_own_platform_and_anonymised_labels_never_member_names():
    html = render("en")

    assert "Your platform" in html
    assert html.count("Platform A") == 2
    for secret in MEMBER_CODES:
        assert secret.lower() not in html.lower()


def test_report_grid_has_24_cells_per_account_most_recent_first():
    html = render("en")

    grids = re.findall(r'<ol class="grid">(.*?)</ol>', html, re.S)
    assert len(grids) == 3
    for grid in grids:
        assert grid.count("<li ") == GRID_MONTHS
    first = re.findall(
        r'<li class="([\w-]+)" title="([^"]+)" aria-label="\2">(.)</li>', grids[0]
    )
    assert first[0] == ("g-late", "2025-06: 31–60 days overdue", "2")
    assert first[1] == ("g-late", "2025-05: 1–30 days overdue", "1")
    assert first[2] == ("g-ok", "2025-04: Current", "N")


def test_report_empty_disputes_and_statements_show_none():
    html = render("zh-hans")

    assert html.count('<p class="none">无</p>') == 2


def test_grid_cells_pads_short_history_and_legend_matches_bureau_legend():
    cells = grid_cells("DZ")

    assert len(cells) == GRID_MONTHS
    assert [c.css_class for c in cells[:3]] == ["g-lost", "g-lost", "g-none"]
    assert set(GRID_LEGEND) == set(LEGEND)


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed")
    pdf = tmp_path_factory.mktemp("pdf") / "report.pdf"
    pdf.write_bytes(render_pdf(render("zh-hans", for_print=True), base_url="/"))
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_report_pdf_carries_masked_id_and_amount_overdue(pdf_text):
    assert MASKED_ID in pdf_text
    assert "45211.45" in pdf_text


def test_report_pdf_carries_chinese_text(pdf_text):
    fc_list = shutil.which("fc-list")
    fonts = (
        subprocess.run([fc_list], capture_output=True, text=True).stdout
        if fc_list
        else ""
    )
    if "Noto Sans CJK" not in fonts:
        pytest.skip("no CJK font: install the Debian package fonts-noto-cjk")
    assert NAME in pdf_text
    assert "信用报告" in pdf_text
