"""Alembic environment: always handed a live connection by master.db.migrate."""

from alembic import context

cfg = context.config
context.configure(
    connection=cfg.attributes["connection"],
    version_table=cfg.attributes["version_table"],
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations(target=cfg.attributes["target"])
