"""The synthetic record generator: valid, realistic, reproducible rows."""

import io
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from bureau.records.fileformat import COLUMNS, RowValidator, open_rows
from bureau.records.generator import (
    DEFECT_CODES,
    STATUS_MIX,
    GeneratorConfig,
    iter_rows,
    iter_rows_with_defects,
    write_file,
    write_member_files,
)
from bureau.records.history import month_status

TODAY = date(2025, 11, 26)


def config(**changes):
    return GeneratorConfig(**{"rows": 2000, "subjects": 600, "today": TODAY, **changes})


@pytest.fixture(scope="module")
def rows_20k():
    return list(iter_rows(config(rows=20_000, subjects=6000, seed=7)))


def test_same_seed_same_rows_other_seed_other_rows():
    assert list(iter_rows(config(seed=3))) == list(iter_rows(config(seed=3)))
    assert list(iter_rows(config(seed=3))) != list(iter_rows(config(seed=4)))


def test_exactly_the_configured_rows_with_every_column():
    rows = list(iter_rows(config(rows=1234, subjects=5000)))
    assert len(rows) == 1234
    assert all(list(row) == list(COLUMNS) for _, row in rows)
    assert all(type(v) is str for _, row in rows for v in row.values())


def test_no_validation_error_at_error_rate_zero(rows_20k):
    validator = RowValidator(today=TODAY)
    errors = [
        error
        for number, (_, row) in enumerate(rows_20k, 1)
        for error in validator.validate(number, row)[1]
    ]
    assert errors == []


def test_each_defect_fails_with_its_code_only():
    validator = RowValidator(today=TODAY)
    injected = Counter()
    rows = list(iter_rows_with_defects(config(rows=8000, error_rate=0.08)))
    for number, (_, row, defect) in enumerate(rows, 1):
        clean, errors = validator.validate(number, row)
        if defect is None:
            assert errors == [], row
        else:
            injected[defect] += 1
            assert clean is None
            assert {error.code for error in errors} == {defect}, (defect, errors)
    assert 0.07 <= sum(injected.values()) / len(rows) <= 0.09
    assert set(injected) == set(DEFECT_CODES)
    assert max(injected.values()) - min(injected.values()) <= 1  # round robin


def test_iter_rows_is_iter_rows_with_defects_without_the_code():
    cfg = config(rows=500, error_rate=0.1)
    assert list(iter_rows(cfg)) == [
        (code, row) for code, row, _ in iter_rows_with_defects(cfg)
    ]


def test_borrowers_are_shared_across_members(rows_20k):
    members_of = defaultdict(set)
    for code, row in rows_20k:
        members_of[row["id_number"]].add(code)
    shared = sum(len(codes) >= 2 for codes in members_of.values())
    assert 0.3 <= shared / len(members_of) <= 0.5
    assert {code for code, _ in rows_20k} == {"m1", "m2", "m3"}


def test_a_subject_keeps_its_name_and_keys_are_unique(rows_20k):
    names, keys = {}, set()
    for code, row in rows_20k:
        assert names.setdefault(row["id_number"], row["name"]) == row["name"]
        key = (code, row["account_no"], row["id_type"], row["id_number"])
        assert key not in keys
        keys.add(key)
    per_subject = Counter(row["id_number"] for _, row in rows_20k)
    assert max(per_subject.values()) <= 6


def test_status_mix_as_configured(rows_20k):
    counts = Counter(row["status"] for _, row in rows_20k)
    for status, share in STATUS_MIX.items():
        assert abs(counts[status] / len(rows_20k) - share) <= 0.05, status


def test_identity_and_contact_mix(rows_20k):
    n = len(rows_20k)
    id_types = Counter(row["id_type"] for _, row in rows_20k)
    assert id_types["resident_id"] / n > 0.9
    assert 0.005 < id_types["uscc"] / n < 0.04
    assert 0.002 < id_types["passport"] / n < 0.03
    phones = sum(bool(row["phone"]) for _, row in rows_20k) / n
    histories = sum(bool(row["payment_history"]) for _, row in rows_20k) / n
    assert 0.5 < phones < 0.7
    assert 0.25 < histories < 0.35


def test_amounts_and_dates_are_plausible(rows_20k):
    for _, row in rows_20k:
        principal, balance = Decimal(row["principal"]), Decimal(row["balance"])
        overdue, days = Decimal(row["amount_overdue"]), int(row["days_overdue"])
        assert Decimal(500) <= principal <= Decimal(200_000)
        assert balance <= principal
        assert (0 < overdue <= balance) if days else overdue == 0
        as_of = date.fromisoformat(row["as_of"])
        assert TODAY - timedelta(days=60) < as_of <= TODAY
        opened = date.fromisoformat(row["opened_on"])
        assert 365 <= (as_of - opened).days <= 6 * 366
        if days:
            first = date.fromisoformat(row["first_delinquency_on"])
            assert first == as_of - timedelta(days=days)
        if row["payment_history"]:
            assert 6 <= len(row["payment_history"]) <= 24
            assert row["payment_history"][0] == month_status(row["status"], days)


def test_member_codes_override_members():
    cfg = config(members=9, member_codes=["acme", "globex"])
    assert cfg.members == 2
    assert {code for code, _ in iter_rows(cfg)} == {"acme", "globex"}


@pytest.mark.parametrize(
    ("fmt", "gzip"), [("csv", False), ("jsonl", False), ("csv", True)]
)
def test_write_file_round_trips_through_the_reader(tmp_path, fmt, gzip):
    cfg = config(rows=3000)
    path = tmp_path / f"records.{fmt}"
    assert write_file(cfg, path, fmt=fmt, member_code="m2", gzip=gzip) > 0
    expected = [row for code, row in iter_rows(cfg) if code == "m2"]
    validator = RowValidator(today=TODAY)
    with path.open("rb") as fh:
        stream = open_rows(fh, fmt=fmt)
        assert stream.columns == list(COLUMNS)
        read = []
        for number, values, errors in stream:
            assert errors == []
            assert validator.validate(number, values)[1] == []
            read.append(values)
    assert read == expected


def test_write_member_files_writes_each_members_rows(tmp_path):
    cfg = config(rows=1500)
    paths = write_member_files(cfg, tmp_path / "out", "csv")
    assert set(paths) == {"m1", "m2", "m3"}
    by_member = Counter(code for code, _ in iter_rows(cfg))
    for code, path in paths.items():
        assert path.name == f"{code}.csv"
        with path.open("rb") as fh:
            assert sum(1 for _ in open_rows(fh, fmt="csv")) == by_member[code]


def test_command_writes_the_file_and_prints_the_row_count(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "records.csv"
    call_command(
        "generate_records",
        "--rows=700",
        "--subjects=200",
        f"--out={path}",
        "--error-rate=0.01",
        stdout=out,
        stderr=err,
    )
    assert out.getvalue().splitlines()[-1] == "700"
    with path.open("rb") as fh:
        assert sum(1 for _ in open_rows(fh, fmt="csv")) == 700


def test_command_per_member_with_codes(tmp_path):
    out = io.StringIO()
    call_command(
        "generate_records",
        "--rows=300",
        "--subjects=100",
        "--per-member",
        "--member-codes=acme,globex",
        "--format=jsonl",
        f"--out={tmp_path}",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert out.getvalue().splitlines()[-1] == "300"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme.jsonl", "globex.jsonl"]


def test_generate_records_help_when_printed_explains_every_option():
    from django.core.management.base import BaseCommand

    from bureau.records.management.commands.generate_records import Command

    parser = Command().create_parser("manage.py", "generate_records")
    common = BaseCommand().create_parser("manage.py", "x")
    common_options = {o for a in common._actions for o in a.option_strings}
    own = [a for a in parser._actions if not common_options & set(a.option_strings)]
    assert len(own) == 13
    unexplained = [a.option_strings for a in own if len(a.help or "") < 20]
    assert not unexplained, unexplained
    text = parser.format_help()
    for action in own:
        first_words = " ".join(action.help.split()[:3]).replace("%(default)s", "")
        assert first_words in " ".join(text.split()), action.option_strings
