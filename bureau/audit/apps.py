from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bureau.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from bureau.audit import checks  # noqa: F401 - registers the system check
