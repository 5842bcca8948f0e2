"""Query benchmark, seeding: generator files per member (cached under
bench/out/), ingested in-process through batch_create + batch_ingest, a full
profile rebuild; the settling and the refresh timings that run on the seeded
database."""

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

from common import OUT, ROOT, log

BIG_DB, SMALL_DB = "bureau_bench_query", "bureau_bench_query_small"
MEMBER_CODES = ("m1", "m2", "m3")
TOUCHED = 10_000


def generator_config(rows: int, subjects: int, seed: int, today: date):
    from bureau.records.generator import GeneratorConfig

    return GeneratorConfig(
        subjects=subjects,
        rows=rows,
        seed=seed,
        today=today,
        member_codes=list(MEMBER_CODES),
    )


def generate(rows: int, subjects: int, seed: int) -> tuple[dict[str, Path], date]:
    """Per-member CSV files, cached by size and seed (meta.json marks them done)."""
    from bureau.records.generator import write_member_files

    folder = OUT / f"query-{rows}r-{subjects}s-seed{seed}"
    meta = folder / "meta.json"
    paths = {code: folder / f"{code}.csv" for code in MEMBER_CODES}
    if meta.exists() and all(path.exists() for path in paths.values()):
        today = date.fromisoformat(json.loads(meta.read_text())["today"])
        log(f"using cached files in {folder.relative_to(ROOT)}")
        return paths, today
    # The generator's random stream depends on `today`: keep it with the files so
    # that the sample of persons drawn later matches what was ingested.
    today = date.today() - timedelta(days=1)
    log(f"generating {rows:,} rows for {subjects:,} subjects…")
    written = write_member_files(
        generator_config(rows, subjects, seed, today), folder, "csv"
    )
    meta.write_text(json.dumps({"today": today.isoformat(), "rows": rows}))
    return {code: Path(path) for code, path in written.items()}, today


def seed_database(rows: int, subjects: int, seed: int) -> dict:
    """Members, one batch per member through batch_create + batch_ingest, rebuild."""
    from django.core.files.storage import default_storage
    from django.db import connection

    from bureau.records.models import Batch
    from bureau.records.services.aggregate import profiles_rebuild
    from bureau.records.services.ingest import batch_ingest
    from bureau.records.services.upload import batch_create
    from members.services import member_create

    timings: dict = {}
    start = time.perf_counter()
    paths, today = generate(rows, subjects, seed)
    timings["generate_s"] = time.perf_counter() - start
    members = {
        code: member_create(code=code, name=f"Bench member {code}")
        for code in MEMBER_CODES
    }
    # Ingest and aggregation run here, in-process: no Celery task is queued, so no
    # stray tasks stay in the shared Redis for some later worker to pick up.
    ingest_start = time.perf_counter()
    counts = {}
    with (
        mock.patch("bureau.records.services.upload._enqueue"),
        mock.patch("bureau.records.services.ingest._enqueue_aggregation"),
    ):
        for code, path in paths.items():
            log(f"ingesting {path.name} ({path.stat().st_size / 2**20:.0f} MB)…")
            with path.open("rb") as handle:
                batch, _ = batch_create(
                    member=members[code], handle=handle, filename=path.name
                )
            batch = batch_ingest(batch_id=batch.pk)
            if batch.status not in (
                Batch.Status.COMPLETED,
                Batch.Status.COMPLETED_WITH_ERRORS,
            ):
                raise RuntimeError(f"batch {batch.pk} ended {batch.status}")
            counts[code] = batch.rows_accepted
            default_storage.delete(batch.file.name)  # the bench DB goes next run
    timings["ingest_s"] = time.perf_counter() - ingest_start
    timings["rows_accepted"] = counts
    log("profiles_rebuild() (first: inserts every profile)…")
    rebuild_start = time.perf_counter()
    profiles_rebuild()
    timings["rebuild_insert_s"] = time.perf_counter() - rebuild_start
    # Settle the tables so autovacuum does not kick in during the measurements.
    vacuum_start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    timings["vacuum_analyze_s"] = time.perf_counter() - vacuum_start
    timings["total_s"] = time.perf_counter() - start
    timings["today"] = today.isoformat()
    return {**timings, **table_counts()}


def table_counts() -> dict[str, int]:
    """Rows of the tables the benchmark seeds."""
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in ("records_subject", "records_record", "records_profile"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def reused_database(rows: int, subjects: int, seed: int) -> dict:
    """What `--reuse` runs against: the previous run's database, checked."""
    _, today = generate(rows, subjects, seed)  # cached files: only their date
    counts = {"today": today.isoformat(), "reused": True, **table_counts()}
    if counts["records_record"] != rows:
        raise RuntimeError(
            f"--reuse: {BIG_DB} holds {counts['records_record']:,} records, not "
            f"{rows:,}; run once without --reuse"
        )
    log(f"reusing {BIG_DB}: {rows:,} records")
    return counts


def settle_database() -> float:
    """VACUUM ANALYZE and CHECKPOINT after the warm-up, before the load.

    The rebuild and the refresh timings leave dead rows behind: autovacuum
    cleaning them, and the checkpoint writing them, during the 30 s would be
    measured as query cost. And the inquiry table, empty when seeding ended, has
    the warm-up's rows now: planned on an empty table, the report's prepared read
    scans it whole (a generic plan, kept until the next ANALYZE)."""
    from django.db import DatabaseError, connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError as error:  # needs superuser or pg_checkpoint
            log(f"no CHECKPOINT: {error}")
    return time.perf_counter() - start


def time_refresh(repeats: int, seed: int) -> list[float]:
    """Seconds for one incremental chunk of 10k subjects: two profiles_refresh
    calls of BUREAU_AGGREGATE_CHUNK (5k) ids, timed together; fresh ids each time."""
    from django.conf import settings

    from bureau.records.models import Subject
    from bureau.records.services.aggregate import profiles_refresh, subject_chunks

    ids = list(Subject.objects.values_list("id", flat=True))
    rng = random.Random(seed)
    times = []
    for _ in range(repeats):
        touched = sorted(rng.sample(ids, min(TOUCHED, len(ids))))
        start = time.perf_counter()
        for chunk in subject_chunks(touched, settings.BUREAU_AGGREGATE_CHUNK):
            profiles_refresh(subject_ids=chunk)
        times.append(time.perf_counter() - start)
    return times
