"""No identity number or phone in a log line: the record factory, the console
handler's filter (message, args, kv, exception) and gunicorn's access log."""

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from bureau.core.logging import IdentityMaskFilter, KeyValueFormatter
from bureau.gunicorn_conf import MaskingLogger, access_log_format

ID_X = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Shadows the suite-wide cache reset: these tests touch no Redis."""
    yield


@pytest.fixture
def console(caplog):
    """The root logger's configured console handler, writing into a buffer, at
    INFO (a Celery test worker leaves the root logger at ERROR)."""
    caplog.set_level(logging.INFO)
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_message_and_args_when_logged_are_masked_for_every_handler(caplog, console):
    caplog.set_level(logging.INFO)
    logging.getLogger("bureau.test").info("looked up %s for %s", ID_X, PHONE)
    line = console.getvalue()
    assert "110105********002X" in line and "138****5678" in line
    assert ID_X not in line and PHONE not in line
    assert ID_X not in caplog.text and PHONE not in caplog.text


def test_kv_extra_when_logged_is_masked_on_the_console(console):
    logging.getLogger("bureau.test").warning(
        "refused", extra={"kv": {"actor": f"+86{PHONE}", "batch": 7, "ok": True}}
    )
    line = console.getvalue()
    assert "actor=+86138****5678" in line and "batch=7" in line and "ok=True" in line
    assert PHONE not in line


def test_exception_when_logged_has_its_traceback_masked(caplog, console):
    caplog.set_level(logging.INFO)
    try:
        int(f"number {ID_X}")
    except ValueError:
        logging.getLogger("bureau.test").exception("parse failed")
    assert "ValueError" in console.getvalue()
    assert ID_X not in console.getvalue() and ID_X not in caplog.text


def test_logger_outside_the_configured_tree_when_used_is_masked_at_creation():
    """A handler Bureau did not configure (gunicorn's, Celery's) still gets a
    masked message: the record factory masks it before any handler."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    log = logging.getLogger("elsewhere.untouched")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        log.warning("path /x/%s/", PHONE)
    finally:
        log.removeHandler(handler)
    assert buffer.getvalue() == "path /x/138****5678/\n"


def test_filter_when_applied_twice_changes_nothing():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "id %s", (ID_X,), None)
    record.kv = {"phone": PHONE}
    IdentityMaskFilter().filter(record)
    first = KeyValueFormatter().format(record)
    IdentityMaskFilter().filter(record)
    assert KeyValueFormatter().format(record) == first
    assert ID_X not in first and PHONE not in first


# -- gunicorn ---------------------------------------------------------------------


def _access_line(access_format: str) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", access_format)
    logger = MaskingLogger(cfg)
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(buffer)
    query = f"object_id={ID_X}&actor=%2B86{PHONE}"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/audit-events/?{query}",
        "PATH_INFO": f"/api/v1/subjects/{PHONE}/",
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://bureau.example/audit?actor={PHONE}",
    }
    resp = SimpleNamespace(
        status="200 OK", sent=42, headers=[("X-Request-ID", "req-1")]
    )
    req = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger.access(resp, req, environ, timedelta(milliseconds=12))
    return buffer.getvalue()


def test_access_line_when_configured_is_key_value_without_query_string():
    line = _access_line(access_log_format)
    assert line.strip() == (
        'remote=127.0.0.1 method=GET path="/api/v1/subjects/138****5678/" '
        "status=200 bytes=42 duration_ms=12 request_id=req-1"
    )


def test_access_line_when_format_asks_for_query_and_referrer_still_has_none():
    """gunicorn's default (combined) format names the request line and referrer:
    the atoms carry no query string, and what is left is masked."""
    line = _access_line(
        '%(h)s "%(r)s" %(q)s "%(f)s" "%({referer}i)s" %({query_string}e)s'
    )
    assert "object_id" not in line and "actor" not in line
    assert ID_X not in line and PHONE not in line
    assert "/api/v1/subjects/138****5678/" in line
