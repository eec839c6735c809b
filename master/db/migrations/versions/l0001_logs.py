"""Create the logs table (kept when it already exists).

Revision ID: l0001
"""

from alembic import op
from sqlalchemy import inspect

from master.db.schema import log_metadata

revision = "l0001"
down_revision = None
branch_labels = ("logs",)


def upgrade(target: str = "logs") -> None:
    bind = op.get_bind()
    existing = set(inspect(bind).get_table_names())
    for table in log_metadata.sorted_tables:
        if table.name not in existing:
            table.create(bind)


def downgrade(target: str = "logs") -> None:
    op.drop_table("logs")
