"""Query benchmark, what the API is compared with and looked at by: the raw
indexed look-up with psycopg (the ratio's denominator), and one query in-process
(its SQL statements, a cProfile)."""

from __future__ import annotations

import threading
import time

from query_client import QUERY_PATH
from query_mix import request_body

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
