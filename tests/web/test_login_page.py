"""The login page wears the site's look and language switch; every page has an icon,
and /favicon.ico answers for the pages that link none."""

from __future__ import annotations

import urllib.request

import pytest
from django.templatetags.static import static
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
ICON_TYPES = {"image/x-icon", "image/vnd.microsoft.icon"}


def test_login_page_when_opened_has_the_site_stylesheet_header_and_language_switch(
    client,
):
    page = client.get(LOGIN).content.decode()
    assert static("css/bureau.css") in page
    assert 'class="site-header"' in page
    assert f'action="{reverse("set_language")}"' in page
    assert '<select name="language" id="language"' in page
    assert '<option value="en"' in page and '<option value="zh-hans"' in page
    assert 'class="stacked"' in page and 'name="username"' in page


def test_login_page_when_language_switched_speaks_the_chosen_language(client):
    assert '<html lang="zh-hans">' in client.get(LOGIN).content.decode()
    assert "登录" in client.get(LOGIN).content.decode()

    response = client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    page = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in page and ">Log in</h1>" in page
    assert '<option value="en" selected>' in page

    client.post(reverse("set_language"), {"language": "zh-hans", "next": LOGIN})
    page = client.get(LOGIN).content.decode()
    assert '<html lang="zh-hans">' in page and ">登录</h1>" in page


def test_login_page_when_credentials_wrong_says_so_and_keeps_the_form(client, bob):
    response = client.post(
        LOGIN, {"username": "bob", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in page
    assert static("css/bureau.css") in page and 'name="password"' in page


def test_pages_when_rendered_link_the_svg_and_ico_icons(client, bob):
    login_page = client.get(LOGIN).content.decode()
    client.force_login(bob)
    lookup = client.get(reverse("web:lookup")).content.decode()
    for page in (login_page, lookup):
        assert f'<link rel="icon" href="{static("favicon.svg")}"' in page
        assert f'<link rel="icon" href="{static("favicon.ico")}"' in page


def test_favicon_ico_when_asked_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.ico")


@pytest.mark.django_db(transaction=True)
def test_favicon_when_fetched_from_the_server_is_an_icon(live_server):
    with urllib.request.urlopen(f"{live_server.url}/favicon.ico") as answer:
        assert answer.status == 200  # after the redirect
        assert answer.headers.get_content_type() in ICON_TYPES
        assert answer.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    with urllib.request.urlopen(live_server.url + static("favicon.svg")) as answer:
        assert answer.status == 200
        assert answer.headers.get_content_type() == "image/svg+xml"
        assert b"<svg" in answer.read()


@pytest.mark.django_db(transaction=True)
def test_login_page_in_browser_when_language_switched_then_logs_in(
    page, live_server, acme
):
    UserFactory(username="alice", role="member_admin", member=acme)
    page.goto(f"{live_server.url}{LOGIN}")
    # The switch submits a form: wait for the new page, not for the old one.
    page.select_option("#language", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("登录")
    page.select_option("#language", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in")
    assert page.locator("header.site-header").is_visible()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert LOGIN not in page.url
