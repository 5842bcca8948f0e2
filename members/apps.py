from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from members import (  # noqa: F401
            schema,  # registers the API key's OpenAPI security scheme
            signals,  # connects the audit receivers
        )
