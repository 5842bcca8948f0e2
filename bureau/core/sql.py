"""Hot-path SQL without the ORM's per-call compilation.

The query endpoint runs a handful of tiny statements per request; building each
one through the ORM cost more CPU than PostgreSQL spent answering it. These
helpers make the SQL once per process from the model's own metadata (table,
columns, field conversions), so a model change still flows through, and then only
bind parameters.
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


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


def insert_new(obj: M) -> M:
    """INSERT a new instance as `obj.save(force_insert=True)` would: related
    fields checked, each field's `pre_save` (defaults, auto_now) and database
    preparation; an auto id is set from RETURNING. Models with save signals
    connected, or anything `_insert_sql` declines, go through `save()` itself."""
    model = type(obj)
    compiled = _insert_sql(model)
    if (
        compiled is None
        or (obj._meta.auto_field is not None and obj.pk is not None)
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        obj.save(force_insert=True)
        return obj
    sql, fields, returning = compiled
    obj._prepare_related_fields_for_save(operation_name="save")
    params = [
        field.get_db_prep_save(field.pre_save(obj, add=True), connection)
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning is not None:
            setattr(obj, returning.attname, cursor.fetchone()[0])
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


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
