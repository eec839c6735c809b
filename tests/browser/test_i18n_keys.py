"""Every text of the console exists in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "web" / "src"
KEY = re.compile(r"""['"`]((?:[a-z]+)\.[A-Za-z_0-9]+)['"`]""")
PREFIXES = {
    "common",
    "nav",
    "header",
    "theme",
    "role",
    "status",
    "error",
    "quota",
    "page",
    "footer",
    "login",
    "register",
    "reset",
    "oauth",
    "turnstile",
    "home",
    "about",
    "channel",
    "token",
    "log",
    "dashboard",
    "user",
    "redemption",
    "topup",
    "settings",
    "personal",
    "option",
}


def _dictionary(lang: str) -> dict[str, str]:
    return json.loads((SRC / "i18n" / f"{lang}.json").read_text())


def test_both_languages_have_the_same_non_empty_keys() -> None:
    en, zh = _dictionary("en"), _dictionary("zh")
    assert set(en) == set(zh)
    assert all(v.strip() for v in [*en.values(), *zh.values()])
    for key in en:  # placeholders agree
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", zh[key])), key


def test_every_key_used_in_the_source_is_translated() -> None:
    en = _dictionary("en")
    used = set()
    for path in SRC.rglob("*.js*"):
        used |= {k for k in KEY.findall(path.read_text()) if k.split(".")[0] in PREFIXES}
    # keys built at run time from these tables
    used |= {f"theme.{n}" for n in ("default", "dark", "berry", "air")}
    used |= {f"log.type_{n}" for n in ("all", "topup", "consume", "manage", "system", "test")}
    assert sorted(used - set(en)) == []
