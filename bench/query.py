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
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

from common import OUT, ROOT, load_dotenv, use_services

BIG_DB, SMALL_DB = "bureau_bench_query", "bureau_bench_query_small"
MEMBER_CODES = ("m1", "m2", "m3")
QUERY_PATH = "/api/v1/queries/"
UNKNOWN_REGION = "460100"  # Haikou: not among the generator's regions, never seeded
TOUCHED = 10_000


_STARTED = time.perf_counter()


def log(message: str) -> None:
    elapsed = time.perf_counter() - _STARTED
    print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- seeding --------------------------------------------------------------------


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


# --- the request mix ------------------------------------------------------------


def sample_people(rows: int, subjects: int, seed: int, today: date, n: int) -> list:
    """(id_type, id_number, name) of n seeded subjects spread over the whole file,
    replayed from the generator's deterministic stream."""
    from bureau.records.generator import iter_rows

    stride = max(1, min(subjects, rows) // n)
    people, previous, index = [], None, -1
    for _code, row in iter_rows(generator_config(rows, subjects, seed, today)):
        if row["id_number"] == previous:
            continue
        previous, index = row["id_number"], index + 1
        if index % stride == 0 and len(people) < n:
            people.append((row["id_type"], row["id_number"], row["name"]))
    return people


def unknown_people(n: int, seed: int) -> list:
    """Valid resident ids from a region the generator never uses: never on file."""
    from bureau.records.identity import resident_id_check_char

    rng = random.Random(seed + 1)
    first = date(1960, 1, 1).toordinal()
    people: dict[str, tuple] = {}
    while len(people) < n:
        born = date.fromordinal(first + rng.randrange(16_000)).strftime("%Y%m%d")
        body = f"{UNKNOWN_REGION}{born}{rng.randrange(1000):03d}"
        number = body + resident_id_check_char(body)
        people[number] = ("resident_id", number, "无名氏")
    return list(people.values())


def build_mix(known: list, unknown: list, size: int, seed: int) -> list[tuple]:
    """`size` persons, ~80% known and ~20% unknown, shuffled: (person, known?)."""
    rng = random.Random(seed + 2)
    n_known = size * 4 // 5
    mix = [(known[i % len(known)], True) for i in range(n_known)]
    mix += [(unknown[i % len(unknown)], False) for i in range(size - n_known)]
    rng.shuffle(mix)
    return mix


def request_body(person: tuple, i: int) -> bytes:
    id_type, id_number, name = person
    body = {
        "id_type": id_type,
        "id_number": id_number,
        "name": name,
        "purpose": "loan_approval",
        "consent_reference": f"bench-consent-{i:06d}",
    }
    return json.dumps(body, ensure_ascii=False).encode()


# --- gunicorn and the clients ---------------------------------------------------


def python_speed_ms() -> float:
    """Milliseconds for a fixed pure-Python loop, best of three: this machine's
    speed at the time. Shared cloud machines vary by a third from minute to
    minute; compare figures taken at similar speeds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, workers: int, threads: int, env: dict[str, str]):
        self.port = free_port()
        self._log = open(OUT / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bureau.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> int:
        """Wait for any HTTP answer from /healthz (503 without a Celery worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {OUT / 'gunicorn.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                return status
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz")

    def cpu_seconds(self) -> float:
        return _tree_cpu(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _tree_cpu(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total
    except psutil.Error:
        return 0.0


def _postgres_cpu(database: str) -> float:
    """CPU seconds of the server's backends for `database` (bench connections)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            with contextlib.suppress(psutil.Error):
                total += sum(proc.cpu_times()[:2])
    return total


class _Connection:
    """A minimal HTTP/1.1 client for the load: the client shares the machine's
    cores with the server, and http.client costs about twice the CPU a request
    (its header parsing, and a new connection object after every close). Sends
    prepared bytes; reads the status line, headers and a Content-Length body; opens
    a new connection after a `Connection: close` (gunicorn's sync worker)."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        data = self.buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._recv()
        head, data = data[:end].decode("latin-1"), data[end + 4 :]
        status = int(head[9:12])
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            raise ConnectionError(f"no Content-Length in: {head[:200]}")
        length = int(match.group(1))
        while len(data) < length:
            data += self._recv()
        body, self.buffer = data[:length], data[length:]
        if _CONNECTION_CLOSE.search(head):
            self.close()
        return status, body


_CONTENT_LENGTH = re.compile(r"(?im)^content-length:\s*(\d+)")
_CONNECTION_CLOSE = re.compile(r"(?im)^connection:\s*close")


def http_request(port: int, body: bytes, headers: dict) -> bytes:
    """The bytes of one POST to the query endpoint."""
    lines = [f"POST {QUERY_PATH} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _client_thread(
    port: int,
    requests: list[bytes],
    offset: int,
    stride: int,
    deadline: float,
    sink: dict,
) -> None:
    conn = _Connection(port)
    latencies, statuses, examples = [], [], []
    i, n = offset, len(requests)
    perf = time.perf_counter
    while True:
        start = perf()
        if start >= deadline:
            break
        try:
            status, data = conn.exchange(requests[i % n])
        except (OSError, ValueError) as exc:  # ValueError: a malformed status line
            conn.close()
            status, data = 0, repr(exc).encode()
        latencies.append(perf() - start)
        statuses.append(status)
        if status not in (200, 404) and len(examples) < 5:
            examples.append(f"{status}: {data[:300].decode(errors='replace')}")
        i += stride
    conn.close()
    sink.update(latencies=latencies, statuses=statuses, examples=examples)


def _drive_threads(
    port: int,
    requests: list[bytes],
    threads: int,
    first: int,
    stride: int,
    deadline: float,
) -> dict:
    sinks = [{} for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(port, requests, first + k, stride, deadline, sinks[k]),
            daemon=True,
        )
        for k in range(threads)
    ]
    cpu0 = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive():
            worker.join(0.5)
    return {
        "latencies": [x for s in sinks for x in s.get("latencies", ())],
        "statuses": [x for s in sinks for x in s.get("statuses", ())],
        "examples": [x for s in sinks for x in s.get("examples", ())],
        "cpu_s": time.process_time() - cpu0,
    }


def drive(
    port: int,
    requests: list[bytes],
    clients: int,
    duration: float,
    procs: int,
) -> dict:
    """`clients` connections for `duration` s, as threads in `procs`
    client processes; returns latencies, statuses, error examples, client CPU."""
    start = time.perf_counter()
    deadline = start + duration
    if procs <= 1:
        result = _drive_threads(port, requests, clients, 0, clients, deadline)
    else:
        import multiprocessing

        per = [clients // procs + (k < clients % procs) for k in range(procs)]
        firsts = [sum(per[:k]) for k in range(procs)]
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            parts = pool.starmap(
                _drive_threads,
                [
                    (port, requests, per[k], firsts[k], clients, deadline)
                    for k in range(procs)
                ],
            )
        result = {
            key: [x for part in parts for x in part[key]]
            for key in ("latencies", "statuses", "examples")
        }
        result["cpu_s"] = sum(part["cpu_s"] for part in parts)
    result["wall_s"] = time.perf_counter() - start
    return result


def summarise(run: dict) -> dict:
    latencies = sorted(run["latencies"])
    total = len(latencies)
    statuses = Counter(run["statuses"])
    errors = sum(n for status, n in statuses.items() if status not in (200, 404))

    def pct(p: float) -> float:
        return latencies[min(total - 1, int(p / 100 * total))] * 1000 if total else 0

    return {
        "requests": total,
        "seconds": run["wall_s"],
        "rps": total / run["wall_s"],
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1000 if total else 0,
        "mean_ms": statistics.fmean(latencies) * 1000 if total else 0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "error_examples": run["examples"][:5],
        "client_cpu_s": run["cpu_s"],
        "client_cpu_share": run["cpu_s"] / run["wall_s"],
    }


# --- raw SQL baseline -------------------------------------------------------------

RAW_SQL = (
    "SELECT s.id, p.* FROM records_subject s"
    " LEFT JOIN records_profile p ON p.subject_id = s.id"
    " WHERE s.id_type = %s AND s.id_hash = %s"
)


def _raw_loop(
    url: str, mix: list, offset: int, stride: int, deadline: float, sink, prepare
):
    import psycopg
    from django.conf import settings

    from bureau.records.identity import identity_hmac

    key = settings.BUREAU_IDENTITY_KEY.encode()
    n, hits, i = 0, 0, offset
    options = {} if prepare else {"prepare_threshold": None}
    with (
        psycopg.connect(url, autocommit=True, **options) as conn,
        conn.cursor() as cursor,
    ):
        while time.perf_counter() < deadline:
            (id_type, number, _name), _known = mix[i % len(mix)]
            cursor.execute(RAW_SQL, (id_type, identity_hmac(key, id_type, number)))
            hits += cursor.fetchone() is not None
            n += 1
            i += stride
    sink.update(n=n, hits=hits)


def raw_baseline(
    url: str, mix: list, threads: int, duration: float, prepare: bool = True
) -> dict:
    """psycopg's default prepares a statement after 5 runs; prepare=False sends
    it as text every time (as Django's client-side cursors do)."""
    sinks = [{} for _ in range(threads)]
    start = time.perf_counter()
    deadline = start + duration
    cpu0 = time.process_time()
    workers = [
        threading.Thread(
            target=_raw_loop,
            args=(url, mix, k, threads, deadline, sinks[k], prepare),
            daemon=True,
        )
        for k in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive():
            worker.join(0.5)
    wall = time.perf_counter() - start
    n = sum(s.get("n", 0) for s in sinks)
    return {
        "connections": threads,
        "prepared": prepare,
        "lookups": n,
        "hits": sum(s.get("hits", 0) for s in sinks),
        "seconds": wall,
        "rps": n / wall,
        "client_cpu_share": (time.process_time() - cpu0) / wall,
    }


# --- in-process look at one query -------------------------------------------------


def sql_per_query(keys: list[str], known: tuple, unknown: tuple) -> dict:
    """SQL statements of one hit and one miss, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="localhost")
    out = {}
    for label, person in (("hit", known), ("miss", unknown)):
        for warm in (True, False):  # the first call warms caches and imports
            with CaptureQueriesContext(connection) as captured:
                response = client.post(
                    QUERY_PATH,
                    data=request_body(person, 0),
                    content_type="application/json",
                    headers={"authorization": f"Bearer {keys[0]}"},
                )
            if not warm:
                out[label] = {
                    "status": response.status_code,
                    "statements": len(captured.captured_queries),
                    "sql": [q["sql"][:160] for q in captured.captured_queries],
                }
    return out


def profile_requests(keys: list[str], mix: list, n: int) -> str:
    """cProfile of n in-process requests (no gunicorn), top functions by own time."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    bodies = [request_body(person, i) for i, (person, _) in enumerate(mix[:n])]
    auth = [{"authorization": f"Bearer {key}"} for key in keys]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for i, body in enumerate(bodies):
        client.post(
            QUERY_PATH,
            data=body,
            content_type="application/json",
            headers=auth[i % len(auth)],
        )
    profiler.disable()
    elapsed = time.perf_counter() - start
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return f"{n} requests in-process: {elapsed / n * 1000:.2f} ms each\n" + (
        stream.getvalue()
    )


# --- main ---------------------------------------------------------------------------


def git_state() -> dict:
    """The commit measured, and how many files differ from it (shared checkout)."""

    def git(*command: str) -> str:
        done = subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return {"head": git("rev-parse", "HEAD"), "modified_files": len(changed)}


def main() -> int:
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
    gunicorn = None
    try:
        if not args.skip_small:
            log(f"small database: {args.small_records:,} records (child process)…")
            results["small"] = run_small_child(args, base_env)
            log(
                f"small: seeded in {results['small']['seeding']['total_s']:.1f} s, "
                f"10k refresh {results['small']['refresh_10k_s']}"
            )

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

        from members.models import Member
        from members.services import api_key_create

        keys = [
            api_key_create(member=member, name="bench", scopes=["query"])[1]
            for member in Member.objects.filter(code__in=MEMBER_CODES).order_by("code")
        ]
        log("sampling persons from the generator stream…")
        today = date.fromisoformat(seeding["today"])
        known = sample_people(
            args.records, args.subjects, args.seed, today, args.sample
        )
        unknown = unknown_people(max(1, args.sample // 4), args.seed)
        mix = build_mix(known, unknown, 10_000, args.seed)
        logging.getLogger("django.request").setLevel(logging.ERROR)  # 404s
        results["sql_per_query"] = sql_per_query(keys, known[0], unknown[0])
        if args.profile:
            profile = profile_requests(keys, mix, args.profile)
            (OUT / "query-profile.txt").write_text(profile)
            log(f"cProfile written to {OUT / 'query-profile.txt'}")

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
        cpu_gunicorn0, cpu_pg0 = gunicorn.cpu_seconds(), _postgres_cpu(BIG_DB)
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
        api["postgres_cpu_share"] = (_postgres_cpu(BIG_DB) - cpu_pg0) / api["seconds"]
        busy = sum(cpu_all1) - sum(cpu_all0) - (cpu_all1.idle - cpu_all0.idle)
        api["machine_cpu_share"] = busy / api["seconds"]
        api["client_procs"] = args.client_procs
        results["api"] = api
        results["python_speed_ms_after"] = python_speed_ms()
        gunicorn.stop()
        gunicorn = None

        url = env["DATABASE_URL"]
        log(f"raw look-ups on 1 connection for {args.raw_duration:.0f} s…")
        results["raw_1"] = raw_baseline(url, mix, 1, args.raw_duration)
        log(f"raw look-ups on {args.clients} connections…")
        results["raw_n"] = raw_baseline(url, mix, args.clients, args.raw_duration)
        log("raw look-ups on 1 connection, never prepared…")
        results["raw_1_unprepared"] = raw_baseline(
            url, mix, 1, args.raw_duration, prepare=False
        )
    finally:
        if gunicorn is not None:
            gunicorn.stop()
    results["ratios"] = {
        "api_over_raw_1": results["api"]["rps"] / results["raw_1"]["rps"],
        "api_over_raw_n": results["api"]["rps"] / results["raw_n"]["rps"],
        "api_over_raw_1_unprepared": results["api"]["rps"]
        / results["raw_1_unprepared"]["rps"],
    }
    if "small" in results:
        big = statistics.median(results["refresh_10k_s"])
        small = statistics.median(results["small"]["refresh_10k_s"])
        results["ratios"]["aggregation_big_over_small"] = big / small
    results["bench_seconds"] = time.perf_counter() - bench_start
    (OUT / "query.json").write_text(json.dumps(results, indent=2, default=str))
    report(results, args)
    return 0


def report(results: dict, args) -> None:
    from rich.console import Console
    from rich.table import Table

    api, raw1, rawn = results["api"], results["raw_1"], results["raw_n"]
    ratios = results["ratios"]
    table = Table(title=f"Query benchmark ({results['env']['database']})")
    for column in ("measure", "value", "target", "ok"):
        table.add_column(column, justify="left" if column == "measure" else "right")

    def row(name, value, target="", ok=None):
        mark = "" if ok is None else ("yes" if ok else "NO")
        table.add_row(name, value, target, mark)

    seeding = results["seeding"]
    if seeding.get("reused"):
        row(f"reused database of {seeding['records_record']:,} records", "")
    else:
        row(
            f"seeding {seeding['records_record']:,} records (gen+ingest+rebuild)",
            f"{seeding['total_s']:.1f} s",
        )
        row(
            "profiles_rebuild(), first (inserts)",
            f"{seeding['rebuild_insert_s']:.2f} s",
        )
        row(
            "profiles_rebuild(), again (updates)",
            f"{results['rebuild_update_s']:.2f} s",
        )
        big = statistics.median(results["refresh_10k_s"])
        row(f"10k-subject refresh at {args.records:,} (median)", f"{big:.3f} s")
    if "small" in results:
        small = statistics.median(results["small"]["refresh_10k_s"])
        row(f"10k-subject refresh at {args.small_records:,} (median)", f"{small:.3f} s")
        value = ratios["aggregation_big_over_small"]
        row("aggregation ratio big ÷ small", f"{value:.2f}", "≤ 1.5", value <= 1.5)
    row(
        f"query API: {api['requests']:,} requests in {api['seconds']:.1f} s",
        f"{api['rps']:,.0f} rps",
        "≥ 300 rps",
        api["rps"] >= 300,
    )
    row("  p50 / p95", f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} ms")
    row("  p99", f"{api['p99_ms']:.1f} ms", "≤ 25 ms", api["p99_ms"] <= 25)
    row("  max", f"{api['max_ms']:.1f} ms")
    row("  statuses", ", ".join(f"{k}: {v:,}" for k, v in api["statuses"].items()))
    row("  errors (not 200/404)", f"{api['errors']:,}", "0", api["errors"] == 0)
    other = api["machine_cpu_share"] - api["client_cpu_share"]
    other -= api["gunicorn_cpu_share"] + api["postgres_cpu_share"]
    row(
        "  CPU cores: client / gunicorn / postgres / rest / machine",
        f"{api['client_cpu_share']:.2f} / {api['gunicorn_cpu_share']:.2f} / "
        f"{api['postgres_cpu_share']:.2f} / {other:.2f} / "
        f"{api['machine_cpu_share']:.2f}",
    )
    row(
        "  machine speed: 2M-step Python loop before / after the load",
        f"{results['python_speed_ms_before']:.0f} / "
        f"{results['python_speed_ms_after']:.0f} ms",
    )
    n = rawn["connections"]
    raw1u = results["raw_1_unprepared"]
    row("raw psycopg look-up, 1 connection", f"{raw1['rps']:,.0f} /s")
    row(f"raw psycopg look-up, {n} connections", f"{rawn['rps']:,.0f} /s")
    row("raw look-up, 1 connection, unprepared", f"{raw1u['rps']:,.0f} /s")
    value = ratios["api_over_raw_1"]
    row(
        "API ÷ raw, 1 connection (DESIGN ratio)",
        f"{value:.3f}",
        "≥ 0.15",
        value >= 0.15,
    )
    row(f"API ÷ raw, {n} connections", f"{ratios['api_over_raw_n']:.3f}")
    row(
        "API ÷ raw, 1 connection unprepared",
        f"{ratios['api_over_raw_1_unprepared']:.3f}",
    )
    Console(width=120).print(table)
    for example in api["error_examples"]:
        print(f"error example: {example}")
    sql = results.get("sql_per_query", {})
    for label, data in sql.items():
        print(f"SQL statements per {label} ({data['status']}): {data['statements']}")
    clients = args.clients
    print(
        f"{clients} closed-loop clients: mean latency ≈ clients ÷ rps = "
        f"{clients / api['rps'] * 1000:.1f} ms (measured {api['mean_ms']:.1f} ms)"
    )
    if api["client_cpu_share"] > 0.85 and api["client_procs"] <= 1:
        print(
            "note: the client threads used ≈ one core (GIL): the client may limit "
            "rps; try --client-procs 2"
        )
    git = results["git"]
    print(f"measured commit {git['head'][:10]}, {git['modified_files']} files modified")
    print(f"benchmark took {results['bench_seconds']:.0f} s; bench/out/query.json")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    raise SystemExit(main())
