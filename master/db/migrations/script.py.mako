"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}


def upgrade(target: str = "main") -> None:
    pass


def downgrade(target: str = "main") -> None:
    pass
