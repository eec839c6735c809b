"""Versioned migrations (Alembic), run by the master only.

Two targets share the scripts: `main` (every table but logs) and `logs` (the logs table, in the
LOG_SQL_DSN database when set). Each target keeps its own version table, so the logs database can
be separate or the same.

Alembic (with mako and pygments) costs a process ~14 MB of RSS that stays after the run, whatever
is unloaded (bench issue: a node under 150 MB). So `upgrade` first compares the version table with
the scripts' heads (read with `ast`, no Alembic) and imports Alembic only when there is work; and
the master node runs the work in a short-lived child (`python -m master.db.migrate`, called from
master/node.py) before it opens the databases itself, which then finds them at head.
"""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLES = {"main": "alembic_version", "logs": "alembic_version_logs"}
CHILD_TIMEOUT = 600  # seconds a migration child may take (a large carried-over database)


def _config(target: str, connection: object) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["target"] = target
    cfg.attributes["version_table"] = VERSION_TABLES[target]
    return cfg


def _names(value: object) -> tuple[str, ...]:
    """A migration's `down_revision` / `branch_labels`: None, one name, or a sequence of names."""
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, (tuple, list)) else ()


def script_heads(target: str, folder: Path = MIGRATIONS / "versions") -> set[str] | None:
    """The head revisions of `target`'s branch as the scripts declare them, or None when a script
    cannot be read without running it (then Alembic decides)."""
    parents: dict[str, tuple[str, ...]] = {}
    labels: dict[str, tuple[str, ...]] = {}
    try:
        for path in sorted(folder.glob("*.py")):
            if path.name == "__init__.py":
                continue
            fields: dict[str, object] = {}
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    name = node.targets[0].id
                    if name in ("revision", "down_revision", "branch_labels"):
                        fields[name] = ast.literal_eval(node.value)
            revision = fields.get("revision")
            if not isinstance(revision, str):
                return None
            down = fields.get("down_revision")
            parents[revision] = _names(down)
            branch = fields.get("branch_labels")
            labels[revision] = _names(branch)
    except (OSError, SyntaxError, ValueError):
        return None

    def branch_of(revision: str, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        if labels.get(revision):
            return labels[revision]
        for parent in parents.get(revision, ()):
            if parent in parents and parent not in seen:
                return branch_of(parent, seen | {revision})
        return ()

    members = {r for r in parents if target in branch_of(r)}
    referenced = {p for r in members for p in parents[r]}
    heads = members - referenced
    return heads or None


async def at_head(engine: AsyncEngine, target: str) -> bool:
    """True when `target`'s version table already holds exactly the scripts' heads."""
    heads = script_heads(target)
    if heads is None:
        return False
    table = VERSION_TABLES[target]
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda sync_conn: inspect(sync_conn).has_table(table)):
            return False
        rows = (await conn.execute(text(f"SELECT version_num FROM {table}"))).scalars().all()
    return set(rows) == heads


async def upgrade(engine: AsyncEngine, target: str) -> None:
    """Bring `target`'s tables in `engine` to the newest version."""
    if await at_head(engine, target):
        return
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(target, sync_conn), f"{target}@head"))


async def _databases_at_head(settings: Settings) -> bool:
    from master.db.engine import create_engine, parse_dsn

    engines = [create_engine(parse_dsn(settings.sql_dsn, settings.sqlite_path), settings)]
    if settings.log_sql_dsn:
        engines.append(create_engine(parse_dsn(settings.log_sql_dsn, settings.sqlite_path), settings))
    try:
        return await at_head(engines[0], "main") and await at_head(engines[-1], "logs")
    finally:
        for engine in engines:
            await engine.dispose()


def upgrade_in_child(settings: Settings) -> bool:
    """Run the migrations in a child process unless the databases are at head already; the child
    builds its settings from this process's environment. False when the child failed (the caller's
    own `upgrade` then runs in-process and reports the error as it always did)."""
    try:
        if asyncio.run(_databases_at_head(settings)):
            return True
    except Exception:  # unreachable database, odd DSN: let the child and then the caller say why
        pass
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEAPI_WORKER_")}  # not a worker
    done = subprocess.run([sys.executable, "-m", "master.db.migrate"], env=env, timeout=CHILD_TIMEOUT)
    return done.returncode == 0


def _main() -> int:
    from master.db.store import open_store
    from shared.logs import setup_logging
    from shared.settings import build_settings

    settings = build_settings(os.environ)
    setup_logging("", settings.only_one_log_file, settings.debug)

    async def migrate() -> None:
        store = await open_store(settings, run_migrations=True)
        await store.close()

    asyncio.run(migrate())
    return 0


if __name__ == "__main__":
    sys.exit(_main())
