from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # Reports reacts to what records announces; records never imports reports.
        from reports import receivers

        receivers.connect()
