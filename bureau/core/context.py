"""Per-request context carried in contextvars (request id, client IP)."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)


def current_request_id() -> str:
    """The request id, or "" outside a request (jobs, commands)."""
    request_id = request_id_var.get()
    return "" if request_id == "-" else request_id
