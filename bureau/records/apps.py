from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "bureau.records"
    label = "records"
    verbose_name = "Records"

    def ready(self) -> None:
        from bureau.records import signals  # noqa: F401  (connects worker_ready)
