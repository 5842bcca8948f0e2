from django.apps import AppConfig


class DemoDataConfig(AppConfig):
    """The demo's data and its commands (`seed_demo`, `demo_persons`). An app of
    its own above every layer: seeding drives members, records and reports alike,
    and none of them may import it."""

    name = "bureau.demo_data"
    label = "demo_data"
    verbose_name = "Demo data"
