"""A newcomer's first hour, in a real browser, on the demo's own data (what
`make demo` seeds): log in as each demo role, look a demo person up, open the
report and its PDF, upload a file, follow it to the end and open its errors, in
zh-hans and in en. Every word checked is the page's language."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from bureau.demo_data import persons as demo_persons
from tests.records.helpers import ID_BAD_CHECKSUM, csv_bytes, good_row
from tests.web.conftest import LOCAL_HOSTS, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "newcomer-demo-password"
LANDING = {  # where each demo role starts (web/views/home.py)
    "admin": "/dashboard/",
    "compliance": "/dashboard/",
    "auditor": "/dashboard/",
    "anxin_member_admin": "/keys/",
    "anxin_uploader": "/batches/",
    "anxin_analyst": "/lookup/",
}
WORDS = {
    "zh-hans": {
        "log_in": "登录",
        "log_out": "退出登录",
        "upload": "上传文件",
        "finished": "已完成（有错误）",
        "checksum": "校验位",
    },
    "en": {
        "log_in": "Log in",
        "log_out": "Log out",
        "upload": "Upload a file",
        "finished": "Completed with errors",
        "checksum": "check character",
    },
}


@pytest.fixture
def demo(monkeypatch, settings):
    monkeypatch.setenv("BUREAU_DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", verbosity=0)
    return dict(demo_persons.showcase(demo_persons.persons_on_file()))


def _context(browser, language: str):
    context = browser.new_context(
        locale=language, viewport={"width": 1280, "height": 900}
    )
    context.outside = []

    def guard(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            return route.continue_()
        context.outside.append(url)
        return route.abort()

    context.route("**/*", guard)
    return context


def _log_in(page, base: str, username: str, words: dict) -> None:
    page.goto(f"{base}/accounts/login/")
    assert page.locator("#language").count() == 1  # the switch, on the login page
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=words["log_in"]).click()
    page.wait_for_load_state("networkidle")


def _log_out(page, words: dict) -> None:
    page.get_by_role("button", name=words["log_out"]).click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_newcomer_path_when_walked_in_a_browser_works_in_the_language(
    chromium_browser, live_server, celery_worker, demo, language
):
    words = WORDS[language]
    context = _context(chromium_browser, "zh-CN" if language == "zh-hans" else "en")
    page = context.new_page()
    page.set_default_timeout(20_000)
    base = live_server.url

    # The README's pictures are these pages, on the demo's data, in zh-hans (the
    # default language): `make screenshots` copies them to docs/screenshots.
    def picture(name: str) -> None:
        if language == "zh-hans":
            screenshot(page, name)

    for username, start in LANDING.items():
        _log_in(page, base, username, words)
        assert urlparse(page.url).path == start, (username, page.url)
        assert page.locator("html").get_attribute("lang") == language
        if username == "admin":
            picture("dashboard")
        if username == "anxin_member_admin":
            page.fill("input[name=name]", "nightly upload")
            page.check("input[name=scopes][value=upload]")
            page.fill("input[name=expires_in_days]", "90")
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(re.compile(r"/keys/created/$"))
            assert page.input_value("#new-key").startswith("bk_")
            picture("key-created")
            # Disputes are answered by the member that furnished the record.
            page.goto(f"{base}/disputes/")
            assert page.locator("main form").count() >= 1  # an open one to answer
            picture("disputes")
        _log_out(page, words)

    # The analyst looks a demo person up and opens the report and its PDF.
    person = demo["multi"].person
    _log_in(page, base, "anxin_analyst", words)
    page.select_option("#id_id_type", person.id_type)
    page.fill("#id_id_number", person.id_number)
    page.fill("#id_name", person.name)
    page.select_option("#id_purpose", "loan_approval")
    page.fill("#id_consent_reference", "C-NEWCOMER-1")
    picture("lookup-form")
    page.click("form.lookup-form button[type=submit]")
    page.wait_for_url(re.compile(r"/lookup/[0-9a-f-]{36}/$"))
    assert person.id_number not in page.content()
    cells = page.locator("ol.grid li")
    assert cells.count() >= 24
    classes = cells.evaluate_all("els => els.map(e => e.className)")
    assert sum(1 for c in classes if c not in ("", "g-none")) >= 12, classes[:24]
    picture("profile")
    if language == "zh-hans":
        page.set_viewport_size({"width": 375, "height": 800})
        picture("profile-phone")
        page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as download:
        page.click("#download-pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    printable = page.request.get(base + page.get_attribute("#printable-page", "href"))
    assert printable.ok and "text/html" in printable.headers["content-type"]
    _log_out(page, words)

    # The uploader furnishes a file with one bad row and follows it to the end.
    _log_in(page, base, "anxin_uploader", words)
    rows = [good_row(account_no=f"NEW-{language}-{i}") for i in range(40)]
    rows.insert(7, good_row(account_no=f"BAD-{language}", id_number=ID_BAD_CHECKSUM))
    page.get_by_text(words["upload"]).first.click()
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "new.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}],
    )
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    picture("batch-progress")
    page.get_by_text(words["finished"]).first.wait_for(timeout=60_000)
    errors = page.locator("#batch-errors table")
    errors.wait_for()
    picture("batch-errors")
    text = errors.inner_text()
    assert "invalid_checksum" in text and words["checksum"] in text
    assert ID_BAD_CHECKSUM not in page.content()
    page.goto(f"{base}/batches/")
    picture("uploads-list")
    _log_out(page, words)

    outside = list(context.outside)
    context.close()
    assert not outside, f"requests left 127.0.0.1: {outside}"
