"""Filters shared by the API's list endpoints (django-filter)."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, given to the database in UTC.

    Python takes UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: an
    offset such as -18:52 would fail in the database (a 500) if passed on as
    written. The same instant in UTC is always accepted; one beyond Python's
    years (9999-12-31T23:00-05:00) is a 400."""

    default_error_messages = {"overflow": "Date and time out of range."}

    def to_python(self, value):
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
