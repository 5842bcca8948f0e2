"""Filters shared by the API's list endpoints (django-filter).

A filter given with a value it cannot take is a 400, never ignored: a client
that sent `?validate_only=yes` or `?since=` and got every row back would read the
answer as filtered."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, given to the database in UTC.

    Python takes UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: an
    offset such as -18:52 would fail in the database (a 500) if passed on as
    written. The same instant in UTC is always accepted; one beyond Python's
    years (9999-12-31T23:00-05:00) is a 400, and so is an empty value."""

    default_error_messages = {
        "overflow": _("Date and time out of range."),
        "empty": _("Give a date and time, or leave the parameter out."),
    }

    def to_python(self, value):
        if value == "":  # given empty; an absent parameter is None
            raise forms.ValidationError(self.error_messages["empty"], code="empty")
        value = super().to_python(value)
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(
                self.error_messages["overflow"], code="overflow"
            ) from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.Field):
    """`true` or `false` (also `1`/`0`, any case); absent is no filter. Django's
    NullBooleanField reads anything else as "no filter"."""

    widget = forms.TextInput
    default_error_messages = {"invalid": _("Must be true or false.")}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value is None:
            return None
        try:
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid"
            ) from None

    def validate(self, value) -> None:
        pass  # None (absent) is allowed; False is a value, not "missing"


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField
