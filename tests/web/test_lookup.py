"""Look up a person and read the profile: the form, misses, refusals, the profile
page (own accounts in full, others anonymised), its audit, and the same in a real
browser (at desktop and phone width, with the PDF download)."""

import re

import pytest
from django.test import Client

from bureau.audit.models import AuditEvent
from reports.models import Inquiry
from tests.factories import DEFAULT_PASSWORD, MemberFactory, UserFactory, bureau_user
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_BAD_CHECKSUM,
    csv_bytes,
    good_row,
    ingest,
)
from tests.web.conftest import screenshot

# Browser tests need the live server to see committed rows. The Django test-client
# tests below carry a plain django_db mark: the closest mark wins, so they stay fast.
pytestmark = pytest.mark.django_db(transaction=True)
fast = pytest.mark.django_db

LOOKUP = "/lookup/"
MASKED_A = "110105********002X"
OTHER_MEMBER = ("globex", "Globex Credit", "GLOBEX-77")


@pytest.fixture
def furnished(acme, globex):
    """Acme and Globex both report 张三 (ID_A); both have contributed recently."""
    ingest(acme, csv_bytes([good_row(account_no="ACME-1")]))
    ingest(
        globex,
        csv_bytes(
            [
                good_row(
                    account_no="GLOBEX-77",
                    days_overdue="100",
                    status="default",
                    amount_overdue="999.00",
                )
            ]
        ),
    )
    return acme, globex


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def form_data(**overrides) -> dict:
    data = {
        "id_type": "resident_id",
        "id_number": ID_A,
        "name": "张三",
        "purpose": "loan_approval",
        "consent_reference": "CONSENT-2026-001",
    }
    data.update(overrides)
    return data


def outside_inputs(html: str) -> str:
    """The page without its <input> elements (where typed values may appear)."""
    return re.sub(r"<input[^>]*>", "", html)


# -- The form ------------------------------------------------------------------------


@fast
def test_form_when_opened_by_analyst_labels_every_field_and_hides_compliance_purposes(
    bob,
):
    response = client_for(bob).get(LOOKUP)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("id_type", "id_number", "name", "purpose", "consent_reference"):
        assert f'<label for="id_{name}"' in html, name
    assert 'id="id_consent_reference_helptext"' in html
    assert 'value="loan_approval"' in html
    assert 'value="self_inquiry"' not in html and 'value="dispute_handling"' not in html


@fast
def test_form_when_opened_by_compliance_offers_self_inquiry(db):
    response = client_for(bureau_user("carol", "compliance")).get(LOOKUP)
    assert response.status_code == 200
    assert 'value="self_inquiry"' in response.content.decode()


@fast
def test_form_when_uploader_opens_it_is_forbidden(acme):
    uploader = UserFactory(username="ursula", role="uploader", member=acme)
    assert client_for(uploader).get(LOOKUP).status_code == 403


@fast
@pytest.mark.parametrize("purpose", ["nonsense", "self_inquiry"])
def test_lookup_when_purpose_not_allowed_shows_field_error_and_records_nothing(
    bob, furnished, purpose
):
    response = client_for(bob).post(LOOKUP, form_data(purpose=purpose))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["purpose"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Inquiry.objects.exists()


@fast
def test_lookup_when_consent_missing_shows_error_on_consent_field(bob, furnished):
    response = client_for(bob).post(LOOKUP, form_data(consent_reference=""))
    errors = response.context["form"].errors
    assert list(errors) == ["consent_reference"]
    assert errors["consent_reference"] == [
        "A consent reference is required for this purpose."
    ]
    assert 'id="id_consent_reference_error"' in response.content.decode()
    assert not Inquiry.objects.exists()


@fast
@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "en",
            "Must not contain an identity number or phone: give the reference of "
            "the signed consent.",
        ),
        ("zh-hans", "不得包含证件号码或手机号码：请填写授权书编号。"),
    ],
)
def test_lookup_when_consent_is_an_identity_number_says_so_in_the_language(
    bob, furnished, language, message
):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(bob)
    response = client.post(LOOKUP, form_data(consent_reference=f"C-{ID_B}"))
    assert response.context["form"].errors == {"consent_reference": [message]}
    assert not Inquiry.objects.exists()


@fast
def test_lookup_when_checksum_invalid_errs_without_echoing_the_number(bob, furnished):
    response = client_for(bob).post(LOOKUP, form_data(id_number=ID_BAD_CHECKSUM))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["id_number"]
    assert "check character" in errors["id_number"][0]
    html = response.content.decode()
    assert f'value="{ID_BAD_CHECKSUM}"' in html  # kept in the input the user typed
    assert html.count(ID_BAD_CHECKSUM) == 1
    assert ID_BAD_CHECKSUM not in outside_inputs(html)
    assert not Inquiry.objects.exists()


# -- Misses and refusals -------------------------------------------------------------


@fast
def test_lookup_when_unknown_number_or_wrong_name_shows_the_same_miss_page(
    bob, furnished
):
    client = client_for(bob)
    unknown = client.post(LOOKUP, form_data(id_number=ID_B))
    mismatch = client.post(LOOKUP, form_data(name="李四"))
    pages = []
    for response in (unknown, mismatch):
        assert response.status_code == 200
        html = response.content.decode()
        assert "No matching person on file" in html
        assert "recorded as an inquiry" in html
        assert ID_A not in html and ID_B not in html and MASKED_A not in html
        # Same wording either way: only the inquiry's own id and time differ.
        body = html.split('<main id="main">')[1]
        body = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "ID", body)
        pages.append(re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", "TIME", body))
    assert pages[0] == pages[1]
    inquiries = Inquiry.objects.filter(member=bob.member)
    assert inquiries.count() == 2 and not inquiries.filter(hit=True).exists()


@fast
def test_lookup_when_member_never_contributed_says_give_to_get(furnished):
    newcomer = MemberFactory(code="initech", name="Initech Loans")
    analyst = UserFactory(username="nina", role="analyst", member=newcomer)
    response = client_for(analyst).post(LOOKUP, form_data())
    assert response.status_code == 403
    html = response.content.decode()
    assert "The lookup was not made." in html and "give-to-get" in html
    assert not Inquiry.objects.exists()


@fast
def test_lookup_when_rate_limited_asks_to_wait(
    bob, furnished, settings, fresh_rate_window
):
    settings.BUREAU_QUERY_RATE_PER_USER = "1/minute"
    client = client_for(bob)
    assert client.post(LOOKUP, form_data()).status_code == 302
    response = client.post(LOOKUP, form_data())
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert "too many lookups" in response.content.decode()


# -- A hit and its profile page ------------------------------------------------------


@fast
def test_lookup_when_found_redirects_to_profile_with_own_accounts_and_anonymised_others(
    bob, furnished
):
    client = client_for(bob)
    response = client.post(LOOKUP, form_data())
    inquiry = Inquiry.objects.get(member=bob.member)
    assert inquiry.hit
    assert response.status_code == 302
    assert response["Location"] == f"/lookup/{inquiry.pk}/"

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert MASKED_A in html and ID_A not in html
    assert "2,199.50" in html  # total amount overdue (1,200.50 + 999.00)
    assert "2 / 2" in html  # platforms with overdue / total
    assert "Blacklisted" in html and 'data-clause="days_overdue"' in html
    assert "ACME-1" in html and "Your platform" in html and "Platform A" in html
    for secret in OTHER_MEMBER:
        assert secret not in html, secret
    assert html.count('<ol class="grid">') == 2
    assert f'/api/v1/queries/{inquiry.pk}/report/?format=pdf"' in html
    assert f'/api/v1/queries/{inquiry.pk}/report/?format=html"' in html


@fast
def test_profile_when_read_is_audited_as_web_view(bob, furnished):
    client = client_for(bob)
    client.post(LOOKUP, form_data())
    inquiry = Inquiry.objects.get(member=bob.member)
    client.get(f"/lookup/{inquiry.pk}/")
    event = AuditEvent.objects.get(action="report.view", object_id=str(inquiry.pk))
    assert event.actor_user_id == bob.pk and event.member_id == bob.member_id
    assert event.details["format"] == "web"


@fast
def test_profile_when_another_members_inquiry_is_not_found(bob, charlie, furnished):
    client_for(bob).post(LOOKUP, form_data())
    inquiry = Inquiry.objects.get(member=bob.member)
    response = client_for(charlie).get(f"/lookup/{inquiry.pk}/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="report.view").exists()


@fast
def test_profile_when_inquiry_was_a_miss_is_not_found(bob, furnished):
    client = client_for(bob)
    client.post(LOOKUP, form_data(id_number=ID_B))
    inquiry = Inquiry.objects.get(member=bob.member)
    assert client.get(f"/lookup/{inquiry.pk}/").status_code == 404


@fast
def test_lookup_when_compliance_handles_a_dispute_needs_no_consent(furnished):
    carol = bureau_user("carol", "compliance")
    client = client_for(carol)
    response = client.post(
        LOOKUP, form_data(purpose="dispute_handling", consent_reference="")
    )
    inquiry = Inquiry.objects.get(user=carol)
    assert inquiry.member is None and inquiry.hit
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


@fast
def test_report_api_when_asked_with_the_web_session_answers(bob, furnished):
    client = client_for(bob)
    client.post(LOOKUP, form_data())
    inquiry = Inquiry.objects.get(member=bob.member)
    response = client.get(f"/api/v1/queries/{inquiry.pk}/report/?format=html")
    assert response.status_code == 200 and MASKED_A in response.content.decode()


# -- In a browser --------------------------------------------------------------------


def test_browser_when_analyst_looks_up_sees_profile_grid_and_downloads_pdf(
    page, login, live_server, furnished
):
    acme, _ = furnished
    UserFactory(username="bob", role="analyst", member=acme)
    login("bob", DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}{LOOKUP}")
    page.select_option("#id_id_type", "resident_id")
    page.fill("#id_id_number", ID_A)
    page.fill("#id_name", "张三")
    page.select_option("#id_purpose", "loan_approval")
    page.fill("#id_consent_reference", "CONSENT-2026-001")
    screenshot(page, "fixture-lookup-form")
    page.click("form.lookup-form button[type=submit]")
    page.wait_for_url(re.compile(r"/lookup/[0-9a-f-]{36}/$"))

    assert page.locator("[data-testid=masked-id]").inner_text() == MASKED_A
    assert page.locator("#blacklist.bad").is_visible()
    assert page.locator("#blacklist li").count() == 3
    assert page.locator("ol.grid").count() == 2
    assert page.locator("ol.grid").first.locator("li").count() == 24
    assert page.locator("ul.legend li").count() >= 10
    text = page.locator("main").inner_text()
    assert all(secret not in text for secret in OTHER_MEMBER)
    screenshot(page, "fixture-profile")

    with page.expect_download() as download_info:
        page.click("#download-pdf")
    with open(download_info.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    href = page.get_attribute("#printable-page", "href")
    printable = page.request.get(f"{live_server.url}{href}")
    assert printable.ok and "text/html" in printable.headers["content-type"]


def test_browser_when_phone_width_profile_wraps_and_tables_scroll(
    page, login, live_server, furnished
):
    acme, _ = furnished
    UserFactory(username="bob", role="analyst", member=acme)
    login("bob", DEFAULT_PASSWORD)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}{LOOKUP}")
    page.fill("#id_id_number", ID_A)
    page.fill("#id_name", "张三")
    page.select_option("#id_purpose", "loan_approval")
    page.fill("#id_consent_reference", "CONSENT-2026-001")
    page.locator("#id_consent_reference").press("Enter")  # keyboard submits
    page.wait_for_url(re.compile(r"/lookup/[0-9a-f-]{36}/$"))

    # The page itself never scrolls sideways: cards wrap, wide tables scroll inside.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    cards = page.locator(".cards .card")
    first, second, third = (cards.nth(i).bounding_box() for i in range(3))
    assert first["y"] == second["y"] and third["y"] > first["y"]  # two a row
    screenshot(page, "fixture-profile-phone")
