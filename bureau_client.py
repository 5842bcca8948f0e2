#!/usr/bin/env python3
"""Bureau uploader: send a furnishing file to the Bureau API and wait for the result.

One file, Python 3.8 or later, standard library only; copy it anywhere. With `rich`
installed (``pip install rich``) progress shows as bars, without it as plain lines::

    python bureau_client.py upload records.csv --url https://bureau.example --key bk_…
    python bureau_client.py status 42
    python bureau_client.py errors 42 --out errors.csv

``--url`` may come from ``BUREAU_URL`` and ``--key`` from ``BUREAU_API_KEY``
(preferred: a key on the command line shows up in the process list).

The file is streamed from disk (never held in memory). Unless ``--idempotency-key``
is given, the key is the file's sha256, so uploading the same file again, or a retry
after a lost connection, returns the batch already created instead of a new one.

Exit codes: 0 completed without rejected rows; 1 completed with rejected rows (they
are written to ``<file>.errors.csv``); 2 the batch failed or the bureau refused the
file or the request; 3 network or usage error (connection refused, timeout, bad
arguments); 4 this Python lacks a module the command needs (``ssl``, for an https
URL); 130 interrupted (the batch goes on on the server).

Progress and tables go to stderr. stdout gets the batch id as its last line, or with
``--quiet`` only the final batch as JSON.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email.utils
import hashlib
import http.client
import ipaddress
import json
import os
import platform
import random
import secrets
import sys
import time
import unicodedata
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote, urlencode, urlsplit

__version__ = "1.0"

try:  # optional: bars and tables; plain lines without it
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.table import Table
except ImportError:
    Console = None  # type: ignore[assignment,misc]

EXIT_OK = 0
EXIT_REJECTED_ROWS = 1
EXIT_REFUSED = 2
EXIT_NETWORK = 3
EXIT_MISSING_MODULE = 4
EXIT_INTERRUPTED = 130

FINAL_STATUSES = ("completed", "completed_with_errors", "failed")
UPLOAD_RETRIES = 3
BLOCK = 256 * 1024
REQUEST_TIMEOUT = 60.0  # per socket operation
UPLOAD_RESPONSE_TIMEOUT = 600.0  # the bureau hashes and checks the file first
MAX_BACKOFF = 30.0
USER_AGENT = f"bureau-client/{__version__} python/{platform.python_version()}"

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".gz": "application/gzip",
}
COUNTS = [
    ("rows_total", "Rows"),
    ("rows_accepted", "Accepted"),
    ("rows_rejected", "Rejected"),
    ("rows_duplicate", "Duplicate"),
    ("rows_stale", "Stale"),
    ("rows_unchanged", "Unchanged"),
    ("records_created", "Records created"),
    ("records_updated", "Records updated"),
    ("records_deleted", "Records deleted"),
    ("subjects_touched", "Subjects touched"),
]


# --------------------------------------------------------------------------- errors
class ClientError(Exception):
    """Ends the command with `exit_code` after printing the message."""

    exit_code = EXIT_NETWORK


class UsageError(ClientError):
    exit_code = EXIT_NETWORK


class NetworkError(ClientError):
    exit_code = EXIT_NETWORK


class MissingModule(ClientError):
    """This Python was built without a module the command needs."""

    exit_code = EXIT_MISSING_MODULE


def _ssl_context() -> Any:
    try:
        import ssl
    except ImportError as exc:
        raise MissingModule(
            "this Python has no 'ssl' module, needed for https URLs: use a Python "
            "built with OpenSSL (your system's python3 package has it)"
        ) from exc
    return ssl.create_default_context()


class Retryable(NetworkError):
    """A 5xx or 429 answer: worth trying again, after `retry_after` if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Refused(ClientError):
    """The bureau answered 4xx: the problem body says why."""

    exit_code = EXIT_REFUSED

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"HTTP {status}: {problem.get('code', 'error')}")


def _clean(value: Any, limit: int = 500) -> str:
    """Server text made safe for a terminal: no control characters, bounded."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- HTTP
class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def problem(self) -> dict[str, Any]:
        body = self.json()
        if isinstance(body, dict) and "code" in body:
            return body
        text = self.body.decode("utf-8", "replace").strip()
        return {"code": f"http_{self.status}", "detail": text[:300] or "(no body)"}

    def retry_after(self) -> float | None:
        value = (self.headers.get("Retry-After") or "").strip()
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())

    def raise_for_status(self) -> None:
        if self.status == 429 or self.status >= 500:
            problem = self.problem()
            raise Retryable(
                f"the bureau answered HTTP {self.status} ({_clean(problem['code'])})",
                self.retry_after(),
            )
        if self.status >= 400:
            raise Refused(self.status, self.problem())
        if self.status >= 300:
            location = self.headers.get("Location", "")
            raise Refused(
                self.status,
                {
                    "code": f"http_{self.status}",
                    "detail": f"Unexpected redirect to {location!r}; check --url "
                    "(https instead of http?).",
                },
            )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Api:
    """The few calls the uploader needs, over http.client (proxy aware)."""

    def __init__(self, base_url: str, key: str) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--url must look like https://bureau.example, not {base_url!r}"
            )
        key = key.strip()
        if not key or not key.isprintable() or any(ch.isspace() for ch in key):
            # Never echo it: the value may be a real key with a stray character.
            raise UsageError("the API key is empty or contains invalid characters")
        self.key = key
        self.scheme = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port or (443 if self.scheme == "https" else 80)
        except ValueError as exc:
            raise UsageError(f"--url has an invalid port: {base_url!r}") from exc
        netloc = parts.netloc.rpartition("@")[2]  # never keep credentials
        self.origin = f"{self.scheme}://{netloc}"
        path = parts.path.rstrip("/")
        if not path.endswith("/api/v1"):
            path += "/api/v1"
        self.base_path = path + "/"

    @property
    def plain_http_to_remote(self) -> bool:
        return self.scheme == "http" and not _is_loopback(self.host)

    def _connection(
        self, timeout: float
    ) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
        """A connection, the request-target prefix ('' or, through a proxy of plain
        http, the origin) and headers for that proxy."""
        proxy = None
        if not _is_loopback(self.host):
            proxy = urllib.request.getproxies().get(self.scheme)
            if proxy and urllib.request.proxy_bypass(self.host):
                proxy = None
        context = _ssl_context() if self.scheme == "https" else None
        if not proxy:
            if context is not None:
                conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=timeout, context=context
                )
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            return conn, "", {}
        p = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        auth = {}
        if p.username:
            token = f"{p.username}:{p.password or ''}".encode()
            auth["Proxy-Authorization"] = "Basic " + base64.b64encode(token).decode()
        port = p.port or 8080
        if context is not None:
            conn = http.client.HTTPSConnection(
                p.hostname, port, timeout=timeout, context=context
            )
            conn.set_tunnel(self.host, self.port, headers=auth)
            return conn, "", {}
        conn = http.client.HTTPConnection(p.hostname, port, timeout=timeout)
        return conn, self.origin, auth

    def url(self, path: str, query: dict[str, str] | None = None) -> str:
        return self.base_path + path + (("?" + urlencode(query)) if query else "")

    def _open(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Iterator[bytes] | None = None,
        length: int | None = None,
        accept: str = "application/json",
        timeout: float = REQUEST_TIMEOUT,
        response_timeout: float | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn, prefix, proxy_headers = self._connection(timeout)
        what = f"{method} {self.origin}{self.url(path)}"
        try:
            conn.putrequest(
                method, prefix + self.url(path, query), skip_accept_encoding=True
            )
            all_headers = {
                "Authorization": f"Bearer {self.key}",
                "User-Agent": USER_AGENT,
                "Accept": accept,
                **proxy_headers,
                **(headers or {}),
            }
            if body is not None:
                all_headers["Content-Length"] = str(length)
            for name, value in all_headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            send_error: BaseException | None = None
            if body is not None:
                try:
                    for block in body:
                        conn.send(block)
                except OSError as exc:
                    # The bureau may answer early (413, 401) and close; read it.
                    send_error = exc
            if response_timeout and conn.sock is not None:
                conn.sock.settimeout(response_timeout)
            try:
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise NetworkError(
                    f"{what} failed: {_clean(send_error or exc) or type(exc).__name__}"
                ) from exc
            return conn, response
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise NetworkError(
                f"cannot reach {self.origin}: {_clean(exc) or type(exc).__name__}"
            ) from exc
        except BaseException:
            conn.close()
            raise

    def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        conn, response = self._open(method, path, **kwargs)
        try:
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise NetworkError(f"reading the answer failed: {_clean(exc)}") from exc
        finally:
            conn.close()
        return Answer(response.status, response.headers, body)

    def download(self, path: str, query: dict[str, str], out: IO[bytes]) -> None:
        conn, response = self._open("GET", path, query=query, accept="*/*")
        try:
            if response.status >= 300:
                Answer(
                    response.status, response.headers, response.read()
                ).raise_for_status()
            while block := response.read(BLOCK):
                out.write(block)
        except (OSError, http.client.HTTPException) as exc:
            raise NetworkError(f"downloading failed: {_clean(exc)}") from exc
        finally:
            conn.close()


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 0.5 * 2**attempt) * (0.75 + random.random() / 2)


def call_with_retries(
    call: Callable[[], Answer],
    *,
    deadline: float,
    warn: Callable[[str], None],
    attempts: int | None = None,
) -> Answer:
    """Retry connection errors, 5xx and 429 (honouring Retry-After) with backoff,
    until `attempts` calls were made or `deadline` (monotonic) would pass."""
    attempt = 0
    while True:
        attempt += 1
        try:
            answer = call()
            answer.raise_for_status()
            return answer
        except NetworkError as exc:
            wait = getattr(exc, "retry_after", None)
            wait = _backoff(attempt) if wait is None else wait
            out_of_attempts = attempts is not None and attempt >= attempts
            if out_of_attempts or time.monotonic() + wait > deadline:
                raise
            warn(f"{exc}; retrying in {wait:.1f}s")
            time.sleep(wait)


# ------------------------------------------------------------------------ multipart
def _file_part_header(boundary: str, filename: str, content_type: str) -> bytes:
    ascii_name = (
        "".join(
            ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename
        )
        or "upload"
    )
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode("ascii")


def multipart_body(
    path: str, fields: dict[str, str], on_sent: Callable[[int], None]
) -> tuple[str, int, Callable[[], Iterator[bytes]]]:
    """(content type, exact length, a factory of the body's blocks).

    The file is read from disk block by block while sending; its size is taken now
    so that Content-Length is known up front."""
    boundary = "bureau-" + secrets.token_hex(16)
    head = b"".join(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n"
        ).encode()
        for name, value in fields.items()
    )
    filename = os.path.basename(path)
    suffix = os.path.splitext(filename.lower())[1]
    head += _file_part_header(
        boundary, filename, CONTENT_TYPES.get(suffix, "application/octet-stream")
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(path)

    def blocks() -> Iterator[bytes]:
        yield head
        on_sent(len(head))
        left = size
        with open(path, "rb") as handle:
            while left > 0:
                block = handle.read(min(BLOCK, left))
                if not block:
                    raise UsageError(f"{path} shrank while it was being sent")
                left -= len(block)
                yield block
                on_sent(len(block))
        yield tail
        on_sent(len(tail))

    return (
        f"multipart/form-data; boundary={boundary}",
        len(head) + size + len(tail),
        blocks,
    )


# -------------------------------------------------------------------------- output
# A message is a sequence of parts: text, or (text, style) shown in that rich style
# (plain text without rich). Server text is passed through _clean() first.
Part = Any


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover - the loop always returns


class PlainProgress:
    """The few calls of rich's Progress used here, as plain lines on stderr:
    rewritten in place on a terminal, else one line per tenth done or new status
    (so that a log stays short)."""

    def __init__(self, label: str | None, *, in_bytes: bool, disabled: bool) -> None:
        self.label = label  # None: show the task's description
        self.in_bytes = in_bytes
        self.disabled = disabled
        self.tty = sys.stderr.isatty()
        self.task: dict[str, Any] = {}
        self.shown: tuple[str, int] | None = None
        self.shown_at = 0.0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task and exc[0] is None:
            self._show(final=True)
        if self.tty and self.shown is not None and not self.disabled:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def add_task(self, description: str, total: float | None = None) -> int:
        self.task = {"description": description, "total": total, "completed": 0.0}
        self._show()
        return 0

    def advance(self, task: int, amount: float) -> None:
        self.task["completed"] += amount
        self._show()

    def reset(self, task: int, total: float | None = None) -> None:
        self.task.update(total=total, completed=0.0)
        self._show()

    def update(
        self, task: int, completed: float | None = None, description: str | None = None
    ) -> None:
        if completed is not None:
            self.task["completed"] = completed
        if description is not None:
            self.task["description"] = description
        self._show()

    def _show(self, final: bool = False) -> None:
        if self.disabled:
            return
        label = self.label or self.task["description"]
        total, done = self.task["total"], self.task["completed"]
        share = min(done / total, 1.0) if total else 0.0
        line = f"{label}: {int(share * 100)}%" if total else f"{label}…"
        if total and self.in_bytes:
            line += f" ({_size(done)} of {_size(total)})"
        now = time.monotonic()
        if self.tty:
            if final or now - self.shown_at >= 0.2 or self.shown is None:
                sys.stderr.write("\r\x1b[K" + line)
                self.shown, self.shown_at = (label, int(share * 10)), now
        else:
            step = (label, int(share * 10))
            # A log gets a line per tenth of the bytes, or per new batch status.
            if step == self.shown or not total or (self.in_bytes and not step[1]):
                return
            sys.stderr.write(line + "\n")
            self.shown = step
        sys.stderr.flush()


class Ui:
    """Messages, progress and the batch table on stderr, with rich when it is
    installed. Errors are shown even with --quiet; progress and tables are not."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.rich = Console is not None
        if self.rich:
            self.err = Console(stderr=True, highlight=False, soft_wrap=True)
            self.out = Console(
                stderr=True, highlight=False, soft_wrap=True, quiet=quiet
            )

    def _line(self, *parts: Part, always: bool = False) -> None:
        if self.quiet and not always:
            return
        if self.rich:
            self.err.print(
                "".join(
                    escape(str(p)) if not isinstance(p, tuple) else
                    f"[{p[1]}]{escape(str(p[0]))}[/]"
                    for p in parts
                )
            )  # fmt: skip
        else:
            text = "".join(str(p[0] if isinstance(p, tuple) else p) for p in parts)
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def say(self, *parts: Part) -> None:
        self._line(*parts)

    def warn(self, message: str) -> None:
        self._line(("warning:", "yellow"), " ", message, always=True)

    def error(self, message: str) -> None:
        self._line(("error:", "bold red"), " ", message, always=True)

    def problem(self, exc: Refused) -> None:
        problem = exc.problem
        self._line(
            ("refused", "bold red"), f" (HTTP {exc.status}): ",
            (_clean(problem.get("code", "error")), "bold"), always=True,
        )  # fmt: skip
        if problem.get("detail"):
            self._line("  " + _clean(problem["detail"]), always=True)
        errors = problem.get("errors") or {}
        if isinstance(errors, dict):
            for field, messages in errors.items():
                if not isinstance(messages, list):
                    messages = [messages]
                for message in messages[:50]:
                    self._line(
                        "  ", (_clean(field, 80), "cyan"), ": " + _clean(message),
                        always=True,
                    )  # fmt: skip
                if len(messages) > 50:
                    self._line(f"  … and {len(messages) - 50} more", always=True)
        if problem.get("request_id"):
            self._line(f"  request id: {_clean(problem['request_id'])}", always=True)

    def progress(self, kind: str) -> Any:
        """A progress display for `kind`: hash, upload (bytes) or wait (a batch)."""
        if not self.rich:
            label = {"hash": "hashing", "upload": "uploading"}.get(kind)
            return PlainProgress(label, in_bytes=kind != "wait", disabled=self.quiet)
        columns = {
            "hash": (TextColumn("hashing"), BarColumn(), DownloadColumn(),
                     TimeRemainingColumn()),
            "upload": (TextColumn("uploading"), BarColumn(), DownloadColumn(),
                       TransferSpeedColumn(), TimeRemainingColumn()),
            "wait": (TextColumn("{task.description}"), BarColumn(),
                     TaskProgressColumn(), TimeElapsedColumn()),
        }[kind]  # fmt: skip
        return Progress(*columns, console=self.out, disable=self.quiet)

    def table(self, batch: dict[str, Any]) -> None:
        status = _clean(batch.get("status", "?"))
        colour = {
            "completed": "green",
            "completed_with_errors": "yellow",
            "failed": "red",
        }.get(status, "white")
        title: list[Part] = ["Batch ", (str(batch.get("id")), "bold"), ": "]
        title.append((status, colour))
        if batch.get("validate_only"):
            title.append(" (validate only: nothing was written)")
        self._line(*title)
        rows = [(label, str(batch.get(field)), field) for field, label in COUNTS]
        duration = batch.get("duration_seconds")
        rows.append(
            ("Duration", "–" if duration is None else f"{duration:.1f} s", "duration")
        )
        if self.rich:
            table = Table(show_header=False)
            table.add_column("What")
            table.add_column("Count", justify="right")
            for label, value, field in rows:
                red = field == "rows_rejected" and batch.get(field)
                table.add_row(label, f"[red]{value}[/]" if red else value)
            self.out.print(table)
        else:
            for label, value, _ in rows:
                self._line(f"  {label:<18}{value:>10}")
        if batch.get("failure_reason"):
            self._line(
                ("failure:", "bold red"), " " + _clean(batch["failure_reason"]),
                always=True,
            )  # fmt: skip


# ------------------------------------------------------------------------- commands
def file_sha256(path: str, ui: Ui) -> str:
    digest = hashlib.sha256()
    size = os.path.getsize(path)
    with ui.progress("hash") as progress:
        task = progress.add_task("hash", total=size)
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
                progress.advance(task, len(block))
    return digest.hexdigest()


def upload_file(api: Api, args: argparse.Namespace, ui: Ui) -> tuple[dict, bool]:
    """POST the file, retrying up to UPLOAD_RETRIES times. Returns (batch, created)."""
    fields = {}
    if args.format:
        fields["format"] = args.format
    if args.encoding:
        fields["encoding"] = args.encoding
    if args.validate_only:
        fields["validate_only"] = "true"
    if args.strict:
        fields["strict"] = "true"
    key = args.idempotency_key
    if not key:
        key = file_sha256(args.file, ui)
        if args.validate_only:  # a check must not stand in for the real upload
            key += "-validate"
    deadline = time.monotonic() + args.timeout
    with ui.progress("upload") as progress:
        task = progress.add_task("upload", total=None)

        def sent(n: int) -> None:
            progress.advance(task, n)

        def attempt() -> Answer:
            content_type, length, blocks = multipart_body(args.file, fields, sent)
            progress.reset(task, total=length)
            return api.call(
                "POST",
                "batches/",
                body=blocks(),
                length=length,
                headers={"Content-Type": content_type, "Idempotency-Key": key},
                response_timeout=UPLOAD_RESPONSE_TIMEOUT,
            )

        answer = call_with_retries(
            attempt, deadline=deadline, warn=ui.warn, attempts=1 + UPLOAD_RETRIES
        )
    batch = answer.json()
    if not isinstance(batch, dict) or "id" not in batch:
        raise NetworkError(f"unexpected answer to the upload (HTTP {answer.status})")
    return batch, answer.status == 201 or answer.status == 202


def get_batch(api: Api, batch_id: Any, *, deadline: float, ui: Ui) -> dict:
    answer = call_with_retries(
        lambda: api.call("GET", f"batches/{batch_id}/"), deadline=deadline, warn=ui.warn
    )
    batch = answer.json()
    if not isinstance(batch, dict) or "id" not in batch:
        raise NetworkError(f"unexpected answer for batch {batch_id}: not a batch")
    return batch


def wait_for_batch(api: Api, batch: dict, args: argparse.Namespace, ui: Ui) -> dict:
    deadline = time.monotonic() + args.timeout
    with ui.progress("wait") as progress:
        task = progress.add_task(_clean(batch["status"]), total=1.0)
        while True:
            progress.update(
                task,
                completed=float(batch.get("progress") or 0.0),
                description=_clean(batch.get("status", "?")),
            )
            if batch.get("status") in FINAL_STATUSES:
                return batch
            if time.monotonic() + args.poll_interval > deadline:
                raise NetworkError(
                    f"batch {batch['id']} is still {batch.get('status')} after "
                    f"{args.timeout:g}s; it goes on on the server: "
                    f"`status {batch['id']}` shows it later"
                )
            time.sleep(args.poll_interval)
            batch = get_batch(api, batch["id"], deadline=deadline, ui=ui)


def save_errors(api: Api, batch_id: Any, target: str) -> None:
    """Stream the rejected rows as CSV to `target` ('-' = stdout), atomically."""
    query = {"format": "csv"}
    if target == "-":
        api.download(f"batches/{batch_id}/errors/", query, sys.stdout.buffer)
        sys.stdout.flush()
        return
    partial = f"{target}.part"
    try:
        with open(partial, "wb") as out:
            api.download(f"batches/{batch_id}/errors/", query, out)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise


def outcome(batch: dict) -> int:
    if batch.get("status") == "failed":
        return EXIT_REFUSED
    if batch.get("rows_rejected") or batch.get("status") == "completed_with_errors":
        return EXIT_REJECTED_ROWS
    return EXIT_OK


def finish(batch: dict, ui: Ui, args: argparse.Namespace) -> None:
    """The last thing on stdout: the batch as JSON (--quiet) or its id."""
    if args.quiet:
        print(json.dumps(batch, ensure_ascii=False), flush=True)
    else:
        print(batch["id"], flush=True)


def cmd_upload(api: Api, args: argparse.Namespace, ui: Ui) -> int:
    if not os.path.isfile(args.file):
        raise UsageError(f"no such file: {args.file}")
    batch, created = upload_file(api, args, ui)
    if created:
        ui.say("Accepted as batch ", (str(batch["id"]), "bold"), ".")
    else:
        ui.say(
            "This file was already uploaded: batch ", (str(batch["id"]), "bold"),
            f" (received {_clean(batch.get('received_at', '?'))}).",
        )  # fmt: skip
    if args.no_wait:
        finish(batch, ui, args)
        return EXIT_OK
    batch = wait_for_batch(api, batch, args, ui)
    ui.table(batch)
    if batch.get("rows_rejected"):
        target = args.file + ".errors.csv"
        try:
            save_errors(api, batch["id"], target)
            ui.say(
                f"{batch['rows_rejected']} rejected rows written to ", (target, "bold")
            )
        except (ClientError, OSError) as exc:
            ui.warn(
                f"could not save the rejected rows to {target}: {exc}; "
                f"try `errors {batch['id']} --out FILE`"
            )
    finish(batch, ui, args)
    return outcome(batch)


def cmd_status(api: Api, args: argparse.Namespace, ui: Ui) -> int:
    batch = get_batch(
        api, args.batch_id, deadline=time.monotonic() + args.timeout, ui=ui
    )
    ui.table(batch)
    print(json.dumps(batch, ensure_ascii=False), flush=True)
    return outcome(batch)


def cmd_errors(api: Api, args: argparse.Namespace, ui: Ui) -> int:
    deadline = time.monotonic() + args.timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            save_errors(api, args.batch_id, args.out)
            break
        except NetworkError as exc:
            wait = getattr(exc, "retry_after", None)
            wait = _backoff(attempt) if wait is None else wait
            # stdout may already hold part of the CSV: no retry there.
            if args.out == "-" or time.monotonic() + wait > deadline:
                raise
            ui.warn(f"{exc}; retrying in {wait:.1f}s")
            time.sleep(wait)
    if args.out != "-":
        ui.say("Rejected rows written to ", (args.out, "bold"))
    return EXIT_OK


# ---------------------------------------------------------------------------- CLI
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors exit 3, not argparse's 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_NETWORK, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bureau-upload",
        description="Upload furnishing files to the Bureau and follow their ingest.",
        epilog="Exit codes: 0 ok; 1 rejected rows; 2 failed or refused; "
        "3 network or usage error; 4 a module this Python lacks (ssl).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=os.environ.get("BUREAU_URL"),
        help="bureau base URL, e.g. https://bureau.example (env BUREAU_URL)",
    )
    common.add_argument(
        "--key",
        default=os.environ.get("BUREAU_API_KEY"),
        help="API key with the upload scope (env BUREAU_API_KEY)",
    )
    common.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress; print only the batch JSON on stdout",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = sub.add_parser("upload", parents=[common], help="upload a file and wait")
    up.add_argument("file", help="CSV or JSONL file, optionally .gz")
    up.add_argument("--format", choices=["csv", "jsonl"])
    up.add_argument("--encoding", choices=["utf-8", "gbk"])
    up.add_argument(
        "--validate-only",
        action="store_true",
        help="check the file and report; write nothing",
    )
    up.add_argument(
        "--strict", action="store_true", help="refuse the whole batch if any row fails"
    )
    up.add_argument(
        "--idempotency-key", help="default: the file's sha256, so retries are safe"
    )
    up.add_argument("--poll-interval", type=_positive, default=1.0, metavar="SECONDS")
    up.add_argument(
        "--timeout",
        type=_positive,
        default=3600.0,
        metavar="SECONDS",
        help="give up waiting after this long (exit 3)",
    )
    up.add_argument(
        "--no-wait",
        action="store_true",
        help="return once the bureau accepted the file",
    )
    up.set_defaults(handler=cmd_upload)

    st = sub.add_parser("status", parents=[common], help="show a batch (JSON)")
    st.add_argument("batch_id", type=int)
    st.add_argument("--timeout", type=_positive, default=60.0, metavar="SECONDS")
    st.set_defaults(handler=cmd_status)

    er = sub.add_parser("errors", parents=[common], help="download rejected rows")
    er.add_argument("batch_id", type=int)
    er.add_argument("--out", default="-", help="CSV file to write (default stdout)")
    er.add_argument("--timeout", type=_positive, default=60.0, metavar="SECONDS")
    er.set_defaults(handler=cmd_errors)
    return parser


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {value!r}")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ui = Ui(quiet=args.quiet)
    if not args.url:
        parser.error("--url is required (or set BUREAU_URL)")
    if not args.key:
        parser.error("--key is required (or set BUREAU_API_KEY)")
    try:
        api = Api(args.url, args.key)
        if api.plain_http_to_remote:
            ui.warn(f"{api.origin} is plain http: the API key travels unencrypted")
        return args.handler(api, args, ui)
    except Refused as exc:
        ui.problem(exc)
        return exc.exit_code
    except ClientError as exc:
        ui.error(str(exc))
        return exc.exit_code
    except OSError as exc:  # local files: unreadable input, unwritable output
        ui.error(_clean(exc))
        return EXIT_NETWORK
    except KeyboardInterrupt:
        ui.error("interrupted (a batch already accepted goes on on the server)")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
