"""Database engines from One API's DSN rules (docs/one-api-compat.md §1.3): SQLite, PostgreSQL or MySQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.settings import Settings

# One API's MySQL form: user:pass@tcp(host:port)/db?params
_MYSQL_GO = re.compile(
    r"^(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@tcp\((?P<host>[^:)]+)(?::(?P<port>\d+))?\)/(?P<db>[^?]*)(?:\?(?P<query>.*))?$"
)


class DSNError(ValueError):
    """SQL_DSN / LOG_SQL_DSN has a form we do not understand."""


@dataclass(frozen=True)
class Database:
    dialect: str  # sqlite | postgresql | mysql
    url: URL


def parse_dsn(dsn: str, sqlite_path: str) -> Database:
    """Turn a One API DSN into an async SQLAlchemy URL; empty means SQLite at `sqlite_path`."""
    if not dsn:
        return Database("sqlite", make_url(f"sqlite+aiosqlite:///{sqlite_path}"))
    if dsn.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(dsn)
        # asyncpg does not take libpq's sslmode/TimeZone query keys as connect args.
        query = {k: v for k, v in parse_qsl(parts.query) if k not in ("sslmode", "TimeZone", "timezone")}
        url = make_url("postgresql+asyncpg://" + dsn.split("://", 1)[1].split("?", 1)[0]).update_query_dict(query)
        return Database("postgresql", url)
    if dsn.startswith(("mysql://", "mysql+aiomysql://")):
        return Database("mysql", make_url("mysql+aiomysql://" + dsn.split("://", 1)[1]))
    match = _MYSQL_GO.match(dsn)
    if not match:
        raise DSNError("SQL_DSN must be postgres://…, user:pass@tcp(host:port)/db (MySQL) or empty (SQLite)")
    url = URL.create(
        "mysql+aiomysql",
        username=match["user"] or None,
        password=match["password"] or None,
        host=match["host"],
        port=int(match["port"] or 3306),
        database=match["db"],
        query={"charset": "utf8mb4"},
    )
    return Database("mysql", url)


def create_engine(db: Database, settings: Settings) -> AsyncEngine:
    """An async engine sized by SQL_MAX_* (SQLite: WAL and SQLITE_BUSY_TIMEOUT)."""
    if db.dialect == "sqlite":
        engine = create_async_engine(
            db.url,
            echo=settings.debug_sql,
            connect_args={"timeout": max(settings.sqlite_busy_timeout, 1) / 1000},
        )
        busy = settings.sqlite_busy_timeout

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DBAPI hook
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    pool_size = max(1, min(settings.sql_max_idle_conns, settings.sql_max_open_conns))
    overflow = max(0, settings.sql_max_open_conns - pool_size)
    return create_async_engine(
        db.url,
        echo=settings.debug_sql,
        pool_size=pool_size,
        max_overflow=overflow,
        pool_recycle=settings.sql_max_lifetime if settings.sql_max_lifetime > 0 else -1,
        pool_pre_ping=True,
    )


def redact(url: URL) -> str:
    """A URL safe to log: never the password."""
    return url.render_as_string(hide_password=True)


__all__ = ["Database", "DSNError", "parse_dsn", "create_engine", "redact", "quote"]
