"""schemathesis hooks of the fuzz run: values for the formats the schema names
and no pattern can state (bureau/records/api/identity_schema.py), so that
positive tests send identity numbers the API must accept."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import schemathesis
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bureau.records.identity import (  # pure Python: no Django here
    resident_id_check_char,
    uscc_check_char,
)

_DIGITS = "0123456789"
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def _resident_id(draw) -> str:
    born = draw(st.dates(date(1900, 1, 1), date.today() - timedelta(days=1)))
    region = draw(st.text(_DIGITS, min_size=6, max_size=6))
    serial = draw(st.text(_DIGITS, min_size=3, max_size=3))
    body = f"{region}{born:%Y%m%d}{serial}"
    return body + resident_id_check_char(body)


@st.composite
def _uscc(draw) -> str:
    body = draw(st.text(_USCC, min_size=17, max_size=17))
    return body + uscc_check_char(body)


schemathesis.openapi.format("resident-id", _resident_id())
schemathesis.openapi.format("uscc", _uscc())
