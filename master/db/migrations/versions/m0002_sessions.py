"""Revocable sessions and hashed access tokens (issue 12).

Creates the `sessions` table (and any other main table the database lacks), and rewrites every
plaintext `users.access_token` (One API stores them in clear) into its hashed stored form, so a
carried-over token keeps working and can no longer be read from the table.

Revision ID: m0002_sessions
"""

from alembic import op
from sqlalchemy import func, inspect, select

from master.access_tokens import STORED_PREFIX, is_stored_form, stored_form
from master.db.schema import main_metadata, users

revision = "m0002_sessions"
down_revision = "m0001"
branch_labels = None

BATCH = 1000  # rows rewritten per round trip


def upgrade(target: str = "main") -> None:
    bind = op.get_bind()
    existing = set(inspect(bind).get_table_names())
    for table in main_metadata.sorted_tables:
        if table.name not in existing:
            table.create(bind)
    plain = (
        (users.c.access_token.is_not(None))
        & (users.c.access_token != "")
        & (func.substr(users.c.access_token, 1, len(STORED_PREFIX)) != STORED_PREFIX)
    )
    last_id = 0
    while True:
        rows = bind.execute(
            select(users.c.id, users.c.access_token).where(plain, users.c.id > last_id).order_by(users.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            token = row.access_token.rstrip(" ")  # char(32) pads on PostgreSQL
            if token and not is_stored_form(token):
                bind.execute(users.update().where(users.c.id == row.id).values(access_token=stored_form(token)))
        last_id = rows[-1].id


def downgrade(target: str = "main") -> None:
    op.drop_table("sessions")
