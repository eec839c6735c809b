"""Tables and columns exactly as One API names them (docs/one-api-compat.md §3), as SQLAlchemy Core metadata.

`main_metadata` holds every table but logs; `log_metadata` holds logs, which may live in the
LOG_SQL_DSN database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import mysql

from shared.limits import LIMIT_FIELDS

main_metadata = MetaData()
log_metadata = MetaData()

# MySQL needs a length on indexed strings; gorm's default string is varchar(191) there.
Str = String(191)
# gorm maps an unsized string to longtext on MySQL; TEXT there stops at 64 KB (ModelRatio is larger).
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql")


class FixedKey(TypeDecorator[str]):
    """A key column One API declares `char(n)` (tokens.key, users.access_token, redemptions.key).
    PostgreSQL pads a shorter char(n) value with spaces on read, so a short key (an
    INITIAL_ROOT_TOKEN, or a key from before v0.3.4) would come back padded and never match: read
    values are right-trimmed. Keys never end in a space (One API generates them alphanumeric), and
    comparisons in SQL already ignore char padding."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return value.rstrip(" ") if value is not None else None


def rate_limit_columns() -> list[Column[int]]:
    """Our rate limits on tokens and users (shared.limits); 0 is no limit. Not One API's: its
    console and clients ignore them (migration m0003_rate_limits adds them to carried-over tables)."""
    return [Column(name, BigInteger, nullable=False, server_default="0", default=0) for name in LIMIT_FIELDS]


users = Table(
    "users",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Str, unique=True, index=True),
    Column("password", Str, nullable=False),
    Column("display_name", Str, index=True),
    Column("role", Integer, server_default="1", default=1),
    Column("status", Integer, server_default="1", default=1),
    Column("email", Str, index=True),
    Column("github_id", Str, index=True),
    Column("wechat_id", Str, index=True),
    Column("lark_id", Str, index=True),
    Column("oidc_id", Str, index=True),
    Column("access_token", FixedKey(32), unique=True, index=True),
    Column("quota", BigInteger, server_default="0", default=0),
    Column("used_quota", BigInteger, server_default="0", default=0),
    Column("request_count", Integer, server_default="0", default=0),
    Column("group", String(32), server_default="default", default="default"),
    Column("aff_code", String(32), unique=True, index=True),
    Column("inviter_id", Integer, index=True),
    *rate_limit_columns(),
)

tokens = Table(
    "tokens",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer),
    Column("key", FixedKey(48), unique=True, index=True),
    Column("status", Integer, server_default="1", default=1),
    Column("name", Str, index=True),
    Column("created_time", BigInteger),
    Column("accessed_time", BigInteger),
    Column("expired_time", BigInteger, server_default="-1", default=-1),
    Column("remain_quota", BigInteger, server_default="0", default=0),
    Column("unlimited_quota", Boolean, server_default="0", default=False),
    Column("used_quota", BigInteger, server_default="0", default=0),
    Column("models", LongText, nullable=True),
    Column("subnet", Str, nullable=True, server_default="", default=""),
    *rate_limit_columns(),
)

channels = Table(
    "channels",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", Integer, server_default="0", default=0),
    Column("key", LongText),
    Column("status", Integer, server_default="1", default=1),
    Column("name", Str, index=True),
    Column("weight", Integer, server_default="0", default=0, nullable=True),
    Column("created_time", BigInteger),
    Column("test_time", BigInteger),
    Column("response_time", Integer),
    Column("base_url", Str, nullable=True, server_default="", default=""),
    Column("other", LongText, nullable=True),
    Column("balance", Float),
    Column("balance_updated_time", BigInteger),
    Column("models", LongText),
    Column("group", String(32), server_default="default", default="default"),
    Column("used_quota", BigInteger, server_default="0", default=0),
    Column("model_mapping", String(1024), nullable=True, server_default="", default=""),
    Column("priority", BigInteger, nullable=True, server_default="0", default=0),
    Column("config", LongText),
    Column("system_prompt", LongText, nullable=True),
)

abilities = Table(
    "abilities",
    main_metadata,
    Column("group", String(32), primary_key=True, autoincrement=False),
    Column("model", Str, primary_key=True, autoincrement=False),
    Column("channel_id", Integer, primary_key=True, autoincrement=False, index=True),
    Column("enabled", Boolean),
    Column("priority", BigInteger, nullable=True, server_default="0", default=0, index=True),
)

options = Table(
    "options",
    main_metadata,
    Column("key", Str, primary_key=True),
    Column("value", LongText),
)

redemptions = Table(
    "redemptions",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer),
    Column("key", FixedKey(32), unique=True, index=True),
    Column("status", Integer, server_default="1", default=1),
    Column("name", Str, index=True),
    Column("quota", BigInteger, server_default="100", default=100),
    Column("created_time", BigInteger),
    Column("redeemed_time", BigInteger),
)

# Exactly-once bookkeeping of applied quota batches (cluster issue); harmless on a single node.
applied_batches = Table(
    "applied_batches",
    main_metadata,
    Column("id", String(128), primary_key=True),
    Column("applied_at", BigInteger),
)

# The change log (issue 11): one row per written user, token, channel or option, inserted by
# triggers in the writing transaction (m0004), so a rolled-back write leaves none and a committed one
# is never missed. The master tails it and sends slaves the changed rows, not the install.
config_changes = Table(
    "config_changes",
    main_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),  # the revision
    Column("kind", String(16), nullable=False),
    Column("row_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("idx_config_changes_created_at", "created_at"),
)

# Login sessions (issue 12): the signed cookie names a row here, so a session ends for every copy
# of its cookie when the row goes (logout, password or role change, disable, delete). `key` is the
# SHA-256 of the cookie's session id; `id` orders sessions by age.
sessions = Table(
    "sessions",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

logs = Table(
    "logs",
    log_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, index=True),
    Column("created_at", BigInteger),
    Column("type", Integer),
    Column("content", LongText),
    Column("username", Str, server_default="", default=""),
    Column("token_name", Str, index=True, server_default="", default=""),
    Column("model_name", Str, index=True, server_default="", default=""),
    Column("quota", Integer, server_default="0", default=0),
    Column("prompt_tokens", Integer, server_default="0", default=0),
    Column("completion_tokens", Integer, server_default="0", default=0),
    Column("channel_id", Integer, index=True),
    Column("request_id", Str, server_default="", default=""),
    Column("elapsed_time", BigInteger, server_default="0", default=0),
    Column("is_stream", Boolean, server_default="0", default=False),
    Column("system_prompt_reset", Boolean, server_default="0", default=False),
    Index("idx_created_at_type", "created_at", "type"),
    Index("index_username_model_name", "model_name", "username"),
)
