"""Versioned migrations (Alembic), run by the master only.

Two targets share the scripts: `main` (every table but logs) and `logs` (the logs table, in the
LOG_SQL_DSN database when set). Each target keeps its own version table, so the logs database can
be separate or the same.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLES = {"main": "alembic_version", "logs": "alembic_version_logs"}


def _config(target: str, connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["target"] = target
    cfg.attributes["version_table"] = VERSION_TABLES[target]
    return cfg


async def upgrade(engine: AsyncEngine, target: str) -> None:
    """Bring `target`'s tables in `engine` to the newest version."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(target, sync_conn), f"{target}@head"))
