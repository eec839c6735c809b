"""Runtime options (docs/one-api-compat.md §4.12, RootAuth): read the map, write one key.

A write is checked, saved to the database ("first-or-create then save"), then applied to this
node's map; only then is the config version bumped so the relay snapshot and slaves follow.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import BadBody, fail, msg, ok, read_json, root_auth, route
from master.context import get_ctx
from master.db.schema import options as options_table
from master.dberrors import answer_db_errors
from master.gobind import BindError, bind
from master.options import RATIO_KEYS, VALID_THEMES, Options, parse_ratio_map
from shared.billing.pricing import CACHE_RATIO_KEYS, parse_cache_ratio
from shared.relay.ratelimit import parse_group_limits

# Switching one of these on needs the named option to be filled in first.
PREREQUISITES: dict[str, tuple[str, str]] = {
    "GitHubOAuthEnabled": (
        "GitHubClientId",
        "无法启用 GitHub OAuth，请先填入 GitHub Client Id 以及 GitHub Client Secret！",
    ),
    "EmailDomainRestrictionEnabled": ("EmailDomainWhitelist", "无法启用邮箱域名限制，请先填入限制的邮箱域名！"),
    "WeChatAuthEnabled": ("WeChatServerAddress", "无法启用微信登录，请先填入微信登录相关配置信息！"),
    "TurnstileCheckEnabled": ("TurnstileSiteKey", "无法启用 Turnstile 校验，请先填入 Turnstile 校验相关配置信息！"),
}


def rejection(options: Options, key: str, value: str) -> str | None:
    """One API's pre-checks of an option write, against the current map, and ours (GroupRateLimits,
    the cache ratios)."""
    if key == "Theme" and value not in VALID_THEMES:
        return "无效的主题"
    if key == "GroupRateLimits":
        try:
            parse_group_limits(value)
        except ValueError as exc:
            return str(exc)
    if key in CACHE_RATIO_KEYS and parse_cache_ratio(value) is None:
        return f"{key} must be a number from 0 to 100"
    if key in PREREQUISITES and value == "true":
        needed, message = PREREQUISITES[key]
        if options.get(needed) == "":
            return message
    return None


async def save_option(engine: AsyncEngine, key: str, value: str) -> None:
    """Upsert one row portably: update if present, else insert; a concurrent insert of the same
    key loses the race with an integrity error and is retried as an update."""
    for attempt in range(2):
        try:
            async with engine.begin() as conn:
                exists = (await conn.execute(select(options_table.c.key).where(options_table.c.key == key))).first()
                if exists:
                    await conn.execute(update(options_table).where(options_table.c.key == key).values(value=value))
                else:
                    await conn.execute(insert(options_table).values(key=key, value=value))
            return
        except IntegrityError:
            if attempt:
                raise


@root_auth
async def get_options(request: Request) -> Response:
    return ok(get_ctx(request).options.public_items())


@root_auth
@answer_db_errors
async def update_option(request: Request) -> Response:
    try:
        body = bind(await read_json(request), {"key": "str", "value": "str"})
    except (BadBody, BindError):
        return fail(msg(request, "invalid_parameter"), status=400)
    key, value = body["key"], body["value"]
    if not key:  # a keyless write would have no row to land in
        return fail(msg(request, "invalid_parameter"), status=400)
    ctx = get_ctx(request)
    refused = rejection(ctx.options, key, value)
    if refused:
        return fail(refused)
    await save_option(ctx.store.main, key, value)
    if key in RATIO_KEYS:
        try:
            parse_ratio_map(value)
        except ValueError as exc:
            # Persisted as One API does, but the map keeps the last good ratios this node bills with.
            return fail(f"{key}: {exc}")
    ctx.options.values[key] = value
    await ctx.changed("option")
    return ok()


routes = [
    route("/api/option/", get_options, ["GET"]),
    route("/api/option/", update_option, ["PUT"]),
]
