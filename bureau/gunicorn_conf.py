"""gunicorn settings, wherever Bureau's web server runs (the image, compose, `make
demo`): `gunicorn bureau.wsgi --config python:bureau.gunicorn_conf`.

The access log is one key=value line per request, with the request id the
response carries, and never a query string or a referrer: filters such as
`?object_id=…&actor=…` name people. Every line of gunicorn's own loggers is also
masked like the application's (bureau/core/logging.py), so an identity number or
phone in a path never reaches the log either.
"""

from __future__ import annotations

from gunicorn import glogging

from bureau.core.logging import IdentityMaskFilter

# Atoms: h remote address, m method, U path without the query string, s status,
# B body bytes, M duration in ms, {x-request-id}o the response's request id.
accesslog = "-"
access_log_format = (
    'remote=%(h)s method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s '
    "duration_ms=%(M)s request_id=%({x-request-id}o)s"
)

# Atoms that carry the query string, dropped or cut whatever the format says.
_QUERY_ATOMS = ("{query_string}e", "{raw_uri}e", "{request_uri}e")


def _without_query(url: str) -> str:
    return url.split("?", 1)[0] if url else url


class MaskingLogger(glogging.Logger):
    """gunicorn's logger, with the query string kept out of every access atom and
    identity-shaped text masked in every line it writes."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, IdentityMaskFilter) for f in log.filters):
                log.addFilter(IdentityMaskFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO", "")
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {atoms.get('H')}"
        atoms["q"] = "-"
        atoms["f"] = _without_query(atoms.get("f", "-"))
        atoms["{referer}i"] = _without_query(atoms.get("{referer}i", ""))
        for name in _QUERY_ATOMS:
            atoms.pop(name, None)
        return atoms


logger_class = MaskingLogger
