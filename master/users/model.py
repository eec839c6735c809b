"""The One API `User` object at the API edge: JSON shape (docs/one-api-compat.md §3.1), Go-style body decoding,
validator rules, and the row writes every user route shares (gorm non-zero updates, soft delete)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from master.api.limit_fields import limit_json
from master.context import MasterContext
from master.db.schema import users
from master.sessions import end_user_sessions
from master.users.accounts import create_user, hash_password_async
from shared.keys import uuid_hex

USER_DISABLED, USER_ENABLED, USER_DELETED = 2, 1, 3
INT32_MAX = 2**31 - 1  # users.id and the int columns are 32-bit on PostgreSQL

# JSON field order of One API's User struct; `verification_code` is never stored.
USER_FIELDS: tuple[str, ...] = (
    "id",
    "username",
    "password",
    "display_name",
    "role",
    "status",
    "email",
    "github_id",
    "wechat_id",
    "lark_id",
    "oidc_id",
    "verification_code",
    "access_token",
    "quota",
    "used_quota",
    "request_count",
    "group",
    "aff_code",
    "inviter_id",
)
INT_FIELDS = frozenset({"id", "role", "status", "quota", "used_quota", "request_count", "inviter_id"})
STORED_FIELDS = tuple(f for f in USER_FIELDS if f != "verification_code")

# (JSON field, Go field name, min runes, max runes) of the validator tags on User.
_RULES = (
    ("username", "Username", None, 12),
    ("password", "Password", 8, 20),
    ("display_name", "DisplayName", None, 20),
    ("email", "Email", None, 50),
)


class BodyTypeError(ValueError):
    """A JSON value of the wrong type for a User field (Go's json decoder rejects the body)."""


def user_json(row: Mapping[str, Any] | None = None, omit: tuple[str, ...] = ("password",)) -> dict[str, Any]:
    """Every User JSON field in One API's order, then our rate limits; missing, omitted or NULL
    columns give the zero value."""
    out: dict[str, Any] = {}
    for name in USER_FIELDS:
        value = None if row is None or name in omit else row.get(name)
        out[name] = value if value is not None else (0 if name in INT_FIELDS else "")
    out.update(limit_json(row or {}))
    return out


def decode_user(body: Mapping[str, Any]) -> dict[str, Any]:
    """Typed User fields from a JSON object, Go-style: null is the zero value, unknown keys are
    ignored, and a wrong type (a number for a string, a float or bool for an int) is an error."""
    out: dict[str, Any] = {}
    for name in USER_FIELDS:
        value = body.get(name)
        if value is None:
            out[name] = 0 if name in INT_FIELDS else ""
        elif name in INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
                raise BodyTypeError(f"json: cannot unmarshal {type(value).__name__} into Go struct field User.{name} of type int")
            out[name] = value
        else:
            if not isinstance(value, str):
                raise BodyTypeError(f"json: cannot unmarshal {type(value).__name__} into Go struct field User.{name} of type string")
            out[name] = value
    return out


def string_field(body: Mapping[str, Any], name: str) -> str:
    """One string member of a request struct (null is "", another type is a decode error)."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BodyTypeError(f"json: cannot unmarshal {type(value).__name__} into Go struct field .{name} of type string")
    return value


def int_field(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise BodyTypeError(f"json: cannot unmarshal {type(value).__name__} into Go struct field .{name} of type int")
    return value


def validation_errors(user: Mapping[str, Any]) -> str:
    """The go-playground validator's error text for the User tags, "" when valid."""
    problems = []
    for name, go_name, low, high in _RULES:
        length = len(user.get(name) or "")
        if low is not None and length < low:
            tag = "min"
        elif length > high:
            tag = "max"
        else:
            continue
        problems.append(f"Key: 'User.{go_name}' Error:Field validation for '{go_name}' failed on the '{tag}' tag")
    return "\n".join(problems)


async def load_user(ctx: MasterContext, user_id: int) -> dict[str, Any] | None:
    if not 0 < user_id <= INT32_MAX:  # no such row, and the driver would reject the value
        return None
    async with ctx.store.main.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().first()
    return dict(row) if row else None


async def username_taken(ctx: MasterContext, username: str) -> bool:
    async with ctx.store.main.connect() as conn:
        return bool((await conn.execute(select(exists().where(users.c.username == username)))).scalar())


async def insert_user(
    ctx: MasterContext,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    inviter_id: int = 0,
    extra: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """The new-user flow; returns (id, "") or (0, error message). A taken username gets a clear
    message on every dialect instead of the driver's text."""
    try:
        return await create_user(ctx, username, password, display_name, email, inviter_id, extra), ""
    except IntegrityError as exc:
        if await username_taken(ctx, username):
            return 0, f"用户名 {username} 已被占用"
        return 0, str(exc.orig)


async def update_nonzero(ctx: MasterContext, user_id: int, fields: Mapping[str, Any], hash_new_password: bool) -> str:
    """gorm `Updates(struct)`: write only the non-zero stored fields. A new password, a new role or
    a status of 2 (disabled) ends every session of the user. Returns "" or the database's error text."""
    values = {k: v for k, v in fields.items() if k in STORED_FIELDS and k != "id" and v not in (0, "", None)}
    if hash_new_password and values.get("password"):
        values["password"] = await hash_password_async(values["password"])
    else:
        values.pop("password", None)
    revoke = "password" in values or values.get("status") == USER_DISABLED
    if values:
        try:
            async with ctx.store.main.begin() as conn:
                if "role" in values and not revoke:
                    old_role = (await conn.execute(select(users.c.role).where(users.c.id == user_id))).scalar()
                    revoke = old_role is not None and old_role != values["role"]
                await conn.execute(users.update().where(users.c.id == user_id).values(**values))
        except IntegrityError as exc:
            if "username" in values and await username_taken(ctx, values["username"]):
                return f"用户名 {values['username']} 已被占用"
            return str(exc.orig)
        except DBAPIError as exc:  # e.g. a role beyond the column's range: the database's text, as One API
            return str(exc.orig)
        finally:
            ctx.auth.forget_user(user_id)
    if revoke:
        await end_user_sessions(ctx, [user_id])
    await ctx.changed("user")
    return ""


async def soft_delete(ctx: MasterContext, user_id: int) -> None:
    """One API never removes a user row: it is renamed `deleted_<uuid hex>` and set to status 3;
    its sessions end with it."""
    async with ctx.store.main.begin() as conn:
        await conn.execute(users.update().where(users.c.id == user_id).values(username=f"deleted_{uuid_hex()}", status=USER_DELETED))
    await end_user_sessions(ctx, [user_id])
    await ctx.changed("user")
