"""Many rows in one statement: what an applied quota batch writes (master.relay_host).

`add_by_id` adds per-id amounts to integer columns of one table: on PostgreSQL one
`UPDATE … FROM unnest(arrays)`, on MySQL/MariaDB an `UPDATE … JOIN` a derived table of the rows (in
chunks of MYSQL_CHUNK), on SQLite one executemany (in process: no round trips to save). The
change-log triggers (master/db/change_triggers.py) still record every updated row, in the caller's
transaction. `insert_rows` writes log rows by COPY on PostgreSQL and by one executemany elsewhere
(which the MySQL driver sends as a multi-row INSERT).

The SQL goes to the driver as is (`exec_driver_sql`, in each driver's placeholder style): it is
built from table and column names only, and the amounts travel as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

MYSQL_CHUNK = 1000  # rows per UPDATE … JOIN: a statement of ~40 KB


def _quote(conn: AsyncConnection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


async def add_by_id(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[int, ...]], fixed: Mapping[str, int] | None = None
) -> None:
    """For each (id, amount per column) of `rows`: `column = column + amount` on the row with that
    id, and each `fixed` column set to its value. Ids without a row are skipped, as an UPDATE
    skips them. Rows go sorted by id (SQLite's executemany and MySQL's chunks take them so)."""
    if not rows:
        return
    rows = sorted(rows)
    fixed = dict(fixed or {})
    dialect = conn.dialect.name
    if dialect == "postgresql":
        await _add_postgresql(conn, table, columns, rows, fixed)
    elif dialect == "mysql":
        for start in range(0, len(rows), MYSQL_CHUNK):
            await _add_mysql(conn, table, columns, rows[start : start + MYSQL_CHUNK], fixed)
    else:
        await _add_each(conn, table, columns, rows, fixed)


async def _add_postgresql(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[int, ...]], fixed: Mapping[str, int]
) -> None:
    # One array parameter per column, whatever the row count.
    name = _quote(conn, table.name)
    width = len(columns) + 1
    arrays = ", ".join(f"CAST(${i + 1} AS BIGINT[])" for i in range(width))
    names = ", ".join(["id"] + [f"a{i}" for i in range(len(columns))])
    sets = [f"{_quote(conn, c)} = {name}.{_quote(conn, c)} + v.a{i}" for i, c in enumerate(columns)]
    sets += [f"{_quote(conn, c)} = ${width + i + 1}" for i, c in enumerate(fixed)]
    # `id = ANY(ids)` besides the join: without it the planner, told the array's length, joins by
    # reading the whole table (70 ms at 100,000 tokens, against 30 ms through the primary key).
    sql = f"UPDATE {name} SET {', '.join(sets)} FROM unnest({arrays}) AS v({names}) WHERE {name}.id = v.id AND {name}.id = ANY($1)"
    params = tuple(list(column) for column in zip(*rows, strict=True)) + tuple(fixed.values())
    await conn.exec_driver_sql(sql, params)


async def _add_mysql(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[int, ...]], fixed: Mapping[str, int]
) -> None:
    # MySQL and MariaDB share no VALUES-as-a-table syntax; a UNION ALL of one-row SELECTs is both's.
    first = ", ".join(["%s AS id"] + [f"%s AS a{i}" for i in range(len(columns))])
    other = ", ".join(["%s"] * (len(columns) + 1))
    derived = " UNION ALL ".join([f"SELECT {first}"] + [f"SELECT {other}"] * (len(rows) - 1))
    sets = [f"t.{_quote(conn, c)} = t.{_quote(conn, c)} + v.a{i}" for i, c in enumerate(columns)]
    sets += [f"t.{_quote(conn, c)} = %s" for c in fixed]
    sql = f"UPDATE {_quote(conn, table.name)} AS t JOIN ({derived}) AS v ON t.id = v.id SET {', '.join(sets)}"
    params = tuple(value for row in rows for value in row) + tuple(fixed.values())
    await conn.exec_driver_sql(sql, params)


async def _add_each(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[int, ...]], fixed: Mapping[str, int]
) -> None:
    sets = [f"{_quote(conn, c)} = {_quote(conn, c)} + ?" for c in columns] + [f"{_quote(conn, c)} = ?" for c in fixed]
    sql = f"UPDATE {_quote(conn, table.name)} SET {', '.join(sets)} WHERE id = ?"
    tail = tuple(fixed.values())
    await conn.exec_driver_sql(sql, [(*row[1:], *tail, row[0]) for row in rows])


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name). A column some rows lack gets, in those rows, the
    column's Python-side default (None without one), as an INSERT of that row alone would."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        await conn.execute(insert(table), _filled(table, rows))
        return
    names = sorted({name for row in rows for name in row})
    defaults = {name: _default(table, name) for name in names}
    records = [tuple(row.get(name, defaults[name]) for name in names) for row in rows]
    driver = (await conn.get_raw_connection()).driver_connection  # asyncpg's own connection
    assert driver is not None
    if conn.in_transaction() and not driver.is_in_transaction():
        # SQLAlchemy sends BEGIN with its first statement; COPY bypasses it and would commit on
        # its own (a resend's rows kept though the resend is rolled back): begin first.
        await conn.exec_driver_sql("SELECT 1")
    await driver.copy_records_to_table(table.name, records=records, columns=names)


def _filled(table: Table, rows: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """`rows` with every key any row has (an executemany binds the same names in every row)."""
    names = {name for row in rows for name in row}
    if all(len(row) == len(names) for row in rows):
        return rows
    defaults = {name: _default(table, name) for name in names}
    return [{**defaults, **row} for row in rows]


def _default(table: Table, name: str) -> Any:
    default = table.c[name].default
    return default.arg if default is not None and default.is_scalar else None  # type: ignore[attr-defined]
