"""Runtime options (the `options` table, docs/one-api-compat.md §4.12): defaults, DB overlay, typed reads.

The map holds strings exactly as stored; typed accessors parse them leniently as One API does
(keys ending in `Enabled` are `value == "true"`, numbers that do not parse are 0).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from master.db.schema import options as options_table
from shared import gojson, option_values
from shared.billing.ratios import DEFAULT_COMPLETION_RATIO, DEFAULT_GROUP_RATIO, DEFAULT_MODEL_RATIO
from shared.logs import get_logger

log = get_logger(__name__)

EMAIL_DOMAIN_WHITELIST = "gmail.com,163.com,126.com,qq.com,outlook.com,hotmail.com,icloud.com,yahoo.com,foxmail.com"
VALID_THEMES = ("default", "berry", "air", "dark")
RATIO_KEYS = ("ModelRatio", "GroupRatio", "CompletionRatio")


def _unknown_theme(theme: str) -> str:
    log.warning("unknown THEME, using the default theme", theme=theme, valid=list(VALID_THEMES))
    return "default"


def default_options(theme: str = "default") -> dict[str, str]:
    """The option map before the DB overlay, in One API's stored string forms."""
    return {
        "PasswordLoginEnabled": "true",
        "PasswordRegisterEnabled": "true",
        "EmailVerificationEnabled": "false",
        "GitHubOAuthEnabled": "false",
        "OidcEnabled": "false",
        "WeChatAuthEnabled": "false",
        "TurnstileCheckEnabled": "false",
        "RegisterEnabled": "true",
        "AutomaticDisableChannelEnabled": "false",
        "AutomaticEnableChannelEnabled": "false",
        "ApproximateTokenEnabled": "false",
        "LogConsumeEnabled": "true",
        "DisplayInCurrencyEnabled": "true",
        "DisplayTokenStatEnabled": "true",
        "ChannelDisableThreshold": "5",
        "EmailDomainRestrictionEnabled": "false",
        "EmailDomainWhitelist": EMAIL_DOMAIN_WHITELIST,
        "SMTPServer": "",
        "SMTPPort": "587",
        "SMTPAccount": "",
        "SMTPFrom": "",
        "SMTPToken": "",
        "Notice": "",
        "About": "",
        "HomePageContent": "",
        "Footer": "",
        "SystemName": "One API",
        "Logo": "",
        "ServerAddress": "",
        "GitHubClientId": "",
        "GitHubClientSecret": "",
        "WeChatServerAddress": "",
        "WeChatServerToken": "",
        "WeChatAccountQRCodeImageURL": "",
        "MessagePusherAddress": "",
        "MessagePusherToken": "",
        "TurnstileSiteKey": "",
        "TurnstileSecretKey": "",
        "QuotaForNewUser": "0",
        "QuotaForInviter": "0",
        "QuotaForInvitee": "0",
        "QuotaRemindThreshold": "1000",
        "PreConsumedQuota": "500",
        "ModelRatio": gojson.dumps(DEFAULT_MODEL_RATIO),
        "GroupRatio": gojson.dumps(DEFAULT_GROUP_RATIO),
        "CompletionRatio": gojson.dumps(DEFAULT_COMPLETION_RATIO),
        "TopUpLink": "",
        "ChatLink": "",
        "QuotaPerUnit": "500000",
        "RetryTimes": "0",
        # ours: prompt-cache tokens (Anthropic usage) priced against uncached ones; Anthropic's list
        # multipliers (cache write 1.25×, cache read 0.1×), shown in the log row (shared.relay.text)
        "AnthropicCacheWriteRatio": "1.25",
        "AnthropicCacheReadRatio": "0.1",
        "GroupRateLimits": "{}",  # ours: group -> rate limits for each user of it (shared.relay.ratelimit)
        "Theme": theme if theme in VALID_THEMES else _unknown_theme(theme),
    }


def parse_ratio_map(value: str) -> dict[str, float]:
    """Parse a ratio option; raises ValueError with a readable reason when it is not a JSON map of numbers."""
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(data, dict):
        raise ValueError("json: cannot unmarshal non-object into map[string]float64")
    out: dict[str, float] = {}
    for key, ratio in data.items():
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
            raise ValueError(f"json: cannot unmarshal {type(ratio).__name__} into map value of type float64 (key {key!r})")
        out[key] = float(ratio)
    return out


class Options:
    """The in-memory option map of this node."""

    def __init__(self, theme: str = "default") -> None:
        self.values: dict[str, str] = default_options(theme)

    async def load(self, engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(options_table.c.key, options_table.c.value))).all()
        for key, value in rows:
            self.values[key] = value if value is not None else ""
        # A stored ratio map that does not parse is ignored (One API keeps its default then).
        defaults = default_options()
        for key in RATIO_KEYS:
            try:
                parse_ratio_map(self.values[key])
            except ValueError:
                log.error("stored option is not a valid ratio map; using the default", key=key)
                self.values[key] = defaults[key]
        # Built-in model ratios missing from the stored JSON come back (One API does this on load).
        stored = parse_ratio_map(self.values["ModelRatio"])
        merged = {**DEFAULT_MODEL_RATIO, **stored}
        if merged.keys() != stored.keys():
            self.values["ModelRatio"] = gojson.dumps(merged)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def flag(self, key: str) -> bool:
        return option_values.flag(self.values, key)

    def integer(self, key: str) -> int:
        return option_values.integer(self.values, key)

    def number(self, key: str) -> float:
        return option_values.number(self.values, key)

    def ratio_map(self, key: str) -> dict[str, float]:
        try:
            return parse_ratio_map(self.values.get(key, "{}"))
        except ValueError:
            return {}

    @property
    def server_address(self) -> str:
        return self.values.get("ServerAddress") or "http://localhost:3000"

    def public_items(self) -> list[dict[str, Any]]:
        """GET /api/option/: every entry except keys ending in Token or Secret."""
        return [{"key": k, "value": v} for k, v in self.values.items() if not (k.endswith("Token") or k.endswith("Secret"))]
