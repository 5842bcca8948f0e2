"""The bureau dashboard: who may see it, and that every figure is the seeded data's.

Acme and Globex furnish; Inquiries, Alerts and Disputes are created with explicit
timestamps relative to one `now`, so the per-day positions are known.
"""

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bureau.audit.models import Alert
from bureau.records.models import Batch, Dispute, Record, Subject
from members.models import Role
from reports.models import Inquiry
from tests.factories import DEFAULT_PASSWORD, MemberFactory, UserFactory, bureau_user
from tests.web.conftest import screenshot
from web import selectors_dashboards as selectors

pytestmark = pytest.mark.django_db
DASHBOARD = "/dashboard/"
_seq = itertools.count(1)


# -- seeding helpers (also used by test_disputes_pages) ---------------------------


def make_batch(member, *, finished_at, total=0, accepted=0, rejected=0, **kwargs):
    n = next(_seq)
    return Batch.objects.create(
        member=member,
        file=f"batches/test/{n}.csv",
        size_bytes=100,
        sha256=f"{n:064x}",
        format="csv",
        status=kwargs.pop("status", Batch.Status.COMPLETED),
        rows_total=total,
        rows_accepted=accepted,
        rows_rejected=rejected,
        received_at=(finished_at or timezone.now()) - timedelta(minutes=5),
        finished_at=finished_at,
        **kwargs,
    )


def make_subject(name="张三"):
    n = next(_seq)
    return Subject.objects.create(
        id_type="resident_id",
        id_hash=f"{n:064x}",
        id_masked=f"110105********{n % 10000:04d}",
        name=name,
        name_as_of=timezone.localdate(),
    )


def make_record(member, account_no="ACC-1", *, subject=None) -> Record:
    """A record as an upload would leave it (values that pass validation)."""
    today = timezone.localdate()
    return Record.objects.create(
        member=member,
        subject=subject or make_subject(),
        account_no=account_no,
        role="borrower",
        loan_type="consumer",
        currency="CNY",
        principal=Decimal("10000.00"),
        balance=Decimal("8000.00"),
        amount_overdue=Decimal("1200.50"),
        days_overdue=45,
        status="overdue",
        classification="special_mention",
        opened_on=today - timedelta(days=400),
        due_on=today + timedelta(days=300),
        first_delinquency_on=today - timedelta(days=75),
        as_of=today - timedelta(days=30),
        row_hash="0" * 32,
    )


def make_dispute(record, *, due_in, opened_ago=timedelta(days=5), now=None, **kw):
    """An open dispute due `due_in` from now (negative: overdue)."""
    now = now or timezone.now()
    return Dispute.objects.create(
        record=record,
        subject_id=record.subject_id,
        member_id=record.member_id,
        claim=kw.pop("claim", "I never took this loan."),
        opened_at=now - opened_ago,
        due_at=now + due_in,
        **kw,
    )


def make_inquiry(member, *, at, hit):
    subject = make_subject() if hit else None
    return Inquiry.objects.create(
        member=member,
        subject=subject,
        id_type="resident_id",
        id_hash="a" * 64,
        id_masked="110105********002X",
        name_hash="b" * 64,
        purpose="loan_approval",
        hit=hit,
        created_at=at,
    )


def make_alert(member, rule, severity, *, at, status=Alert.Status.OPEN):
    return Alert.objects.create(
        rule=rule,
        member=member,
        severity=severity,
        window_start=at - timedelta(hours=1, seconds=next(_seq)),
        window_end=at,
        status=status,
        handled_at=None if status == Alert.Status.OPEN else at,
        created_at=at,
    )


# -- fixtures ---------------------------------------------------------------------


@pytest.fixture
def now(time_machine):
    """Local noon today, so "a few hours ago" is today whatever hour the suite
    runs at (between midnight and 2 a.m. it was yesterday, and tests failed)."""
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    time_machine.move_to(noon, tick=True)
    return timezone.now()


@pytest.fixture
def seeded(acme, globex, now):
    """Known figures; see the assertions for what each row contributes."""
    day = timedelta(days=1)
    make_batch(acme, finished_at=now - 2 * day, total=110, accepted=100, rejected=10)
    make_batch(
        acme,
        finished_at=now - 5 * day,
        total=60,
        accepted=50,
        rejected=10,
        status=Batch.Status.COMPLETED_WITH_ERRORS,
    )
    make_batch(  # refused: counts for the reject rate, furnished nothing
        acme, finished_at=now - day, total=20, rejected=20, status=Batch.Status.FAILED
    )
    make_batch(  # a trial run: neither
        acme, finished_at=now - day, total=1000, accepted=1000, validate_only=True
    )
    make_batch(acme, finished_at=now - 40 * day, total=500, accepted=500)  # 90 d only
    make_batch(acme, finished_at=None, status=Batch.Status.PROCESSING)
    make_batch(globex, finished_at=now - 2 * day, total=40, accepted=30, rejected=10)

    for hit in (True, True, False):
        make_inquiry(acme, at=now - day, hit=hit)
    make_inquiry(None, at=now - day, hit=True)  # compliance, for a self-report
    make_inquiry(globex, at=now - 3 * day, hit=False)
    make_inquiry(acme, at=now - 45 * day, hit=True)  # outside 30 days

    make_alert(acme, "volume_spike", "high", at=now - 3 * day)
    make_alert(globex, "enumeration", "medium", at=now - 2 * day)
    make_alert(acme, "enumeration", "high", at=now - day)
    make_alert(
        acme, "purpose_drift", "low", at=now - day, status=Alert.Status.ACKNOWLEDGED
    )

    due_soon = make_dispute(
        make_record(acme, "ACME-1"), due_in=timedelta(days=2, hours=1), now=now
    )
    overdue = make_dispute(
        make_record(acme, "ACME-2"),
        due_in=-5 * day,
        opened_ago=25 * day,
        now=now,
    )
    make_dispute(  # answered: not open
        make_record(acme, "ACME-3"),
        due_in=10 * day,
        now=now,
        status=Dispute.Status.CONFIRMED,
        answered_at=now,
    )
    later = make_dispute(make_record(globex, "GLX-1"), due_in=10 * day, now=now)
    return {"due_soon": due_soon, "overdue": overdue, "later": later}


@pytest.fixture
def client(client):
    """Pages in English, whatever the catalogues say."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# -- permissions ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ANALYST, Role.UPLOADER, Role.MEMBER_ADMIN])
def test_dashboard_when_member_user_returns_403(client, acme, role):
    client.force_login(UserFactory(username="m", role=role, member=acme))
    assert client.get(DASHBOARD).status_code == 403


@pytest.mark.parametrize("role", [Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR])
def test_dashboard_when_bureau_staff_returns_200(client, role):
    client.force_login(bureau_user("staff", role))
    assert client.get(DASHBOARD).status_code == 200


def test_dashboard_when_anonymous_redirects_to_login(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_home_when_bureau_staff_starts_at_dashboard(client):
    client.force_login(bureau_user("staff", Role.AUDITOR))
    assert client.get("/")["Location"] == DASHBOARD


# -- the figures ------------------------------------------------------------------


def test_records_furnished_when_seeded_counts_written_batches_per_member_and_day(
    seeded, now
):
    period = selectors.period_of(30, now=now)
    acme, globex = selectors.records_furnished(period)
    assert (acme.name, acme.total, globex.name, globex.total) == (
        "Acme Lending",
        150,
        "Globex Credit",
        30,
    )
    assert len(acme.per_day) == 30 and period.dates[-1] == timezone.localdate(now)
    assert acme.per_day[-3] == 100 and acme.per_day[-6] == 50
    assert sum(acme.per_day) - 150 == 0  # failed, trial and unfinished add nothing
    assert globex.per_day[-3] == 30


@pytest.mark.parametrize(("days", "acme_total"), [(7, 150), (30, 150), (90, 650)])
def test_records_furnished_when_period_changes_follows_it(
    seeded, now, days, acme_total
):
    data = selectors.dashboard(days=days, now=now)
    assert data.furnished[0].total == acme_total
    assert len(data.period.dates) == days


def test_reject_rates_when_seeded_divide_rejected_by_total_rows(seeded, now):
    rates = selectors.reject_rates(selectors.period_of(30, now=now))
    assert [(r.name, r.rows_total, r.rows_rejected) for r in rates] == [
        ("Globex Credit", 40, 10),  # 25 %: highest first
        ("Acme Lending", 190, 40),  # 110 + 60 + 20 (failed); the trial run left out
    ]
    assert rates[0].rate == 25.0 and rates[1].rate == pytest.approx(100 * 40 / 190)
    data = selectors.dashboard(days=30, now=now)
    assert data.reject_rate == pytest.approx(100 * 50 / 230)


def test_query_volume_when_seeded_counts_queries_and_hits_per_day(seeded, now):
    period = selectors.period_of(30, now=now)
    volume = selectors.query_volume(period)
    assert (volume.queries[-2], volume.hits[-2]) == (4, 3)
    assert (volume.queries[-4], volume.hits[-4]) == (1, 0)
    assert (volume.total, volume.total_hits, volume.hit_rate) == (5, 3, 60.0)
    members = selectors.queries_by_member(period)
    assert [(m.name, m.queries, m.hits) for m in members] == [
        ("Acme Lending", 3, 2),
        ("", 1, 1),
        ("Globex Credit", 1, 0),
    ]


def test_open_alerts_when_seeded_counts_open_ones_by_rule_and_severity(seeded):
    alerts = selectors.open_alerts()
    assert alerts.counts == {
        ("volume_spike", "high"): 1,
        ("enumeration", "medium"): 1,
        ("enumeration", "high"): 1,
    }
    assert alerts.by_rule() == {"volume_spike": 1, "enumeration": 2}
    assert [a.rule for a in alerts.latest] == [
        "enumeration",
        "enumeration",
        "volume_spike",
    ]  # newest first; the acknowledged one left out


def test_open_disputes_when_seeded_group_by_member_with_days_left(seeded, now):
    disputes = selectors.open_disputes(now=now)
    acme, globex = disputes.by_member
    assert (acme.name, acme.open, acme.overdue, acme.due_soon, acme.days_left) == (
        "Acme Lending",
        2,
        1,
        1,
        0,
    )
    assert (globex.open, globex.overdue, globex.due_soon, globex.days_left) == (
        1,
        0,
        0,
        10,
    )
    assert [(d.pk, d.days_left) for d in disputes.soonest] == [
        (seeded["overdue"].pk, 0),
        (seeded["due_soon"].pk, 3),  # 2 days 1 hour: rounded up
        (seeded["later"].pk, 10),
    ]
    assert (disputes.total, disputes.overdue, disputes.due_soon) == (3, 1, 1)


def test_dashboard_selectors_when_many_members_run_a_fixed_number_of_queries(
    seeded, now, django_assert_num_queries
):
    for i in range(5):
        member = MemberFactory(code=f"extra{i}")
        make_batch(member, finished_at=now - timedelta(days=i), total=9, accepted=9)
        make_dispute(make_record(member, f"X-{i}"), due_in=timedelta(days=i + 1))
        make_alert(member, "volume_spike", "low", at=now)
    with django_assert_num_queries(8):
        data = selectors.dashboard(days=30, now=now)
        # what the template reads of the latest alerts and soonest disputes
        [(a.member.name, a.api_key) for a in data.alerts.latest]
        [(d.member.name, d.record.account_no) for d in data.disputes.soonest]
    assert len(data.furnished) == 7


# -- the page ---------------------------------------------------------------------


def test_dashboard_page_when_seeded_names_members_and_shows_charts_with_tables(
    client, seeded
):
    client.force_login(bureau_user("admin", Role.BUREAU_ADMIN))
    response = client.get(DASHBOARD)
    html = response.content.decode()
    assert response.context["days"] == 30
    data = response.context["data"]
    assert (data.records_total, data.queries.total, data.alerts.total) == (180, 5, 3)
    assert (data.disputes.total, data.disputes.overdue) == (3, 1)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 6
    assert html.count('role="img"') == 6
    # every chart comes with its numbers
    assert html.count("<details>") == 6
    flat = re.sub(r"\s+", " ", html)
    assert '<th scope="row">Acme Lending</th><td class="num">150</td>' in flat
    assert '<th scope="row">Globex Credit</th><td class="num">40</td>' in flat
    assert "25%" in flat and "21.1%" in flat  # reject rates
    assert "Acme Lending: 150" in flat  # the bar chart's description
    cards = dict(
        (str(label), value) for label, value, _tone in response.context["cards"]
    )
    assert any(value == "180" for value in cards.values())
    assert any(value == "60%" for value in cards.values())  # hit rate


@pytest.mark.parametrize(
    ("param", "days"), [("7", 7), ("90", 90), ("abc", 30), ("5", 30)]
)
def test_dashboard_page_when_period_given_uses_it_or_falls_back_to_30(
    client, seeded, param, days
):
    client.force_login(bureau_user("admin", Role.BUREAU_ADMIN))
    response = client.get(DASHBOARD, {"days": param})
    assert response.status_code == 200 and response.context["days"] == days
    assert len(response.context["data"].period.dates) == days
    assert f'href="?days={days}" class="btn" aria-current="page"' in (
        response.content.decode()
    )


def test_dashboard_page_when_many_members_draws_five_lines_and_the_rest_summed(
    client, now
):
    for i in range(7):
        member = MemberFactory(code=f"m{i}", name=f"Member {i}")
        make_batch(member, finished_at=now - timedelta(hours=2), total=i + 1,
                   accepted=i + 1)  # fmt: skip
    client.force_login(bureau_user("admin", Role.BUREAU_ADMIN))
    response = client.get(DASHBOARD)
    names = response.context["series_names"]
    assert names == [f"Member {i}" for i in (6, 5, 4, 3, 2)] + ["Other members"]
    today = response.context["furnished_rows"][-1]
    assert today["values"] == [7, 6, 5, 4, 3, 1 + 2] and today["total"] == 28


def test_dashboard_page_when_member_names_long_shows_them_whole(client, now):
    names = [
        "Umbrella Microloans and Consumer Finance Company",
        "某某消费金融股份有限公司第一分公司",
    ]
    for i, name in enumerate(names):
        member = MemberFactory(code=f"long{i}", name=name)
        make_batch(member, finished_at=now - timedelta(hours=2), total=10 + i,
                   accepted=9 + i, rejected=1)  # fmt: skip
    client.force_login(bureau_user("admin", Role.BUREAU_ADMIN))
    html = client.get(DASHBOARD).content.decode()
    assert "…" not in html  # no name cut off anywhere on the page
    for chart in ("chart-furnished-members", "chart-rejects"):
        svg = re.search(
            rf'<svg [^>]*aria-labelledby="{chart}-title.*?</svg>', html, re.S
        ).group(0)
        labels = [
            "".join(label.itertext())
            for label in ET.fromstring(svg).iterfind(".//{*}text[@class='label']")
        ]
        assert sorted(label.replace(" ", "") for label in labels) == sorted(
            name.replace(" ", "") for name in names
        ), chart
        assert svg.count("<tspan") >= 2  # the long names wrap


def test_dashboard_page_when_no_data_renders_empty_charts(client):
    client.force_login(bureau_user("admin", Role.BUREAU_ADMIN))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert response.content.decode().count('role="img"') == 6


# -- in a browser -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_dashboard_in_browser_when_bureau_admin_logs_in_shows_charts(
    page, login, live_server
):
    now = timezone.now()
    members = [
        MemberFactory(code=code, name=name)
        for code, name in [
            ("acme", "Acme Lending"),
            ("globex", "Globex Credit"),
            ("initech", "Initech 消费金融"),
            ("umbrella", "Umbrella Microloans"),
        ]
    ]
    for day in range(30):
        at = now - timedelta(days=day, hours=1)
        for i, member in enumerate(members):
            total = 200 + 37 * ((day * (i + 3)) % 11)
            rejected = (day + i) % 7 * (i + 1)
            make_batch(
                member, finished_at=at, total=total, accepted=total - rejected,
                rejected=rejected,
            )  # fmt: skip
        for n in range(5 + (day * 7) % 13):
            make_inquiry(members[n % 4], at=at - timedelta(minutes=n), hit=n % 3 != 0)
    make_alert(members[2], "enumeration", "high", at=now - timedelta(hours=3))
    make_alert(members[3], "volume_spike", "medium", at=now - timedelta(days=1))
    make_alert(members[3], "purpose_drift", "low", at=now - timedelta(days=2))
    for i, member in enumerate(members[:3]):
        for n in range(i + 1):
            make_dispute(
                make_record(member, f"{member.code.upper()}-{n}"),
                due_in=timedelta(days=2 + 6 * n + i),
            )
    bureau_user("admin", Role.BUREAU_ADMIN)

    login("admin", DEFAULT_PASSWORD)
    assert page.url == f"{live_server.url}{DASHBOARD}"  # the start page
    assert page.locator("svg.chart[role=img]").count() == 6
    assert page.locator("svg.chart rect.bar").count() >= 4
    assert page.locator("svg.chart polyline").count() >= 3
    alerts = page.locator("#table-latest-alerts")
    assert alerts.get_by_text("Umbrella Microloans").first.is_visible()
    page.locator("details summary").first.click()
    assert page.locator("details[open] table tbody tr").count() == 30
    page.locator("details summary").first.click()
    screenshot(page, "fixture-dashboard")
    page.click("a[href='?days=7']")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("?days=7")
    assert page.locator("a[aria-current=page]").get_attribute("href") == "?days=7"
