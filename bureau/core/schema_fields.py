"""OpenAPI for plain text input (DRF's CharField, our StrictCharField) as DRF
checks it: no NUL character anywhere (DRF refuses it), and for a field that may
not be blank, something besides whitespace (DRF trims the value first). Loaded
by bureau/core/apps.py."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


class CharFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "rest_framework.fields.CharField"  # this class only

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        field = self.target
        if direction == "request" and "pattern" not in schema:
            blank_refused = not field.allow_blank and field.trim_whitespace
            schema["pattern"] = NOT_BLANK if blank_refused else NO_NUL
        return schema


class StrictCharFieldExtension(CharFieldExtension):
    target_class = "bureau.core.fields.StrictCharField"
