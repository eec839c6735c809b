"""Rate-limit columns on tokens and users (issue 15): rpm_limit, tpm_limit, max_parallel_requests.

Added only where missing (a table created by m0001 from today's schema already has them), always
with a server default of 0 (no limit), so rows and clients that know nothing of them keep working.

Revision ID: m0003_rate_limits
"""

from alembic import op
from sqlalchemy import BigInteger, Column, inspect

from shared.limits import LIMIT_FIELDS

revision = "m0003_rate_limits"
down_revision = "m0002_sessions"
branch_labels = None

TABLES = ("tokens", "users")


def upgrade(target: str = "main") -> None:
    inspector = inspect(op.get_bind())
    for table in TABLES:
        present = {column["name"] for column in inspector.get_columns(table)}
        for name in LIMIT_FIELDS:
            if name not in present:
                op.add_column(table, Column(name, BigInteger, nullable=False, server_default="0"))


def downgrade(target: str = "main") -> None:
    for table in TABLES:
        for name in LIMIT_FIELDS:
            op.drop_column(table, name)
