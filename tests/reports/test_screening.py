"""Bulk screening: checks, results per person, inquiries, resumability, access."""

import csv
import io
import time

import pytest

from bureau.audit.models import AuditEvent
from bureau.records.identity import resident_id_check_char
from reports.models import Inquiry, Screening, ScreeningResult
from reports.services import screening as screening_service
from reports.services.screening import screening_create, screening_run
from tests.conftest import bearer
from tests.factories import issue_key
from tests.records.helpers import (
    ID_A,
    ID_B,
    ID_BAD_CHECKSUM,
    ID_C,
    csv_bytes,
    current_row,
    good_row,
    gz,
    ingest,
    jsonl_bytes,
    upload_file,
)

pytestmark = pytest.mark.django_db
SCREENINGS = "/api/v1/screenings/"
COLUMNS = ("id_type", "id_number", "name")
CONSENT = "CONSENT-2026-001"


def person(id_number, name="张三", id_type="resident_id") -> dict:
    return {"id_type": id_type, "id_number": id_number, "name": name}


def persons_csv(people, columns=COLUMNS) -> bytes:
    return csv_bytes(people, columns=columns)


def resident_id(n: int) -> str:
    first17 = f"11010519900101{n:03d}"
    return first17 + resident_id_check_char(first17)


@pytest.fixture
def furnished(acme, globex):
    """张三 (ID_A) is overdue at Acme and in default at Globex; 李四 (ID_C) is current
    at Acme. Both members have contributed recently."""
    zhang_acme = good_row(account_no="ACME-1")
    li_acme = current_row(account_no="ACME-2", id_number=ID_C, name="李四")
    zhang_globex = good_row(account_no="GLOBEX-77", days_overdue="100",
                            status="default", amount_overdue="999.00")  # fmt: skip
    ingest(acme, csv_bytes([zhang_acme, li_acme]))
    ingest(globex, csv_bytes([zhang_globex]))
    return acme, globex


@pytest.fixture
def mixed_file() -> bytes:
    return persons_csv(
        [
            person(ID_A),  # line 1: hit, blacklisted
            person(ID_B, "王五"),  # line 2: unknown number
            person(ID_A, "王五"),  # line 3: name does not match
            person(ID_BAD_CHECKSUM),  # line 4: invalid, no inquiry
            person(ID_C, "李四"),  # line 5: hit, not blacklisted
        ]
    )


def post(client, key, data, name="persons.csv", **fields):
    body = {
        "file": upload_file(name, data),
        "purpose": "loan_approval",
        "consent_reference": CONSENT,
        **fields,
    }
    return client.post(SCREENINGS, body, format="multipart", **bearer(key))


def create(member, key, data, name="persons.csv") -> Screening:
    return screening_create(
        actor=key,
        member=member,
        handle=io.BytesIO(data),
        filename=name,
        purpose="loan_approval",
        consent_reference=CONSENT,
    )


def create_and_run(member, key, data, name="persons.csv") -> Screening:
    return screening_run(screening_id=create(member, key, data, name).pk)


def results_of(screening) -> dict[int, ScreeningResult]:
    return {r.line: r for r in screening.results.all()}


# -- results and inquiries -----------------------------------------------------


def test_screening_when_run_answers_each_person(
    api_client, furnished, acme_key, mixed_file
):
    response = post(api_client, acme_key[1], mixed_file)
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "received"
    screening = screening_run(screening_id=response.json()["id"])
    assert screening.status == "completed" and screening.progress == 1.0
    assert (
        screening.persons_total,
        screening.persons_found,
        screening.persons_blacklisted,
        screening.persons_invalid,
    ) == (5, 2, 1, 1)
    lines = results_of(screening)
    hit = lines[1]
    assert hit.found and hit.blacklisted and hit.id_masked == "110105********002X"
    assert (
        hit.platforms_with_overdue,
        str(hit.total_amount_overdue),
        hit.max_days_overdue,
    ) == (2, "2199.50", 100)
    assert not lines[2].found and not lines[3].found and not lines[3].blacklisted
    assert lines[4].error and not lines[4].found
    assert (
        lines[5].found
        and not lines[5].blacklisted
        and lines[5].total_amount_overdue == 0
    )


def test_screening_when_run_records_one_inquiry_per_valid_person(
    furnished, acme_key, mixed_file
):
    screening = create_and_run(furnished[0], acme_key[0], mixed_file)
    inquiries = Inquiry.objects.filter(screening=screening)
    assert inquiries.count() == 4  # the invalid line is no look-up
    assert sorted(inquiries.values_list("hit", flat=True)) == [False, False, True, True]
    for inquiry in inquiries:
        assert inquiry.member == furnished[0] and inquiry.api_key == acme_key[0]
        assert (
            inquiry.purpose == "loan_approval" and inquiry.consent_reference == CONSENT
        )
        assert (
            inquiry.report is None
            and len(inquiry.id_hash) == 64
            and inquiry.user is None
        )
    mismatch = inquiries.filter(hit=False, id_masked="110105********002X").get()
    assert mismatch.subject is None


def test_screening_when_run_audits_create_and_one_run(furnished, acme_key, mixed_file):
    screening = create_and_run(furnished[0], acme_key[0], mixed_file)
    screening_run(screening_id=screening.pk)  # a re-run of a final screening is a no-op
    events = AuditEvent.objects.filter(object_id=str(screening.pk))
    assert events.filter(action="screening.create").count() == 1
    run = events.get(action="screening.run")
    assert (run.details["persons"], run.details["found"], run.details["invalid"]) == (
        5,
        2,
        1,
    )
    assert not AuditEvent.objects.filter(action="query.run").exists()


def test_jsonl_gzip_screening_when_run_reads_same_columns(furnished, acme_key):
    data = gz(jsonl_bytes([person(ID_A), {**person(ID_B), "phone": "x"}]))
    screening = create_and_run(furnished[0], acme_key[0], data, name="p.jsonl.gz")
    lines = results_of(screening)
    assert lines[1].found and "phone" in lines[2].error


def test_results_when_read_as_json_are_paginated_in_line_order(
    api_client, furnished, acme_key, mixed_file
):
    screening = create_and_run(furnished[0], acme_key[0], mixed_file)
    url = f"{SCREENINGS}{screening.pk}/results/?page_size=2"
    body = api_client.get(url, **bearer(acme_key[1])).json()
    assert [item["line"] for item in body["results"]] == [1, 2] and body["next"]
    first = body["results"][0]
    assert first == {
        "line": 1,
        "id_type": "resident_id",
        "id_masked": "110105********002X",
        "found": True,
        "blacklisted": True,
        "platforms_with_overdue": 2,
        "total_amount_overdue": "2199.50",
        "max_days_overdue": 100,
        "error": "",
    }


def test_results_csv_when_downloaded_is_masked_and_formula_safe(
    api_client, furnished, acme_key
):
    data = persons_csv([person(ID_A), person(ID_B, id_type="=HYPERLINK(1)")])
    screening = create_and_run(furnished[0], acme_key[0], data)
    response = api_client.get(
        f"{SCREENINGS}{screening.pk}/results/?format=csv", **bearer(acme_key[1])
    )
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "text/csv"
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert ID_A not in text and ID_B not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "line",
        "id_type",
        "id_masked",
        "found",
        "blacklisted",
        "platforms_with_overdue",
        "total_amount_overdue",
        "max_days_overdue",
        "error",
    ]
    assert rows[1][:7] == [
        "1",
        "resident_id",
        "110105********002X",
        "true",
        "true",
        "2",
        "2199.50",
    ]
    assert rows[2][1] == "'=hyperlink(1)" and rows[2][3] == "false" and rows[2][8]


# -- refusals ------------------------------------------------------------------


def test_member_without_batches_when_screening_gets_403_contribution_required(
    api_client, globex, mixed_file
):
    _, key = issue_key(globex)
    response = post(api_client, key, mixed_file)
    assert response.status_code == 403
    assert response.json()["code"] == "contribution_required"
    assert not Screening.objects.exists()


def test_bad_purpose_when_screening_gets_400(
    api_client, furnished, acme_key, mixed_file
):
    for purpose in ("marketing", "self_inquiry"):
        response = post(api_client, acme_key[1], mixed_file, purpose=purpose)
        assert response.status_code == 400
        assert "purpose" in response.json()["errors"]


def test_missing_consent_when_screening_gets_400(
    api_client, furnished, acme_key, mixed_file
):
    response = post(api_client, acme_key[1], mixed_file, consent_reference=" ")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "consent_reference" in body["errors"]
    assert not Screening.objects.exists()


def test_consent_holding_an_identity_number_when_screening_gets_400(
    api_client, furnished, acme_key, mixed_file
):
    response = post(api_client, acme_key[1], mixed_file, consent_reference=f"S-{ID_B}")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "consent_reference": ["Must not contain identity numbers or phones."]
    }
    assert not Screening.objects.exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"id_type,id_number,name\n", "empty_file"),
        (
            persons_csv([person(ID_A)], columns=("id_type", "id_number")),
            "missing_columns",
        ),
        (persons_csv([person(ID_A)], columns=(*COLUMNS, "phone")), "unknown_columns"),
    ],
)
def test_bad_file_when_screening_gets_400_with_code(
    api_client, furnished, acme_key, data, code
):
    response = post(api_client, acme_key[1], data)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Screening.objects.exists()


def test_file_over_size_limit_when_screening_gets_413(
    api_client, furnished, acme_key, mixed_file, settings
):
    settings.BUREAU_MAX_UPLOAD_BYTES = 20
    response = post(api_client, acme_key[1], mixed_file)
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_columns_in_any_order_when_screening_are_accepted(
    api_client, furnished, acme_key
):
    data = persons_csv([person(ID_A)], columns=("name", "id_number", "id_type"))
    response = post(api_client, acme_key[1], data)
    assert response.status_code == 202
    assert results_of(screening_run(screening_id=response.json()["id"]))[1].found


def test_file_over_person_limit_when_run_fails_without_inquiries(
    furnished, acme_key, monkeypatch
):
    monkeypatch.setattr(screening_service, "MAX_PERSONS", 3)
    data = persons_csv([person(resident_id(i)) for i in range(4)])
    screening = create_and_run(furnished[0], acme_key[0], data)
    assert (
        screening.status == "failed"
        and "more than 3 persons" in screening.failure_reason
    )
    assert not Inquiry.objects.exists() and not ScreeningResult.objects.exists()


def test_screening_when_failed_with_a_phone_in_the_reason_audits_it_redacted(
    furnished, acme_key
):
    """A failure reason can quote the file or an error: the event never does."""
    screening = create(furnished[0], acme_key[0], persons_csv([person(ID_A)]))
    screening_service.screening_fail(
        screening_id=screening.pk, reason="worker lost at row for 13800138000"
    )
    event = AuditEvent.objects.get(action="screening.run")
    assert event.details["reason"] == "worker lost at row for [redacted]"


# -- access --------------------------------------------------------------------


def test_other_members_screening_when_read_is_404(
    api_client, furnished, acme_key, mixed_file
):
    screening = create_and_run(furnished[0], acme_key[0], mixed_file)
    _, globex_key = issue_key(furnished[1])
    for url in (f"{SCREENINGS}{screening.pk}/", f"{SCREENINGS}{screening.pk}/results/"):
        response = api_client.get(url, **bearer(globex_key))
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    listed = api_client.get(SCREENINGS, **bearer(globex_key)).json()
    assert listed["results"] == []


def test_own_screenings_when_listed_and_read_show_status_and_counts(
    api_client, furnished, acme_key, mixed_file
):
    screening = create_and_run(furnished[0], acme_key[0], mixed_file)
    listed = api_client.get(SCREENINGS, **bearer(acme_key[1])).json()
    assert [item["id"] for item in listed["results"]] == [screening.pk]
    body = api_client.get(f"{SCREENINGS}{screening.pk}/", **bearer(acme_key[1])).json()
    assert body["status"] == "completed" and body["progress"] == 1.0
    assert (
        body["persons_total"],
        body["persons_found"],
        body["persons_blacklisted"],
        body["persons_invalid"],
    ) == (5, 2, 1, 1)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("analyst", True), ("member_admin", True), ("uploader", False)],
)
def test_member_user_when_screening_is_allowed_by_role(
    api_client, furnished, mixed_file, role, allowed
):
    from tests.factories import UserFactory

    user = UserFactory(username=f"{role}-acme", role=role, member=furnished[0])
    api_client.force_authenticate(user)
    response = api_client.post(
        SCREENINGS,
        {
            "file": upload_file("p.csv", mixed_file),
            "purpose": "loan_approval",
            "consent_reference": CONSENT,
        },
        format="multipart",
    )
    assert response.status_code == (202 if allowed else 403), response.json()
    if allowed:
        assert Screening.objects.get().user == user


def test_key_without_query_scope_when_screening_gets_403(
    api_client, furnished, mixed_file
):
    _, key = issue_key(furnished[0], scopes=("upload",))
    response = post(api_client, key, mixed_file)
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


# -- set-based, resumable ------------------------------------------------------


def test_screening_chunk_when_run_uses_bounded_queries(
    furnished, acme_key, django_assert_max_num_queries
):
    people = [person(ID_A), person(ID_C, "李四")]
    people += [person(resident_id(i), f"Person {i}") for i in range(48)]
    screening = create(furnished[0], acme_key[0], persons_csv(people))
    with django_assert_max_num_queries(25):
        screening = screening_run(screening_id=screening.pk)
    assert screening.persons_total == 50 and screening.persons_found == 2
    assert Inquiry.objects.filter(screening=screening).count() == 50


def test_screening_when_rerun_after_crash_resumes_without_duplicates(
    furnished, acme_key, monkeypatch
):
    monkeypatch.setattr(screening_service, "CHUNK_PERSONS", 2)
    people = [person(ID_A), person(ID_BAD_CHECKSUM)]
    people += [person(resident_id(i)) for i in range(5)]
    screening = create(furnished[0], acme_key[0], persons_csv(people))
    real_commit, calls = screening_service._commit_chunk, []

    def crash_on_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(screening_service, "_commit_chunk", crash_on_third_chunk)
    with pytest.raises(RuntimeError):
        screening_run(screening_id=screening.pk)
    screening.refresh_from_db()
    assert screening.status == "processing" and screening.persons_total == 4
    monkeypatch.setattr(screening_service, "_commit_chunk", real_commit)
    screening = screening_run(screening_id=screening.pk)
    assert screening.status == "completed"
    assert list(screening.results.values_list("line", flat=True)) == list(range(1, 8))
    assert Inquiry.objects.filter(screening=screening).count() == 6
    assert (
        screening.persons_total,
        screening.persons_found,
        screening.persons_invalid,
    ) == (7, 1, 1)
    assert AuditEvent.objects.filter(action="screening.run").count() == 1


# -- end to end ----------------------------------------------------------------


def _wait_final(client, key, screening_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"{SCREENINGS}{screening_id}/", **bearer(key)).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"screening {screening_id} not final after {timeout}s: {body}")


@pytest.mark.celery_worker
def test_screening_when_worker_running_completes_in_background(
    celery_worker, api_client, acme, acme_key
):
    ingest(acme, csv_bytes([good_row()]))
    data = persons_csv([person(ID_A), person(ID_B, "王五"), person(ID_BAD_CHECKSUM)])
    response = post(api_client, acme_key[1], data)
    assert response.status_code == 202, response.json()
    body = _wait_final(api_client, acme_key[1], response.json()["id"])
    assert body["status"] == "completed", body
    assert (body["persons_total"], body["persons_found"], body["persons_invalid"]) == (
        3,
        1,
        1,
    )
    results = api_client.get(
        f"{SCREENINGS}{body['id']}/results/", **bearer(acme_key[1])
    )
    assert [item["found"] for item in results.json()["results"]] == [True, False, False]
