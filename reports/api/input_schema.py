"""OpenAPI for the inputs that name a person (queries, watches, screenings) as
the services check them: the form of the identity number per identity type, the
purposes a member may give, and the consent reference they require. Registered
by importing this module (reports/api/serializers.py does)."""

from __future__ import annotations

import copy

from drf_spectacular.extensions import OpenApiSerializerExtension

from bureau.core.schema_fields import NOT_BLANK
from bureau.records.api.identity_schema import identity_variants
from reports.models import PURPOSES_WITHOUT_CONSENT, WebhookEvent
from reports.services.terms import CONSENT_MAX, MEMBER_PURPOSES
from reports.services.webhooks import URL_MAX

SCREENING_PURPOSE = {"type": "string", "enum": MEMBER_PURPOSES}
QUERY_PURPOSE = {
    **SCREENING_PURPOSE,
    "description": "Compliance staff may also give "
    + " or ".join(sorted(PURPOSES_WITHOUT_CONSENT))
    + ", without a consent reference.",
}
CONSENT = {
    "type": "string",
    "maxLength": CONSENT_MAX,
    "pattern": NOT_BLANK,
    "description": "The borrower's consent to this purpose (1-64 characters).",
}


class _InputSchema(OpenApiSerializerExtension):
    """The serializer's own schema with `properties` replaced, `required` added
    and, with `names_person`, the identity branches."""

    properties: dict = {}
    required: tuple[str, ...] = ()
    names_person = False

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(
            self.target_class, direction, bypass_extensions=True
        )
        # Copies: drf-spectacular's enum hook rewrites these dicts in place, and
        # the schema is generated again on every request for it.
        schema["properties"].update(copy.deepcopy(self.properties))
        required = schema.setdefault("required", [])
        required += [name for name in self.required if name not in required]
        if self.names_person:
            schema["oneOf"] = identity_variants()
        return schema


class QueryInputSchema(_InputSchema):
    target_class = "reports.api.serializers.QueryInput"
    properties = {"purpose": QUERY_PURPOSE, "consent_reference": CONSENT}
    required = ("consent_reference",)
    names_person = True


class WatchCreateInputSchema(_InputSchema):
    target_class = "reports.api.monitoring_views.WatchCreateInput"
    names_person = True


class ScreeningCreateInputSchema(_InputSchema):
    target_class = "reports.api.screening_serializers.ScreeningCreateInput"
    properties = {"purpose": SCREENING_PURPOSE, "consent_reference": CONSENT}
    required = ("purpose", "consent_reference")


class WebhookCreateInputSchema(_InputSchema):
    target_class = "reports.api.monitoring_views.WebhookCreateInput"
    properties = {
        "url": {
            "type": "string",
            "maxLength": URL_MAX,
            # A host name or address, an optional port, any path: no credentials.
            "pattern": r"^\s*https?://[0-9A-Za-z.-]+(:[0-9]{1,4})?(/[!-~]*)?\s*$",
            "description": "http(s) URL with a host name; no credentials.",
        },
        "events": {
            "type": "array",
            "items": {"type": "string", "enum": WebhookEvent.values},
            "minItems": 1,
            "maxItems": 10,
        },
    }
