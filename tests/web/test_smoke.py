"""The site in a real browser: login, language switch, nothing loaded from elsewhere."""

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_when_credentials_right_reaches_home_and_logout_works(
    page, login, live_server, acme
):
    UserFactory(username="alice", role="member_admin", member=acme)
    login("alice", DEFAULT_PASSWORD)
    assert page.url.startswith(live_server.url) and "/accounts/login" not in page.url
    assert page.locator("text=alice").first.is_visible()
    screenshot(page, "home")
    page.click("text=Log out") if page.locator("text=Log out").count() else page.click(
        "text=退出"
    )
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url


def test_language_switch_when_english_chosen_shows_english_labels(
    page, login, live_server, acme
):
    UserFactory(username="bob", role="analyst", member=acme)
    login("bob", DEFAULT_PASSWORD)
    page.select_option("#language", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    page.select_option("#language", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
