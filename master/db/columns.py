"""Additive column migration: bring a table carried over from any One API release up to our schema.

One API's gorm AutoMigrate adds a model's missing columns at every start and never drops one; a
database from an older release (v0.6.10's `logs` lacks `request_id`,
`elapsed_time`, `is_stream` and `system_prompt_reset`; v0.5's `tokens` lacks `models` and
`subnet`, …) needs the same, or every query naming those columns fails. The versioned migrations
(master/db/migrations) only create missing tables, so the master runs this after them, at every
start: one inspection of the existing columns, then one `ALTER TABLE … ADD COLUMN` per missing
column. A column is added with our schema's type and its server default, so existing rows read
the default (as gorm's added column with `DEFAULT` does); it is always nullable, since a NOT NULL
column cannot be added to a table that has rows. Nothing is dropped, renamed or retyped.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

from sqlalchemy import Column, MetaData, Table, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateColumn

from shared.logs import get_logger

log = get_logger(__name__)


def missing_columns(conn: Connection, metadatas: Sequence[MetaData]) -> list[tuple[Table, Column]]:
    """Columns of the metadatas' tables that exist in the database but lack them (tables that do
    not exist at all are the versioned migrations' business). One inspection of the database."""
    inspector = inspect(conn)
    existing_tables = set(inspector.get_table_names())
    wanted = [table for metadata in metadatas for table in metadata.sorted_tables if table.name in existing_tables]
    if not wanted:
        return []
    found = inspector.get_multi_columns(filter_names=[table.name for table in wanted])
    have = {name: {col["name"].lower() for col in cols} for (_schema, name), cols in found.items()}
    return [(table, col) for table in wanted for col in table.columns if col.name.lower() not in have.get(table.name, set())]


def _add_column_sql(conn: Connection, table: Table, column: Column) -> str:
    added = column._copy()  # a detached copy (what Table.to_metadata uses), so nullable can change safely
    added.nullable = True
    added.primary_key = False
    spec = str(CreateColumn(added).compile(dialect=conn.dialect)).strip()
    return f"ALTER TABLE {conn.dialect.identifier_preparer.format_table(table)} ADD COLUMN {spec}"


def add_missing_columns(conn: Connection, metadatas: Sequence[MetaData]) -> list[str]:
    """Add every missing column; returns them as `table.column`. Safe against a second master
    doing the same at once: a column that appeared meanwhile is not an error."""
    added: list[str] = []
    for table, column in missing_columns(conn, metadatas):
        sql = _add_column_sql(conn, table, column)
        try:
            # PostgreSQL aborts the whole transaction on an error: a savepoint keeps it usable.
            with conn.begin_nested() if conn.dialect.name == "postgresql" else nullcontext():
                conn.exec_driver_sql(sql)
        except DBAPIError:
            if any(t is table and c is column for t, c in missing_columns(conn, metadatas)):
                raise
            continue  # added by someone else in the meantime
        added.append(f"{table.name}.{column.name}")
    return added


async def upgrade_columns(engine: AsyncEngine, *metadatas: MetaData) -> list[str]:
    """Run `add_missing_columns` in one transaction of `engine` and log what was added."""
    async with engine.begin() as conn:
        added = await conn.run_sync(lambda sync_conn: add_missing_columns(sync_conn, metadatas))
    if added:
        log.info("added missing columns (database from an older One API release)", columns=added)
    return added
