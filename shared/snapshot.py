"""The configuration snapshot a relay reads: tokens by key hash, users, channels, routes, options.
Built from plain row dicts (or, on a slave, from the tables a full snapshot carries) so the master and
a slave hold the same state. Channels, routes and options are replaced whole by a change; token and
user rows live in compact tables (shared.tables) updated in place (shared.snapshot_changes), and
every read of one builds an immutable entry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from shared import option_values
from shared.keys import key_hash
from shared.limits import Limits, limits_of
from shared.relay.adaptors.registry import other_fallback
from shared.tables import RowsView, TokenTable, UserTable, key_digest

TOKEN_ENABLED, TOKEN_DISABLED, TOKEN_EXPIRED, TOKEN_EXHAUSTED = 1, 2, 3, 4
CHANNEL_ENABLED = 1
USER_ENABLED = 1


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class TokenEntry:
    id: int
    user_id: int
    name: str
    status: int
    expired_time: int
    remain_quota: int
    unlimited_quota: bool
    used_quota: int
    models: frozenset[str] | None  # None: every model
    models_text: str
    subnet_text: str
    subnets: tuple[Network, ...]
    limits: Limits = Limits()
    key_hash: str = ""  # its key in Snapshot.tokens (a deletion names the token by it)


@dataclass(frozen=True, slots=True)
class UserEntry:
    id: int
    username: str
    group: str
    status: int
    role: int
    quota: int
    used_quota: int
    limits: Limits = Limits()


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    id: int
    type: int
    key: str
    status: int
    name: str
    weight: int
    priority: int
    base_url: str
    config: Mapping[str, str]
    models: tuple[str, ...]
    groups: tuple[str, ...]
    model_mapping: Mapping[str, str]
    system_prompt: str


@dataclass(frozen=True)
class Snapshot:
    """Tokens and users live in tables (shared.tables) that change sets update in place; the
    views below build an entry on each read."""

    version: int
    tokens: RowsView[TokenEntry]  # by key_hash(key)
    tokens_by_id: RowsView[TokenEntry]
    users: RowsView[UserEntry]
    channels: Mapping[int, ChannelEntry]
    # (group, model) -> enabled channels, highest priority first
    routes: Mapping[tuple[str, str], tuple[ChannelEntry, ...]]
    group_models: Mapping[str, tuple[str, ...]]
    options: Mapping[str, str] = field(default_factory=dict)

    def option_flag(self, key: str) -> bool:
        return option_values.flag(self.options, key)

    def option_int(self, key: str) -> int:
        return option_values.integer(self.options, key)

    def option_float(self, key: str) -> float:
        return option_values.number(self.options, key)


def _split(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part != ""]


@lru_cache(maxsize=4096)
def parse_subnets(text: str | None) -> tuple[Network, ...]:
    nets = []
    for part in (text or "").split(","):
        part = part.strip()
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                continue  # the API refuses bad CIDRs; a bad stored one simply matches nothing
    return tuple(nets)


def parse_mapping(text: str | None) -> dict[str, str]:
    """`""`, `{}` or invalid JSON mean no mapping (docs/one-api-compat.md §3.3)."""
    if not text:
        return {}
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str) and v}


def channel_config(channel_type: int, config_text: str | None, other: str | None) -> dict[str, str]:
    try:
        data = orjson.loads(config_text) if config_text else {}
    except orjson.JSONDecodeError:
        data = {}
    config = {str(k): str(v) for k, v in data.items() if v not in (None, "")} if isinstance(data, dict) else {}
    fallback = other_fallback(channel_type)  # the config key the deprecated `other` column stands in for
    if fallback and other and not config.get(fallback):
        config[fallback] = other
    return config


def token_entry(row: Mapping[str, Any]) -> TokenEntry:
    """`row` holds the plaintext `key` (the master's database) or its `key_hash` (a slave)."""
    return TokenEntry(
        id=int(row["id"]),
        user_id=int(row["user_id"] or 0),
        name=row.get("name") or "",
        status=int(row.get("status") or 0),
        expired_time=int(row["expired_time"] if row.get("expired_time") is not None else -1),
        remain_quota=int(row.get("remain_quota") or 0),
        unlimited_quota=bool(row.get("unlimited_quota")),
        used_quota=int(row.get("used_quota") or 0),
        models=model_set(row.get("models") or ""),
        models_text=row.get("models") or "",
        subnet_text=row.get("subnet") or "",
        subnets=parse_subnets(row.get("subnet") or ""),
        limits=limits_of(row),
        key_hash=row.get("key_hash") or key_hash(row.get("key") or ""),
    )


def user_entry(row: Mapping[str, Any]) -> UserEntry:
    return UserEntry(
        id=int(row["id"]),
        username=row.get("username") or "",
        group=row.get("group") or "default",
        status=int(row.get("status") or 0),
        role=int(row.get("role") or 0),
        quota=int(row.get("quota") or 0),
        used_quota=int(row.get("used_quota") or 0),
        limits=limits_of(row),
    )


@lru_cache(maxsize=4096)
def model_set(text: str) -> frozenset[str] | None:
    """A token's model list as a set; None when it may use every model."""
    models = _split(text)
    return frozenset(models) if models else None


def put_token(table: TokenTable, t: TokenEntry) -> None:
    table.put(
        t.id,
        key_digest(t.key_hash),
        user_id=t.user_id,
        name=t.name,
        status=t.status,
        expired_time=t.expired_time,
        remain_quota=t.remain_quota,
        unlimited_quota=t.unlimited_quota,
        used_quota=t.used_quota,
        models=t.models_text,
        subnet=t.subnet_text,
        limits=t.limits,
    )


def put_user(table: UserTable, u: UserEntry) -> None:
    table.put(
        u.id, username=u.username, group=u.group, status=u.status, role=u.role, quota=u.quota, used_quota=u.used_quota, limits=u.limits
    )


def token_at(table: TokenTable, row: int) -> TokenEntry:
    models, subnet, limits, unlimited = table.profiles.values[table.profile[row]]
    return TokenEntry(
        id=table.ids[row],
        user_id=table.user_id[row],
        name=table.texts.get(row),
        status=table.status[row],
        expired_time=table.expired[row],
        remain_quota=table.remain[row],
        unlimited_quota=unlimited,
        used_quota=table.used[row],
        models=model_set(models),
        models_text=models,
        subnet_text=subnet,
        subnets=parse_subnets(subnet),
        limits=limits,
        key_hash=table.digest(row).hex(),
    )


def user_at(table: UserTable, row: int) -> UserEntry:
    return UserEntry(
        id=table.ids[row],
        username=table.texts.get(row),
        group=table.groups.values[table.group[row]],
        status=table.status[row],
        role=table.role[row],
        quota=table.quota[row],
        used_quota=table.used[row],
        limits=table.limit_sets.values[table.limits[row]],
    )


def tokens_by_key(table: TokenTable) -> RowsView[TokenEntry]:
    return RowsView(table, lambda h: table.row_of_key(key_digest(h)), lambda row: token_at(table, row), lambda row: table.digest(row).hex())


def tokens_by_id(table: TokenTable) -> RowsView[TokenEntry]:
    return RowsView(table, table.row_of_id, lambda row: token_at(table, row), lambda row: table.ids[row])


def users_by_id(table: UserTable) -> RowsView[UserEntry]:
    return RowsView(table, table.row_of_id, lambda row: user_at(table, row), lambda row: table.ids[row])


def channel_entry(row: Mapping[str, Any]) -> ChannelEntry:
    ctype = int(row.get("type") or 0)
    return ChannelEntry(
        id=int(row["id"]),
        type=ctype,
        key=row.get("key") or "",
        status=int(row.get("status") or 0),
        name=row.get("name") or "",
        weight=int(row.get("weight") or 0),
        priority=int(row.get("priority") or 0),
        base_url=row.get("base_url") or "",
        config=channel_config(ctype, row.get("config"), row.get("other")),
        models=tuple(m.strip() for m in _split(row.get("models")) if m.strip()),
        groups=tuple(g.strip() for g in _split(row.get("group")) if g.strip()),
        model_mapping=parse_mapping(row.get("model_mapping")),
        system_prompt=row.get("system_prompt") or "",
    )


def build_snapshot(
    version: int,
    user_rows: Iterable[Mapping[Any, Any]],  # database rows (RowMapping) or dicts
    token_rows: Iterable[Mapping[Any, Any]],
    channel_rows: Iterable[Mapping[Any, Any]],
    options: Mapping[str, str],
) -> Snapshot:
    token_table, user_table = TokenTable(), UserTable()
    for row in user_rows:
        put_user(user_table, user_entry(row))
    for row in token_rows:
        put_token(token_table, token_entry(row))
    return snapshot_of_tables(version, token_table, user_table, map(channel_entry, channel_rows), options)


def snapshot_of_tables(
    version: int, token_table: TokenTable, user_table: UserTable, channel_list: Iterable[ChannelEntry], options: Mapping[str, str]
) -> Snapshot:
    channels = {c.id: c for c in channel_list}
    frozen_routes, group_models = build_routes(channels)
    return Snapshot(
        version=version,
        tokens=tokens_by_key(token_table),
        tokens_by_id=tokens_by_id(token_table),
        users=users_by_id(user_table),
        channels=channels,
        routes=frozen_routes,
        group_models=group_models,
        options=dict(options),
    )


def build_routes(
    channels: Mapping[int, ChannelEntry],
) -> tuple[dict[tuple[str, str], tuple[ChannelEntry, ...]], dict[str, tuple[str, ...]]]:
    """(group, model) -> enabled channels by priority, and each group's models."""
    routes: dict[tuple[str, str], list[ChannelEntry]] = {}
    for channel in channels.values():
        if channel.status != CHANNEL_ENABLED:
            continue
        for group in dict.fromkeys(channel.groups):
            for model in dict.fromkeys(channel.models):
                routes.setdefault((group, model), []).append(channel)
    frozen_routes = {k: tuple(sorted(v, key=lambda c: (-c.priority, c.id))) for k, v in routes.items()}
    group_models: dict[str, set[str]] = {}
    for group, model in frozen_routes:
        group_models.setdefault(group, set()).add(model)
    return frozen_routes, {g: tuple(sorted(m)) for g, m in group_models.items()}
