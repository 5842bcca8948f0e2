"""Serializer fields and bases of the API's input: they take what the OpenAPI
schema says and refuse the rest, where DRF's defaults are more lenient."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Text, and only text, of at most `max_length` characters as sent. DRF's
    CharField also takes a JSON number and keeps it as text (`{"reason": 0}`
    stored "0"), and counts the length after trimming, where the schema says
    `type: string` and `maxLength` of the value as sent."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class FormInput(serializers.Serializer):
    """Multipart input in which an empty value is refused, not read as "not
    given" (DRF's rule for HTML forms): `encoding=` is not a valid encoding;
    and a field given twice is refused, not read as its last value."""

    default_error_messages = {
        "empty": _("Leave the field out, or give a value."),
        "repeated": _("Give this field once."),
    }

    def _form_error(self, field, values: list) -> str | Promise | None:
        if len(values) > 1 and not isinstance(field, serializers.ListField):
            return self.error_messages["repeated"]
        if "" in values and not getattr(field, "allow_blank", False):
            return self.error_messages["empty"]
        return None

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            errors = {}
            for name, field in self.fields.items():
                error = self._form_error(field, data.getlist(name))
                if error:
                    errors[name] = [error]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
