"""The furnisher's disputes page: Acme's uploader and member admin see and answer
Acme's disputes (the subject's claim included); analysts, bureau staff and other
members do not. Answers go through dispute_answer, as over the API."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bureau.audit.models import AuditEvent
from bureau.records.models import Dispute, Record
from members.models import Role
from tests.factories import DEFAULT_PASSWORD, UserFactory, bureau_user
from tests.web.conftest import screenshot
from tests.web.test_dashboards import make_dispute, make_record

pytestmark = pytest.mark.django_db
DISPUTES = "/disputes/"


def answer_url(dispute) -> str:
    return f"/disputes/{dispute.pk}/answer/"


def answer_data(dispute, record, **changes) -> dict:
    """The form as the page sends it: the values on file, with `changes`."""
    on_file = {
        "role": record.role,
        "loan_type": record.loan_type,
        "currency": record.currency,
        "principal": str(record.principal),
        "balance": str(record.balance),
        "amount_overdue": str(record.amount_overdue),
        "days_overdue": str(record.days_overdue),
        "status": record.status,
        "classification": record.classification,
        "opened_on": record.opened_on.isoformat(),
        "due_on": record.due_on.isoformat() if record.due_on else "",
        "first_delinquency_on": record.first_delinquency_on.isoformat(),
        "as_of": record.as_of.isoformat(),
        "payment_history": "",
        "note": "",
    }
    on_file.update(changes)
    return {f"d{dispute.pk}-{name}": value for name, value in on_file.items()}


def flat(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def client(client):
    """Pages in English, whatever the catalogues say."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def uploader(acme):
    return UserFactory(username="uma", role=Role.UPLOADER, member=acme)


@pytest.fixture
def acme_record(acme):
    return make_record(acme, "ACME-1")


@pytest.fixture
def dispute(acme_record):
    return make_dispute(
        acme_record, due_in=timedelta(days=15), claim="Paid in full in March."
    )


# -- who may see it ---------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.UPLOADER, Role.MEMBER_ADMIN])
def test_disputes_page_when_furnisher_role_returns_200(client, acme, role):
    client.force_login(UserFactory(username="f", role=role, member=acme))
    assert client.get(DISPUTES).status_code == 200


def test_disputes_page_when_analyst_returns_403(client, bob, dispute):
    client.force_login(bob)
    assert client.get(DISPUTES).status_code == 403
    response = client.post(answer_url(dispute), {f"d{dispute.pk}-outcome": "confirmed"})
    assert response.status_code == 403
    assert Dispute.objects.get(pk=dispute.pk).status == "open"


@pytest.mark.parametrize("role", [Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR])
def test_disputes_page_when_bureau_staff_returns_403(client, role):
    client.force_login(bureau_user("staff", role))
    assert client.get(DISPUTES).status_code == 403


def test_disputes_page_when_anonymous_redirects_to_login(client):
    response = client.get(DISPUTES)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_disputes_page_when_other_members_dispute_does_not_show_it(
    client, charlie, globex, dispute
):
    mine = make_dispute(make_record(globex, "GLX-9"), due_in=timedelta(days=4))
    client.force_login(charlie)
    html = flat(client.get(DISPUTES))
    assert "GLX-9" in html and f'id="dispute-{mine.pk}"' in html
    assert "ACME-1" not in html and "Paid in full" not in html


def test_answer_when_other_members_dispute_returns_404_and_changes_nothing(
    client, charlie, dispute
):
    client.force_login(charlie)
    response = client.post(
        answer_url(dispute), answer_data(dispute, dispute.record, outcome="confirmed")
    )
    assert response.status_code == 404
    assert Dispute.objects.get(pk=dispute.pk).status == "open"


def test_answer_when_get_returns_405(client, uploader, dispute):
    client.force_login(uploader)
    assert client.get(answer_url(dispute)).status_code == 405


# -- what it shows ----------------------------------------------------------------


def test_disputes_page_when_open_shows_claim_account_and_days_left(
    client, uploader, dispute
):
    client.force_login(uploader)
    response = client.get(DISPUTES)
    html = flat(response)
    assert "ACME-1" in html and "Paid in full in March." in html
    assert dispute.subject.name in html and dispute.subject.id_masked in html
    (shown,) = response.context["current"]
    assert shown.days_left == 15 and not shown.due_soon
    assert '<span class="badge ok">15 days left</span>' in html
    event = AuditEvent.objects.get(action="dispute.list")
    assert event.details["shown"] == 1 and "claim" not in str(event.details)


@pytest.mark.parametrize(
    ("due_in", "days_left", "red"),
    [
        (timedelta(days=2, hours=1), 3, True),  # rounded up, and red at ≤ 3
        (timedelta(days=3), 3, True),
        (timedelta(days=3, minutes=1), 4, False),
        (timedelta(minutes=5), 1, True),
    ],
)
def test_disputes_page_when_deadline_near_counts_days_left_and_marks_red(
    client, uploader, acme_record, due_in, days_left, red
):
    make_dispute(acme_record, due_in=due_in)
    client.force_login(uploader)
    response = client.get(DISPUTES)
    (shown,) = response.context["current"]
    assert shown.days_left == days_left and shown.due_soon is red
    cell = re.search(r'<td class="days-left">(.*?)</td>', flat(response)).group(1)
    assert ("badge bad" in cell) is red and f"{days_left} day" in cell


def test_disputes_page_when_overdue_or_answered_lists_them_in_second_table(
    client, uploader, acme, acme_record
):
    now = timezone.now()
    overdue = make_dispute(
        acme_record, due_in=-timedelta(days=2), opened_ago=timedelta(days=22), now=now
    )
    answered = make_dispute(
        make_record(acme, "ACME-2"),
        due_in=timedelta(days=5),
        status=Dispute.Status.CORRECTED,
        answered_at=now,
        answer_note="Balance fixed.",
    )
    client.force_login(uploader)
    response = client.get(DISPUTES)
    assert response.context["current"] == []
    assert [d.pk for d in response.context["overdue"]] == [overdue.pk]
    assert [d.pk for d in response.context["closed"]] == [answered.pk]
    closed_table = flat(response).split('id="closed-disputes"')[1]
    assert "ACME-1" in closed_table and "Overdue" in closed_table
    assert "ACME-2" in closed_table and "Balance fixed." in closed_table
    # an overdue dispute can still be answered (that lifts the suppression)
    assert f'action="/disputes/{overdue.pk}/answer/"' in flat(response)
    assert f'action="/disputes/{answered.pk}/answer/"' not in flat(response)


def test_disputes_page_when_more_disputes_runs_no_more_queries(client, uploader, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DISPUTES).status_code == 200
        return len(captured)

    client.force_login(uploader)
    make_dispute(make_record(acme, "A-0"), due_in=timedelta(days=9))
    one = queries_for_page()
    for i in range(1, 5):
        make_dispute(make_record(acme, f"A-{i}"), due_in=timedelta(days=i))
    make_dispute(make_record(acme, "A-9"), due_in=-timedelta(days=1))
    assert queries_for_page() == one


# -- answering --------------------------------------------------------------------


def test_answer_when_confirmed_marks_dispute_answered(client, uploader, dispute):
    client.force_login(uploader)
    response = client.post(
        answer_url(dispute),
        answer_data(dispute, dispute.record, outcome="confirmed", note="Loan is ours."),
        follow=True,
    )
    assert response.redirect_chain == [(DISPUTES, 302)]
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answered_by, dispute.answer_note) == (
        "confirmed",
        uploader,
        "Loan is ours.",
    )
    assert dispute.answered_at is not None
    assert "answered" in flat(response)
    assert AuditEvent.objects.filter(action="dispute.confirmed").count() == 1


def test_answer_when_corrected_writes_new_values_to_record(client, alice, dispute):
    client.force_login(alice)  # the member admin may answer too
    response = client.post(
        answer_url(dispute),
        answer_data(dispute, dispute.record, outcome="corrected", balance="7000.00"),
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "corrected"
    record = Record.objects.get(pk=dispute.record_id)
    assert record.balance == Decimal("7000.00")
    assert record.principal == Decimal("10000.00")  # untouched


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"principal": "abc"}, "principal", "decimal"),
        ({"as_of": "31/12/2024"}, "as_of", "yyyy-mm-dd"),
        ({"days_overdue": "-3"}, "days_overdue", ""),
    ],
)
def test_answer_when_corrected_value_bad_shows_field_error_and_saves_nothing(
    client, uploader, dispute, changes, field, message
):
    record_before = Record.objects.values().get(pk=dispute.record_id)
    client.force_login(uploader)
    response = client.post(
        answer_url(dispute),
        answer_data(dispute, dispute.record, outcome="corrected", **changes),
    )
    assert response.status_code == 400
    form = response.context["bound"]
    assert list(form.errors) == [field]
    assert message in " ".join(form.errors[field]).lower()
    html = flat(response)
    # the error sits by its field, which points to it
    assert f'id="id_d{dispute.pk}-{field}_error"' in html
    assert f'aria-describedby="id_d{dispute.pk}-{field}_error"' in html
    assert 'role="alert"' in html and "<details open>" in html
    # the value typed is kept for correcting
    assert f'value="{changes[field]}"' in html
    assert Dispute.objects.get(pk=dispute.pk).status == "open"
    assert Record.objects.values().get(pk=dispute.record_id) == record_before
    assert not AuditEvent.objects.filter(action__startswith="dispute.corr").exists()


def test_answer_when_corrected_without_changes_asks_for_one(client, uploader, dispute):
    client.force_login(uploader)
    response = client.post(
        answer_url(dispute), answer_data(dispute, dispute.record, outcome="corrected")
    )
    assert response.status_code == 400
    assert "Change at least one value" in flat(response)
    assert Dispute.objects.get(pk=dispute.pk).status == "open"


def test_answer_when_confirmed_but_values_changed_refuses(client, uploader, dispute):
    client.force_login(uploader)
    response = client.post(
        answer_url(dispute),
        answer_data(dispute, dispute.record, outcome="confirmed", balance="1.00"),
    )
    assert response.status_code == 400
    assert "choose “Corrected”" in flat(response)
    assert Dispute.objects.get(pk=dispute.pk).status == "open"


def test_answer_when_no_outcome_chosen_shows_outcome_error(client, uploader, dispute):
    client.force_login(uploader)
    response = client.post(answer_url(dispute), answer_data(dispute, dispute.record))
    assert response.status_code == 400
    assert list(response.context["bound"].errors) == ["outcome"]


def test_answer_when_already_answered_says_so_and_changes_nothing(
    client, uploader, dispute
):
    Dispute.objects.filter(pk=dispute.pk).update(
        status="confirmed", answered_at=timezone.now(), answer_note="first"
    )
    client.force_login(uploader)
    response = client.post(
        answer_url(dispute),
        answer_data(dispute, dispute.record, outcome="confirmed", note="second"),
        follow=True,
    )
    assert "already answered" in flat(response)
    assert Dispute.objects.get(pk=dispute.pk).answer_note == "first"


# -- in a browser -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_disputes_in_browser_when_uploader_confirms_dispute_it_moves_to_answered(
    page, login, live_server, acme
):
    UserFactory(username="uma", role=Role.UPLOADER, member=acme)
    urgent = make_dispute(
        make_record(acme, "ACME-7731"),
        due_in=timedelta(days=2, hours=3),
        claim="这笔贷款已于三月全部还清，逾期记录有误。",
    )
    later = make_dispute(
        make_record(acme, "ACME-1024"),
        due_in=timedelta(days=14),
        claim="I never opened this account: my ID card was stolen in 2023.",
    )

    login("uma", DEFAULT_PASSWORD)
    page.click("a[href='/disputes/']")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#open-disputes tbody tr")
    assert rows.count() == 2
    assert "badge bad" in rows.first.locator(".days-left span").get_attribute("class")

    form = page.locator(f"#dispute-{later.pk} form")
    form.locator("input[value=confirmed]").check()
    form.locator("textarea").fill("The account is ours; the ID was checked in branch.")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    assert page.locator(".message.success").is_visible()
    assert page.locator("#closed-disputes").get_by_text("ACME-1024").is_visible()
    assert page.locator("#open-disputes tbody tr").count() == 1
    later.refresh_from_db()
    assert later.status == "confirmed"
    assert Dispute.objects.get(pk=urgent.pk).status == "open"
    screenshot(page, "fixture-disputes")
