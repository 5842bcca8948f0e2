from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bureau.core"
    label = "core"
    verbose_name = "Bureau core"

    def ready(self) -> None:
        from bureau.core import (
            checks,  # noqa: F401  (registers the checks)
            middleware,  # noqa: F401  (connects request_finished)
            schema_fields,  # noqa: F401  (registers the OpenAPI field extension)
        )
        from bureau.core.logging import install_log_record_factory

        install_log_record_factory()
