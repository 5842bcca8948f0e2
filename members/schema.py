"""How the OpenAPI schema describes API keys (drf-spectacular extension), so that
Swagger UI's "Authorize" and generated clients can send them."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "members.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "bk_<prefix>_<secret>",
            "description": "A member's API key: `Authorization: Bearer bk_…`. "
            "Its scopes (upload, query, monitor) decide what it may call.",
        }
