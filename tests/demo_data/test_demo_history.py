"""The demo's portfolio (bureau/demo_data): valid rows, the same persons and paths
whatever the day. Pure Python: no database."""

from datetime import date, timedelta

from django.utils import timezone

from bureau.demo_data.history import build_portfolio, month_end, month_index
from bureau.demo_data.plan import build_plan
from bureau.records import identity
from bureau.records.fileformat import RowValidator


def _shape(portfolio):
    return [
        (a.member, a.account_no.rsplit("-", 1)[1], a.path, a.borrower.index)
        for a in portfolio.accounts
    ]


def test_portfolio_when_built_on_other_days_has_the_same_persons_and_paths():
    today = timezone.localdate()
    one, other = build_portfolio(today), build_portfolio(today + timedelta(days=200))
    assert one.persons == other.persons and one.misses == other.misses
    assert _shape(one) == _shape(other)
    assert one.showcase == other.showcase
    assert len(one.persons) == 320 and len(one.accounts) > 500
    numbers = {p.id_number for p in one.persons + one.misses}
    assert len(numbers) == len(one.persons) + len(one.misses)
    for person in one.persons + one.misses:  # valid checksums, else this raises
        identity.normalize_identity(person.id_type, person.id_number)


def test_portfolio_rows_when_furnished_on_any_day_pass_validation():
    today = timezone.localdate()
    portfolio = build_portfolio(today)
    days = [month_end(month_index(today) - back) for back in range(1, 24)]
    days += [today - timedelta(days=n) for n in (0, 3, 17, 40)]
    paths = set()
    for as_of in days:
        validator = RowValidator(today=as_of)
        for n, account in enumerate(portfolio.accounts):
            for row in account.rows(as_of):
                _clean, errors = validator.validate(n + 1, row)
                assert not errors, (row["status"], account.path, errors)
                assert len(row["payment_history"]) <= 24
            paths.add(account.path)
    assert paths == {"on_time", "paid_off", "slipping", "cured", "default",
                     "written_off", "settled"}  # fmt: skip


def test_plan_when_built_furnishes_oldest_first_and_nothing_in_the_future():
    now = timezone.now()
    tz = timezone.get_current_timezone()
    portfolio = build_portfolio(timezone.localdate(now))
    plan = build_plan(portfolio, now=now, tz=tz)
    for code in {u.member for u in plan.uploads}:
        mine = [u for u in plan.uploads if u.member == code and not u.strict]
        as_of = [u.as_of for u in mine]
        assert as_of == sorted(as_of) and len(set(as_of)) == len(as_of)
        assert all(u.as_of <= u.at.astimezone(tz).date() for u in mine)
        assert month_index(as_of[-1]) == month_index(timezone.localdate(now))
        assert mine[-1].defects == 0
    assert all(u.at < now for u in plan.uploads)
    assert all(q.at < now for q in plan.queries)
    assert plan.start < min(u.at for u in plan.uploads)
    assert date(2000, 1, 1) < plan.start.date()
