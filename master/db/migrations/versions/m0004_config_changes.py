"""The change log (issue 11): `config_changes` and the triggers that fill it (master/db/change_triggers.py).

Revision ID: m0004_config_changes
"""

from alembic import op
from sqlalchemy import inspect, text

from master.db import change_triggers
from master.db.schema import config_changes

revision = "m0004_config_changes"
down_revision = "m0003_rate_limits"
branch_labels = None


def upgrade(target: str = "main") -> None:
    bind = op.get_bind()
    if "config_changes" not in set(inspect(bind).get_table_names()):
        config_changes.create(bind)
    change_triggers.install(bind)


def downgrade(target: str = "main") -> None:
    bind = op.get_bind()
    for statement in change_triggers.drop_statements(bind.dialect.name):
        bind.execute(text(statement))
    op.drop_table("config_changes")
