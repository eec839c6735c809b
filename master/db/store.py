"""The master's databases: the main engine and the logs engine (the same one unless LOG_SQL_DSN)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from master.db import migrate
from master.db.columns import upgrade_columns
from master.db.engine import Database, create_engine, parse_dsn, redact
from master.db.schema import log_metadata, main_metadata
from shared.logs import get_logger
from shared.settings import Settings

log = get_logger(__name__)


@dataclass
class Store:
    main: AsyncEngine
    logs: AsyncEngine
    dialect: str
    log_dialect: str

    async def close(self) -> None:
        await self.main.dispose()
        if self.logs is not self.main:
            await self.logs.dispose()


async def open_store(settings: Settings, run_migrations: bool = True) -> Store:
    """Connect both databases and, on the master, migrate them to the newest version and add the
    columns an older One API release's tables lack."""
    main_db: Database = parse_dsn(settings.sql_dsn, settings.sqlite_path)
    main = create_engine(main_db, settings)
    if settings.log_sql_dsn:
        log_db = parse_dsn(settings.log_sql_dsn, settings.sqlite_path)
        logs = create_engine(log_db, settings)
    else:
        log_db, logs = main_db, main
    log.info("database", main=redact(main_db.url), logs=redact(log_db.url))
    if run_migrations:
        await migrate.upgrade(main, "main")
        await migrate.upgrade(logs, "logs")
        if logs is main:
            await upgrade_columns(main, main_metadata, log_metadata)
        else:
            await upgrade_columns(main, main_metadata)
            await upgrade_columns(logs, log_metadata)
    return Store(main=main, logs=logs, dialect=main_db.dialect, log_dialect=log_db.dialect)
