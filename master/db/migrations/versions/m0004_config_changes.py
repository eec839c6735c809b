"""The change log (issue 11): `config_changes` and the triggers that fill it.

Every INSERT, UPDATE or DELETE of users, tokens, channels and options adds a row (kind, row id) in
the same transaction, whatever code path wrote it: an admin write, an applied quota batch, a
migration. The master tails the table (master/change_feed.py) and sends only those rows to slaves.

Revision ID: m0004_config_changes
"""

from alembic import op
from sqlalchemy import inspect, text

from master.db.schema import config_changes

revision = "m0004_config_changes"
down_revision = "m0003_rate_limits"
branch_labels = None

# table -> kind recorded; options have a string key, recorded as row 0 (the whole map travels).
TRACKED = {"users": "user", "tokens": "token", "channels": "channel", "options": "option"}
EVENTS = {"INSERT": ("ins", "NEW"), "UPDATE": ("upd", "NEW"), "DELETE": ("del", "OLD")}


def _row_id(table: str, row: str) -> str:
    return "0" if table == "options" else f"{row}.id"


def _sqlite(table: str, kind: str) -> list[str]:
    now = "CAST(strftime('%s','now') AS INTEGER)"
    return [
        f"CREATE TRIGGER oneapi_cc_{table}_{tag} AFTER {event} ON {table} BEGIN "
        f"INSERT INTO config_changes(kind, row_id, created_at) VALUES ('{kind}', {_row_id(table, row)}, {now}); END"
        for event, (tag, row) in EVENTS.items()
    ]


def _mysql(table: str, kind: str) -> list[str]:
    return [
        f"CREATE TRIGGER oneapi_cc_{table}_{tag} AFTER {event} ON `{table}` FOR EACH ROW "
        f"INSERT INTO config_changes(kind, row_id, created_at) VALUES ('{kind}', {_row_id(table, row)}, UNIX_TIMESTAMP())"
        for event, (tag, row) in EVENTS.items()
    ]


def _postgresql(table: str, kind: str) -> list[str]:
    row_id = "0" if table == "options" else "CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END"
    return [
        f"CREATE OR REPLACE FUNCTION oneapi_cc_{table}() RETURNS trigger AS $$ BEGIN "
        f"INSERT INTO config_changes(kind, row_id, created_at) VALUES ('{kind}', {row_id}, "
        "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)); RETURN NULL; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER oneapi_cc_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION oneapi_cc_{table}()",
    ]


def _drops(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS oneapi_cc_{table} ON {table}", f"DROP FUNCTION IF EXISTS oneapi_cc_{table}()"]
    return [f"DROP TRIGGER IF EXISTS oneapi_cc_{table}_{tag}" for tag, _ in EVENTS.values()]


def upgrade(target: str = "main") -> None:
    bind = op.get_bind()
    if "config_changes" not in set(inspect(bind).get_table_names()):
        config_changes.create(bind)
    dialect = bind.dialect.name
    make = {"sqlite": _sqlite, "postgresql": _postgresql}.get(dialect, _mysql)
    for table, kind in TRACKED.items():
        for statement in _drops(dialect, table) + make(table, kind):
            bind.execute(text(statement))


def downgrade(target: str = "main") -> None:
    bind = op.get_bind()
    for table in TRACKED:
        for statement in _drops(bind.dialect.name, table):
            bind.execute(text(statement))
    op.drop_table("config_changes")
