"""The terms of a look-up (purpose, consent reference), shared by queries,
watches, screenings and the lookup form."""

from types import SimpleNamespace

import pytest
from django.utils import translation

from bureau.core.errors import ValidationFailed
from bureau.core.roles import Role
from reports.models import Purpose
from reports.services.terms import (
    CONSENT_MAX,
    MEMBER_PURPOSES,
    RequestTerms,
    purposes_allowed,
    terms_check,
)
from tests.records.helpers import ID_A, PHONE

ALICE = SimpleNamespace(role=Role.ANALYST)  # a member's analyst
CAROL = SimpleNamespace(role=Role.COMPLIANCE)  # the bureau's compliance officer
ALL = ", ".join(Purpose.values)
MEMBERS = ", ".join(MEMBER_PURPOSES)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def refused(**kwargs) -> dict[str, list[str]]:
    kwargs.setdefault("actor", ALICE)
    with pytest.raises(ValidationFailed) as caught:
        terms_check(**kwargs)
    return caught.value.errors


def test_terms_check_when_member_purpose_and_consent_gives_trimmed_terms():
    terms = terms_check(
        purpose="loan_approval", consent_reference="  ACME-APP-1 ", actor=ALICE
    )

    assert terms == RequestTerms(
        purpose="loan_approval", consent_reference="ACME-APP-1"
    )


def test_terms_check_when_purpose_unknown_lists_every_purpose():
    errors = refused(purpose="curiosity", consent_reference="C-1")

    assert errors == {"purpose": [f"Must be one of: {ALL}."]}


@pytest.mark.parametrize("purpose", ["self_inquiry", "dispute_handling"])
def test_terms_check_when_member_states_compliance_purpose_is_refused(purpose):
    errors = refused(purpose=purpose, consent_reference="")

    assert errors == {
        "purpose": ["Only compliance staff may use this purpose."],
        "consent_reference": ["A consent reference is required for this purpose."],
    }


@pytest.mark.parametrize("purpose", ["self_inquiry", "dispute_handling"])
def test_terms_check_when_compliance_states_its_purpose_needs_no_consent(purpose):
    terms = terms_check(purpose=purpose, consent_reference=None, actor=CAROL)

    assert terms == RequestTerms(purpose=purpose, consent_reference="")


def test_terms_check_when_compliance_states_member_purpose_needs_consent():
    errors = refused(purpose="loan_approval", consent_reference=" ", actor=CAROL)

    assert errors == {
        "consent_reference": ["A consent reference is required for this purpose."]
    }


def test_terms_check_when_consent_too_long_is_refused():
    errors = refused(purpose="loan_approval", consent_reference="C" * (CONSENT_MAX + 1))

    assert errors == {"consent_reference": [f"At most {CONSENT_MAX} characters."]}


@pytest.mark.parametrize("consent", [ID_A, f"call {PHONE}"])
def test_terms_check_when_consent_holds_identity_is_refused(consent):
    errors = refused(purpose="loan_approval", consent_reference=consent)

    assert errors == {
        "consent_reference": ["Must not contain identity numbers or phones."]
    }


def test_terms_check_when_caller_has_errors_raises_them_after_the_terms():
    own = {"name": ["Give the person's name (1–100 characters)."]}

    errors = refused(purpose="curiosity", consent_reference="C-1", errors=own)

    assert list(errors) == ["purpose", "name"]
    assert refused(purpose="loan_approval", consent_reference="C-1", errors=own) == own


def test_terms_check_when_bulk_refuses_compliance_purposes_even_to_compliance():
    errors = refused(
        purpose="dispute_handling", consent_reference="", actor=CAROL, bulk=True
    )

    assert errors == {
        "purpose": [f"Must be one of: {MEMBERS}."],
        "consent_reference": ["A consent reference is required to screen."],
    }


def test_terms_check_when_bulk_with_member_purpose_gives_terms():
    terms = terms_check(
        purpose="loan_approval", consent_reference="S-1", actor=ALICE, bulk=True
    )

    assert terms == RequestTerms(purpose="loan_approval", consent_reference="S-1")


def test_purposes_allowed_when_member_leaves_out_compliance_purposes():
    assert purposes_allowed(actor=ALICE) == MEMBER_PURPOSES
    assert "self_inquiry" not in MEMBER_PURPOSES
    assert purposes_allowed(actor=CAROL) == list(Purpose.values)
