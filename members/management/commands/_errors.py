"""Turn domain errors into a clean CommandError line for scripts."""

from contextlib import contextmanager

from django.core.management.base import CommandError

from bureau.core.errors import BureauError


@contextmanager
def command_errors():
    try:
        yield
    except BureauError as exc:
        fields = "; ".join(
            f"{name}: {' '.join(msgs)}" for name, msgs in exc.errors.items()
        )
        raise CommandError(f"{exc.detail} {fields}".strip()) from exc
