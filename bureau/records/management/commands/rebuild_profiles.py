import time

from django.core.management.base import BaseCommand

from bureau.records.models import Profile
from bureau.records.services.aggregate import profiles_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every profile from the records (same SQL as the incremental path)."
    )

    def handle(self, *args, **options):
        start = time.perf_counter()
        profiles_rebuild()
        elapsed = time.perf_counter() - start
        count = Profile.objects.count()
        self.stdout.write(f"rebuilt {count} profiles in {elapsed:.2f}s")
        self.stdout.write(str(count))
