"""key=value log lines with the request id on every line."""

import logging

from bureau.core.context import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def install_request_id_record_factory() -> None:
    """Stamp the request id on every record at creation, whatever handler sees it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_bureau_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory._bureau_request_id = True
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
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)
