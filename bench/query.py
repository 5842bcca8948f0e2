"""Query benchmark (not a test): the query API behind gunicorn under concurrent
clients, against a raw psycopg look-up of the same persons in the same run, plus
the aggregation cost per 10k touched subjects at two database sizes.

    .venv/bin/python bench/query.py [--records 1000000] [--subjects 300000]
        [--duration 30] [--clients 8] [--workers 3]

Steps: (1) a fresh database seeded through the real ingest path (generator files
per member, cached under bench/out/, batch_create + batch_ingest in-process) and a
full profile rebuild; (2) profiles_rebuild() and one 10k-subject incremental
refresh (two 5k calls) at full size, and the same refresh on a second database
with 100k records (a child process); (3) POST /api/v1/queries/ through gunicorn,
~80% persons on file and ~20% unknown, from a lean client (prepared request
bytes), after a warm-up and VACUUM ANALYZE + CHECKPOINT; (4) the raw indexed
look-up with psycopg on one connection and on `--clients` connections. Results
print as a table and go to bench/out/query.json.

This file is the command line and the order of the steps; each concern has its
module: query_seed (the databases), query_mix (the persons asked about),
query_servers (gunicorn, CPU, machine speed), query_client (the load),
query_baselines (raw look-up, in-process look), query_report (the table).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from datetime import date

from common import OUT, ROOT, load_dotenv, log, use_services
from query_baselines import profile_requests, raw_baseline, sql_per_query
from query_client import drive, http_request, summarise
from query_mix import build_mix, request_body, sample_people, unknown_people
from query_report import git_state, report
from query_seed import (
    BIG_DB,
    MEMBER_CODES,
    SMALL_DB,
    reused_database,
    seed_database,
    settle_database,
    time_refresh,
)
from query_servers import Gunicorn, postgres_cpu, python_speed_ms


def phase_small(args) -> int:
    """Child process: the 100k-record database and its 10k-subject refresh."""
    use_services(SMALL_DB)
    seeding = seed_database(args.small_records, args.small_subjects, args.seed)
    times = time_refresh(args.refresh_repeats, args.seed)
    print(json.dumps({"seeding": seeding, "refresh_10k_s": times}))
    return 0


def run_small_child(args, env: dict[str, str]) -> dict:
    command = [
        sys.executable,
        __file__,
        "--phase",
        "small",
        "--small-records",
        str(args.small_records),
        "--small-subjects",
        str(args.small_subjects),
        "--seed",
        str(args.seed),
        "--refresh-repeats",
        str(args.refresh_repeats),
    ]
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    try:
        out, _ = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode:
        raise RuntimeError(f"small-database phase exited {child.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=300_000)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="Threads per worker. 1 is gunicorn's sync worker (a connection per "
        "request; the steadiest tail here); 2+ is gthread with keep-alive, as "
        "deployed (more rps, a longer tail: connections stay on a busy worker).",
    )
    parser.add_argument(
        "--client-procs",
        type=int,
        default=1,
        help="Client processes sharing --clients threads (1: threads only).",
    )
    parser.add_argument("--raw-duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--small-records", type=int, default=100_000)
    parser.add_argument("--small-subjects", type=int, default=30_000)
    parser.add_argument("--refresh-repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=4000, help="Known persons.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--skip-small", action="store_true", help="No 100k-record database."
    )
    parser.add_argument(
        "--profile", type=int, default=0, help="cProfile N in-process requests."
    )
    parser.add_argument("--phase", choices=["all", "small"], default="all")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Load only: the database a previous run seeded with the same "
        "--records/--subjects/--seed (no seeding, no aggregation timings).",
    )
    args = parser.parse_args()
    if args.reuse:
        args.skip_small = True
    return args


def seed_big(args, results: dict) -> dict[str, str]:
    """The full-size database (seeded, or reused) and its aggregation timings."""
    env = use_services(BIG_DB, keep=args.reuse)
    results["env"] = {"database": env["DATABASE_URL"].split("@")[-1]}
    if args.reuse:
        seeding = reused_database(args.records, args.subjects, args.seed)
    else:
        seeding = seed_database(args.records, args.subjects, args.seed)
        log(
            f"seeded {seeding['records_record']:,} records / "
            f"{seeding['records_subject']:,} subjects in "
            f"{seeding['total_s']:.1f} s (generate {seeding['generate_s']:.1f},"
            f" ingest {seeding['ingest_s']:.1f},"
            f" rebuild {seeding['rebuild_insert_s']:.1f},"
            f" vacuum {seeding['vacuum_analyze_s']:.1f})"
        )
    results["seeding"] = seeding
    if not args.reuse:
        from bureau.records.services.aggregate import profiles_rebuild

        log("profiles_rebuild() again (every profile exists: updates)…")
        start = time.perf_counter()
        profiles_rebuild()
        results["rebuild_update_s"] = time.perf_counter() - start
        results["refresh_10k_s"] = time_refresh(args.refresh_repeats, args.seed)
        log(f"big: 10k refresh {results['refresh_10k_s']}")
    return env


def query_keys() -> list[str]:
    """One query key per bench member (the load spreads over them)."""
    from members.models import Member
    from members.services import api_key_create

    return [
        api_key_create(member=member, name="bench", scopes=["query"])[1]
        for member in Member.objects.filter(code__in=MEMBER_CODES).order_by("code")
    ]


def request_mix(args, seeding: dict) -> tuple[list, list, list]:
    """(known persons, unknown persons, the shuffled mix of 10k requests)."""
    log("sampling persons from the generator stream…")
    today = date.fromisoformat(seeding["today"])
    known = sample_people(args.records, args.subjects, args.seed, today, args.sample)
    unknown = unknown_people(max(1, args.sample // 4), args.seed)
    return known, unknown, build_mix(known, unknown, 10_000, args.seed)


def measure_api(args, env: dict[str, str], keys: list[str], mix: list) -> dict:
    """The load through gunicorn: warm-up, settle, then `--duration` seconds."""
    results: dict = {}
    bodies = [request_body(person, i) for i, (person, _) in enumerate(mix)]
    headers = [
        {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
        }
        for key in keys
    ]
    gunicorn_env = {
        **os.environ,
        **env,
        "BUREAU_QUERY_RATE_PER_KEY": "100000000/minute",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "false",
    }
    gunicorn = Gunicorn(args.workers, args.threads, gunicorn_env)
    try:
        results["healthz_status"] = gunicorn.wait_ready()
        status = results["healthz_status"]
        log(f"gunicorn up on port {gunicorn.port} (healthz {status})")
        requests = [
            http_request(gunicorn.port, body, headers[i % len(headers)])
            for i, body in enumerate(bodies)
        ]
        log(f"warm-up {args.warmup:.0f} s…")
        drive(gunicorn.port, requests, args.clients, args.warmup, 1)
        log("settling the database (VACUUM ANALYZE, CHECKPOINT)…")
        results["settle_s"] = settle_database()
        log(f"load: {args.clients} clients for {args.duration:.0f} s…")
        results["loadavg_before_load"] = os.getloadavg()
        results["python_speed_ms_before"] = python_speed_ms()
        cpu_gunicorn0, cpu_pg0 = gunicorn.cpu_seconds(), postgres_cpu(BIG_DB)
        import psutil

        cpu_all0 = psutil.cpu_times()
        run = drive(
            gunicorn.port,
            requests,
            args.clients,
            args.duration,
            args.client_procs,
        )
        cpu_all1 = psutil.cpu_times()
        api = summarise(run)
        api["gunicorn_cpu_share"] = (gunicorn.cpu_seconds() - cpu_gunicorn0) / api[
            "seconds"
        ]
        api["postgres_cpu_share"] = (postgres_cpu(BIG_DB) - cpu_pg0) / api["seconds"]
        busy = sum(cpu_all1) - sum(cpu_all0) - (cpu_all1.idle - cpu_all0.idle)
        api["machine_cpu_share"] = busy / api["seconds"]
        api["client_procs"] = args.client_procs
        results["api"] = api
        results["python_speed_ms_after"] = python_speed_ms()
    finally:
        gunicorn.stop()
    return results


def measure_raw(args, url: str, mix: list) -> dict:
    """The raw psycopg look-up of the same mix: the ratios' denominators."""
    results = {}
    log(f"raw look-ups on 1 connection for {args.raw_duration:.0f} s…")
    results["raw_1"] = raw_baseline(url, mix, 1, args.raw_duration)
    log(f"raw look-ups on {args.clients} connections…")
    results["raw_n"] = raw_baseline(url, mix, args.clients, args.raw_duration)
    log("raw look-ups on 1 connection, never prepared…")
    results["raw_1_unprepared"] = raw_baseline(
        url, mix, 1, args.raw_duration, prepare=False
    )
    return results


def ratios(results: dict) -> dict[str, float]:
    out = {
        "api_over_raw_1": results["api"]["rps"] / results["raw_1"]["rps"],
        "api_over_raw_n": results["api"]["rps"] / results["raw_n"]["rps"],
        "api_over_raw_1_unprepared": results["api"]["rps"]
        / results["raw_1_unprepared"]["rps"],
    }
    if "small" in results:
        big = statistics.median(results["refresh_10k_s"])
        small = statistics.median(results["small"]["refresh_10k_s"])
        out["aggregation_big_over_small"] = big / small
    return out


def main() -> int:
    args = parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    load_dotenv()
    # Production-like: no DEBUG query log, no rate limit in the way.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["BUREAU_QUERY_RATE_PER_KEY"] = "100000000/minute"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.phase == "small":
        return phase_small(args)

    bench_start = time.perf_counter()
    base_env = os.environ.copy()  # before use_services points DATABASE_URL here
    results: dict = {"args": vars(args), "git": git_state()}
    if not args.skip_small:
        log(f"small database: {args.small_records:,} records (child process)…")
        results["small"] = run_small_child(args, base_env)
        log(
            f"small: seeded in {results['small']['seeding']['total_s']:.1f} s, "
            f"10k refresh {results['small']['refresh_10k_s']}"
        )
    env = seed_big(args, results)
    keys = query_keys()
    known, unknown, mix = request_mix(args, results["seeding"])
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 404s
    results["sql_per_query"] = sql_per_query(keys, known[0], unknown[0])
    if args.profile:
        profile = profile_requests(keys, mix, args.profile)
        (OUT / "query-profile.txt").write_text(profile)
        log(f"cProfile written to {OUT / 'query-profile.txt'}")
    results.update(measure_api(args, env, keys, mix))
    results.update(measure_raw(args, env["DATABASE_URL"], mix))
    results["ratios"] = ratios(results)
    results["bench_seconds"] = time.perf_counter() - bench_start
    (OUT / "query.json").write_text(json.dumps(results, indent=2, default=str))
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    raise SystemExit(main())
