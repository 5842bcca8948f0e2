"""The OpenAPI form of identity numbers (bureau/records/api/identity_schema.py)
promises what the identity check accepts: any number the schema allows for its
type, and that the fuzz run generates for the formats, is taken."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bureau.records.api.identity_schema import ID_NUMBERS
from bureau.records.identity import IdentityError, normalize_identity
from fuzz.hooks import _resident_id, _uscc


def matching(id_type: str):
    return st.from_regex(ID_NUMBERS[id_type]["pattern"], fullmatch=True)


@pytest.mark.parametrize("id_type", ["passport", "other"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_number_when_the_pattern_allows_it_is_accepted(id_type, data):
    number = data.draw(matching(id_type).filter(lambda n: len(n) <= 64))
    normalize_identity(id_type, number)  # raises IdentityError if refused


@settings(max_examples=100, deadline=None)
@given(number=_resident_id())
def test_resident_id_when_of_the_format_is_accepted(number):
    assert re.search(ID_NUMBERS["resident_id"]["pattern"], number)
    assert normalize_identity("resident_id", number) == number


@settings(max_examples=100, deadline=None)
@given(number=_uscc())
def test_credit_code_when_of_the_format_is_accepted(number):
    assert re.search(ID_NUMBERS["uscc"]["pattern"], number)
    assert normalize_identity("uscc", number) == number


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("resident_id", "11010519491231002"),  # 17 digits
        ("passport", "AB12"),  # too short
        ("uscc", "91350100M000100Y4I"),  # I is not in the alphabet
        ("other", "two words"),
    ],
)
def test_number_when_the_pattern_refuses_it_is_refused(id_type, number):
    assert not re.search(ID_NUMBERS[id_type]["pattern"], number)
    with pytest.raises(IdentityError):
        normalize_identity(id_type, number)
