import json

from django.core.management.base import BaseCommand, CommandError

from bureau.core.health import run_health_checks


class Command(BaseCommand):
    help = (
        "Check database, Redis and a Celery worker (as /healthz); exit 1 if any fails."
    )

    def handle(self, *args, **options):
        body = run_health_checks()
        self.stdout.write(json.dumps(body))
        if body.get("failed"):
            raise CommandError(f"unhealthy: {', '.join(body['failed'])}")
