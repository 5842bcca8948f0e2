"""Query benchmark, the client side: a lean HTTP/1.1 client sending prepared
request bytes from closed-loop threads (or processes), and the summary of their
latencies and statuses."""

from __future__ import annotations

import re
import socket
import statistics
import threading
import time
from collections import Counter

QUERY_PATH = "/api/v1/queries/"


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
