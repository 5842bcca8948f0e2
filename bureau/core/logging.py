"""key=value log lines with the request id on every line, and no identity number
or phone in any of them."""

import logging

from bureau.core.context import request_id_var
from bureau.core.identity_shapes import mask_free_text

_plain = logging.Formatter()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def mask_record(record: logging.LogRecord) -> None:
    """Mask identity numbers and phones in a record, in place: its message (with
    the args merged in), the `kv` extra, the exception and stack text. Whatever
    handler or formatter sees the record after this sees them masked. Masking
    twice changes nothing."""
    try:
        message = record.getMessage()
    except Exception:  # a broken call; the handler reports it as logging does
        message = None
    if message is not None:
        masked = mask_free_text(message)
        if masked != message:
            record.msg, record.args = masked, None
    extra = getattr(record, "kv", None)
    if extra:
        record.kv = {key: _masked_value(value) for key, value in extra.items()}
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text when it is set: formatted once, masked once.
        record.exc_text = _plain.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_free_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_free_text(record.stack_info)


def _masked_value(value: object) -> object:
    if isinstance(value, bool | float) or value is None:
        return value
    text = str(value)
    masked = mask_free_text(text)
    return value if masked == text else masked


class IdentityMaskFilter(logging.Filter):
    """Handler (or logger) filter: `mask_record` on every record that passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_record_factory() -> None:
    """Stamp the request id on every record at creation and mask its message,
    whatever handler sees it (Celery's, gunicorn's, pytest's). Extras such as
    `kv` are set after creation: the handlers' IdentityMaskFilter masks those."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_bureau_record_factory", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        mask_record(record)
        return record

    factory._bureau_record_factory = True  # type: ignore[attr-defined]  # a marker
    logging.setLogRecordFactory(factory)


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(ch in text for ch in ' "=\n'):
        text = (
            '"'
            + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            + '"'
        )
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"request_id={getattr(record, 'request_id', '-')}",
            f"msg={_quote(record.getMessage())}",
        ]
        extra = getattr(record, "kv", None)
        if extra:
            parts.extend(f"{key}={_quote(value)}" for key, value in extra.items())
        if record.exc_text:
            parts.append(f"exc={_quote(record.exc_text)}")
        elif record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)
