"""Hot-path SQL without the ORM's per-call compilation.

The query endpoint runs a handful of tiny statements per request; building each
one through the ORM cost more CPU than PostgreSQL spent answering it. These
helpers make the SQL once per process from the model's own metadata (table,
columns, field conversions), so a model change still flows through, and then only
bind parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from django.db import NotSupportedError, connection
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


@contextmanager
def _server_binding_cursor() -> Iterator:
    """`connection.cursor()` with server-side binding, wrapped as Django wraps its
    cursors: errors translated, execute wrappers and the query log apply."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(ServerBindingCursor(connection.connection))
    with cursor:
        yield cursor


def _is_stale_plan(error: Exception) -> bool:
    return getattr(
        error.__cause__, "sqlstate", None
    ) == "0A000" and "cached plan must not change result type" in str(error)


def fetchone_prepared(sql: str, params) -> tuple | None:
    """Run one of the hot path's fixed statements and return its first row.

    Server-side binding lets psycopg prepare the statement once a connection has
    run it `prepare_threshold` times (settings.py), after which PostgreSQL plans
    it once per connection instead of once per request: planning the report's
    read cost several times executing it. Django's client-side binding never
    prepares.

    A migration that changes the columns a prepared statement returns makes it
    fail ("cached plan must not change result type") on connections that
    prepared it before. Outside a transaction block nothing was done (the
    statement was its own transaction): the connection is replaced and the
    statement run once more. Inside one the error stands; the rollback clears
    psycopg's statements."""

    def run() -> tuple | None:
        with _server_binding_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    try:
        return run()
    except NotSupportedError as error:
        in_transaction = connection.in_atomic_block or not connection.get_autocommit()
        if in_transaction or not _is_stale_plan(error):
            raise
    connection.close()
    return run()


@cache
def _insert_sql(model: type[Model]) -> tuple[str, tuple, object] | None:
    """The INSERT for `model`, or None when a plain INSERT of every concrete field
    is not what `save()` would do (inheritance, generated or database-default
    fields, `order_with_respect_to`, a custom `save`)."""
    meta = model._meta
    auto = meta.auto_field
    if (
        model.save is not Model.save
        or meta.parents
        or meta.order_with_respect_to
        or any(f.generated or f.has_db_default() for f in meta.concrete_fields)
    ):
        return None
    fields = tuple(field for field in meta.concrete_fields if field is not auto)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
    if auto:
        sql += f" RETURNING {quote(auto.column)}"
    return sql, fields, auto


def _compiled_for(obj: Model) -> tuple[str, tuple, object] | None:
    """`_insert_sql` for this instance, or None when it must go through `save()`:
    save signals connected, or an auto id given by the caller."""
    model = type(obj)
    compiled = _insert_sql(model)
    if (
        compiled is None
        or (obj._meta.auto_field is not None and obj.pk is not None)
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        return None
    return compiled


def insert_params(obj: Model, fields: tuple) -> list:
    """What `save()` would bind for `fields` of new `obj`: related fields checked,
    each field's `pre_save` (defaults, auto_now) and database preparation."""
    obj._prepare_related_fields_for_save(operation_name="save")
    return [
        field.get_db_prep_save(field.pre_save(obj, add=True), connection)
        for field in fields
    ]


def mark_saved(obj: Model) -> None:
    """`obj` is a row in the database now, as after `save()`."""
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_new(obj: M) -> M:
    """INSERT a new instance as `obj.save(force_insert=True)` would: related
    fields checked, each field's `pre_save` (defaults, auto_now) and database
    preparation; an auto id is set from RETURNING. Models with save signals
    connected, or anything `_insert_sql` declines, go through `save()` itself."""
    compiled = _compiled_for(obj)
    if compiled is None:
        obj.save(force_insert=True)
        return obj
    sql, fields, returning = compiled
    params = insert_params(obj, fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning is not None:
            setattr(obj, returning.attname, cursor.fetchone()[0])
    mark_saved(obj)
    return obj


@dataclass(frozen=True)
class PendingInsert:
    """The INSERT of a new instance, to run as a data-modifying CTE inside another
    statement (`WITH … AS (INSERT …) <statement>`): both commit together with no
    transaction block around them, in one round trip."""

    obj: Model
    sql: str
    params: list

    def done(self) -> None:
        """Call once the statement carrying the INSERT has run."""
        mark_saved(self.obj)


def pending_insert(obj: Model) -> PendingInsert | None:
    """`obj`'s INSERT to embed in another statement, or None when it must be saved
    on its own: `insert_new` would not run it, or it needs RETURNING (auto id)."""
    compiled = _compiled_for(obj)
    if compiled is None or compiled[2] is not None:
        return None
    sql, fields, _ = compiled
    return PendingInsert(obj=obj, sql=sql, params=insert_params(obj, fields))


@cache
def select_columns(model: type[Model], alias: str = "") -> tuple[str, tuple[str, ...]]:
    """`alias.col, …` for every concrete field, and their attnames, in the order
    `Model.from_db` takes them. Only for models whose fields need no conversion
    from the database value (no `from_db_value`, e.g. no JSON fields)."""
    quote = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    fields = model._meta.concrete_fields
    converted = [f.name for f in fields if hasattr(f, "from_db_value")]
    if converted:
        raise TypeError(f"{model.__name__} fields need conversion: {converted}")
    columns = ", ".join(prefix + quote(field.column) for field in fields)
    return columns, tuple(field.attname for field in fields)


def instance_from_row(model: type[M], attnames: tuple[str, ...], row) -> M:
    """A model instance from a row of `select_columns(model)`."""
    return model.from_db(connection.alias, attnames, row)
