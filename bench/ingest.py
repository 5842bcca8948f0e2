"""Ingest benchmark (not a test): end-to-end ingest through the service and a real
Celery worker, against raw COPY of the same rows measured in the same run.

    make bench-ingest            # or: .venv/bin/python bench/ingest.py --rows 1000000

Measures on a fresh database: (a) raw COPY of the file into a plain table with the
same columns, two ways: the server parsing the CSV bytes, and rows streamed from
Python (psycopg write_row, as a client that has parsed the file would); (b) the
end-to-end ingest of N new rows; (c) a 100k update-heavy batch onto the N; (d) a
re-upload of the same file; (e) the worker's peak RSS; plus 10k and 100k new rows
for the curve. Results print as a table and go to bench/out/ingest.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from common import OUT, Worker, load_dotenv, use_services

NUMERIC = {"principal", "balance", "amount_overdue"}
TYPES = {
    "days_overdue": "integer",
    **{c: "date" for c in ("opened_on", "due_on", "first_delinquency_on", "as_of")},
}


def generate(path: Path, rows: int, subjects: int, seed: int, today) -> None:
    from bureau.records.generator import GeneratorConfig, write_file

    if path.exists():
        return
    config = GeneratorConfig(
        members=1,
        subjects=subjects,
        rows=rows,
        seed=seed,
        today=today,
        member_codes=["bench"],
    )
    write_file(config, path, fmt="csv")


def raw_copy(path: Path) -> dict:
    from django.db import connection

    columns = path.open(encoding="utf-8").readline().strip().split(",")
    ddl = ", ".join(
        f"{c} {'numeric(16,2)' if c in NUMERIC else TYPES.get(c, 'text')}"
        for c in columns
    )
    results = {}
    with connection.cursor() as cursor:
        for mode in ("server_csv", "client_rows"):
            cursor.execute("DROP TABLE IF EXISTS bench_raw")
            cursor.execute(f"CREATE TABLE bench_raw ({ddl})")
            start = time.perf_counter()
            if mode == "server_csv":
                names = ", ".join(columns)
                sql = f"COPY bench_raw ({names}) FROM STDIN (FORMAT csv, HEADER)"
                with cursor.cursor.copy(sql) as copy, path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
            else:
                sql = f"COPY bench_raw ({', '.join(columns)}) FROM STDIN"
                with (
                    cursor.cursor.copy(sql) as copy,
                    path.open(encoding="utf-8") as handle,
                ):
                    reader = csv.reader(handle)
                    next(reader)
                    for row in reader:
                        copy.write_row([value or None for value in row])
            connection.commit() if not connection.get_autocommit() else None
            elapsed = time.perf_counter() - start
            cursor.execute("SELECT count(*) FROM bench_raw")
            count = cursor.fetchone()[0]
            results[mode] = {
                "rows": count,
                "seconds": elapsed,
                "rows_per_s": count / elapsed,
            }
        cursor.execute("DROP TABLE bench_raw")
    return results


def run_batch(member, path: Path) -> dict:
    from bureau.records.models import Batch
    from bureau.records.services.upload import batch_create

    start = time.perf_counter()
    with path.open("rb") as handle:
        batch, created = batch_create(member=member, handle=handle, filename=path.name)
    accepted_at = time.perf_counter()
    while True:
        batch.refresh_from_db()
        if batch.status in Batch.FINAL_STATUSES:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    queued = (batch.started_at - batch.received_at).total_seconds()
    return {
        "rows": batch.rows_total,
        "seconds": elapsed,
        "upload_seconds": accepted_at - start,
        "queued_seconds": queued,
        "rows_per_s": batch.rows_total / elapsed if elapsed else 0,
        "created": created,
        "status": batch.status,
        "counts": {
            k: getattr(batch, k)
            for k in (
                "rows_accepted",
                "rows_rejected",
                "rows_duplicate",
                "rows_stale",
                "records_created",
                "records_updated",
                "subjects_touched",
            )
        },
    }


def make_updates(source: Path, target: Path, every: int, today) -> int:
    """Every `every`-th row of `source`, reported again one day later with a lower
    balance: an update-heavy batch onto what is stored."""
    written = 0
    with (
        source.open(encoding="utf-8") as src,
        target.open("w", encoding="utf-8") as dst,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        for index, row in enumerate(reader):
            if index % every:
                continue
            row["as_of"] = today.isoformat()
            if Decimal(row["balance"]) > 0 and row["status"] not in (
                "settled",
                "closed",
            ):
                row["balance"] = str(
                    (Decimal(row["balance"]) * Decimal("0.9")).quantize(Decimal("0.01"))
                )
                overdue = Decimal(row["amount_overdue"] or 0)
                if overdue > Decimal(row["balance"]):
                    row["amount_overdue"] = row["balance"]
            writer.writerow(row)
            written += 1
    return written


def reset_records() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE records_recordmonth, records_batchsubject,"
            " records_recordtombstone, records_record, records_batcherror,"
            " records_batch, records_subject, records_profile CASCADE"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--sizes", default="10000,100000", help="Smaller runs for the curve."
    )
    parser.add_argument("--updates-every", type=int, default=10)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    load_dotenv()
    env = use_services("bureau_bench")
    from django.utils import timezone

    from members.models import Member

    today = timezone.localdate()
    base_day = today - timedelta(days=1)
    member, _ = Member.objects.get_or_create(
        code="bench", defaults={"name": "Bench Lending"}
    )
    sizes = [int(s) for s in args.sizes.split(",") if s] + [args.rows]
    files = {}
    for size in sizes:
        files[size] = OUT / f"bench-{size}.csv"
        print(f"generating {size} rows…", file=sys.stderr)
        generate(
            files[size], size, max(1000, size * 3 // 10), seed=size, today=base_day
        )
    results: dict = {
        "env": {"database": env["DATABASE_URL"].split("@")[-1]},
        "runs": {},
    }

    print("raw COPY baselines…", file=sys.stderr)
    results["raw_copy"] = raw_copy(files[args.rows])
    # Queues split by work, as deployed: the ingest worker (whose RSS is measured)
    # does not wait behind the aggregation of the batch before.
    worker = Worker(queues="ingest")
    others = Worker(queues="default,aggregate,notify,maintenance", name="others")
    try:
        worker.wait_ready()
        others.wait_ready()
        for size in sizes:
            reset_records()
            print(f"ingesting {size} new rows…", file=sys.stderr)
            results["runs"][f"new_{size}"] = run_batch(member, files[size])
        updates = OUT / f"bench-updates-{args.rows}.csv"
        count = make_updates(files[args.rows], updates, args.updates_every, today)
        print(f"ingesting {count} updates onto {args.rows}…", file=sys.stderr)
        results["runs"]["updates"] = run_batch(member, updates)
        print("re-uploading the same file…", file=sys.stderr)
        results["runs"]["reupload"] = run_batch(member, files[args.rows])
    finally:
        worker.stop()
        others.stop()
    results["worker_peak_rss_mb"] = worker.peak_rss / 2**20
    report(results, args.rows)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2, default=str))
    return 0


def report(results: dict, rows: int) -> None:
    from rich.console import Console
    from rich.table import Table

    raw = results["raw_copy"]
    new = results["runs"][f"new_{rows}"]
    table = Table(title=f"Ingest benchmark ({results['env']['database']})")
    for column in ("measure", "rows", "seconds", "rows/s", "target"):
        table.add_column(column, justify="right" if column != "measure" else "left")

    def row(name, data, target=""):
        table.add_row(
            name,
            f"{data['rows']:,}",
            f"{data['seconds']:.2f}",
            f"{data['rows_per_s']:,.0f}",
            target,
        )

    row("(a1) raw COPY, server parses CSV", raw["server_csv"])
    row("(a2) raw COPY, rows from Python", raw["client_rows"])
    for name, data in results["runs"].items():
        if name.startswith("new_"):
            row(f"(b) ingest {data['rows']:,} new rows", data)
    row("(c) update-heavy batch", results["runs"]["updates"], "≥ 10,000 rows/s")
    reupload = results["runs"]["reupload"]
    table.add_row(
        "(d) re-upload of the same file",
        "",
        f"{reupload['seconds']:.2f}",
        "",
        "< 2 s, nothing changes",
    )
    table.add_row(
        "(e) worker peak RSS",
        "",
        "",
        f"{results['worker_peak_rss_mb']:.0f} MB",
        "< 300 MB",
    )
    Console().print(table)
    for mode, label in (("server_csv", "a1"), ("client_rows", "a2")):
        ratio = new["rows_per_s"] / raw[mode]["rows_per_s"]
        print(f"ratio b/{label} = {ratio:.2f} (target ≥ 0.40)")
    print(f"re-upload returned the existing batch: {not reupload['created']}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    raise SystemExit(main())
