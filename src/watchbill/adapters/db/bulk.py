"""Inserting thousands of rows in one go, for the writes of a storm.

An escalation storm writes about five rows per step (timeline entries, deliveries, their
jobs), ten thousand steps in a second. Through SQLAlchemy's executemany each row is
first built into a dict of parameters and converted value by value, which was a fifth
of a step's cost. Here the statement is planned once per table and set of columns, each
column's own conversion (the column type's bind processor) is applied to the values,
and the rows go to the driver as they are: on PostgreSQL by COPY where no conflict is
to be skipped, otherwise by the driver's executemany.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    copy: bool
    converters: tuple[tuple[str, Callable[[Any], Any] | None], ...]


def insert_rows(
    session: Session | Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts_on: str | None = None,
) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction.
    With `skip_conflicts_on` (a column with a unique index), a row whose value is already
    there is left out, as `ON CONFLICT DO NOTHING` does."""
    if not rows:
        return
    if isinstance(session, Session):
        session.flush()  # what the session holds goes first: rows may refer to it
    conn = session if isinstance(session, Connection) else session.connection()
    plan = _plan(table, tuple(rows[0]), conn.dialect, skip_conflicts_on)
    values = [
        tuple(convert(row[key]) if convert else row[key] for key, convert in plan.converters)
        for row in rows
    ]
    if plan.copy:
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(plan.sql) as copy:
            for row_values in values:
                copy.write_row(row_values)
    else:
        conn.exec_driver_sql(plan.sql, values)


@functools.cache
def _plan(
    table: Table, keys: tuple[str, ...], dialect: Dialect, skip_conflicts_on: str | None
) -> _Plan:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(key) for key in keys)
    converters = tuple(
        (key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for key in keys
    )
    if dialect.name == "postgresql" and skip_conflicts_on is None:
        return _Plan(f"COPY {quote(table.name)} ({names}) FROM STDIN", True, converters)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join([marker] * len(keys))})"
    if skip_conflicts_on is not None:
        sql += f" ON CONFLICT ({quote(skip_conflicts_on)}) DO NOTHING"
    return _Plan(sql, False, converters)
