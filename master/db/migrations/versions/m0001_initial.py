"""Create One API's tables (users, tokens, channels, abilities, options, redemptions).

Tables that already exist (a database carried over from One API) are left as they are.

Revision ID: m0001
"""

from alembic import op
from sqlalchemy import inspect

from master.db.schema import main_metadata

revision = "m0001"
down_revision = None
branch_labels = ("main",)


def upgrade(target: str = "main") -> None:
    bind = op.get_bind()
    existing = set(inspect(bind).get_table_names())
    for table in main_metadata.sorted_tables:
        if table.name not in existing:
            table.create(bind)


def downgrade(target: str = "main") -> None:
    for table in reversed(main_metadata.sorted_tables):
        op.drop_table(table.name)
