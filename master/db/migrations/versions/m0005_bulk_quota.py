"""Cheaper applied quota batches on PostgreSQL (issue 11: the master's ingestion ceiling).

A batch rewrites thousands of users and tokens rows at once (master/db/bulk.py). Two changes make
that cheaper and change nothing that is read or written:

- the change-log triggers fire per statement over a transition table instead of per row
  (master/db/change_triggers.py; the same rows land in `config_changes`);
- users and tokens keep a fifth of each page free (fillfactor 80), so a balance update can be a HOT
  update: the new row version stays on its page and none of the tables' indexes (eleven on users)
  gets a new entry. Measured on one 2,000-row batch: 138 ms of database time -> 76 ms with both.
  Pages written before this migration gain the room as they are rewritten (or by VACUUM FULL).

MySQL/MariaDB and SQLite have neither: nothing to do there.

Revision ID: m0005_bulk_quota
"""

from alembic import op

from master.db import change_triggers

revision = "m0005_bulk_quota"
down_revision = "m0004_config_changes"
branch_labels = None

FILLFACTOR = {"users": 80, "tokens": 80}


def upgrade(target: str = "main") -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    change_triggers.install(bind)
    for table, percent in FILLFACTOR.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade(target: str = "main") -> None:
    # The per-statement triggers stay: they record what m0004's did.
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in FILLFACTOR:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
