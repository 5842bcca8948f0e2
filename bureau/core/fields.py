"""Serializer fields of the API's input."""

from __future__ import annotations

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Text, and only text. DRF's CharField also takes a JSON number and keeps it
    as text (`{"reason": 0}` stored "0"), where the schema says `type: string`:
    a number is refused like any other wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
