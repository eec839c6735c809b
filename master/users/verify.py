"""Proofs a user gives before an account action: e-mail verification codes and reset tokens
(docs/one-api-compat.md §4.3, kept per app in `app.state`), e-mail checks, the Turnstile check, and sending mail."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from master import notify
from master.api.common import client_ip, fail, language
from master.context import get_ctx

EMAIL_VERIFICATION, PASSWORD_RESET = "v", "r"
CODE_LIFETIME = 10 * 60
TURNSTILE_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"

# The shape go-playground's `email` validator accepts, closely enough: local@domain.tld.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


@dataclass
class CodeStore:
    """Codes keyed by purpose + email, valid while younger than 10 minutes; expired entries are
    purged once the map holds more than 10 (as One API does)."""

    codes: dict[str, tuple[str, float]] = field(default_factory=dict)

    def register(self, email: str, code: str, purpose: str) -> None:
        self.codes[purpose + email] = (code, time.monotonic())
        if len(self.codes) > 10:
            now = time.monotonic()
            for key in [k for k, (_, at) in self.codes.items() if now - at >= CODE_LIFETIME]:
                del self.codes[key]

    def verify(self, email: str, code: str, purpose: str) -> bool:
        entry = self.codes.get(purpose + email)
        return entry is not None and entry[0] == code and time.monotonic() - entry[1] < CODE_LIFETIME

    def delete(self, email: str, purpose: str) -> None:
        self.codes.pop(purpose + email, None)


def code_store(request: Request) -> CodeStore:
    """This app's store, created on first use (process memory, like One API's; not shared by nodes)."""
    state = request.app.state
    store = getattr(state, "verification_codes", None)
    if store is None:
        store = state.verification_codes = CodeStore()
    return store


def valid_email(email: str) -> bool:
    return len(email) <= 254 and _EMAIL.match(email) is not None


def domain_allowed(request: Request, email: str) -> bool:
    options = get_ctx(request).options
    if not options.flag("EmailDomainRestrictionEnabled"):
        return True
    domains = [d.strip() for d in options.get("EmailDomainWhitelist").split(",") if d.strip()]
    return any(email.endswith("@" + d) for d in domains)


class MailError(Exception):
    """Sending a message failed; the text follows One API's send_email_failed prefix."""


async def send_email(request: Request, subject: str, receiver: str, content: str) -> None:
    """Deliver an HTML message through the master's one SMTP transport; raises MailError with the
    reason (the "not configured" reason in the caller's language)."""
    ctx = get_ctx(request)
    if receiver and not ctx.options.get("SMTPServer"):
        raise MailError("SMTP 服务器未配置" if language(request) == "zh-CN" else "SMTP server is not configured")
    try:
        await notify.send_email(ctx, receiver, subject, content)
    except notify.NotifyError as exc:
        raise MailError(str(exc)) from exc


async def turnstile_check(request: Request) -> Response | None:
    """Cloudflare Turnstile when `TurnstileCheckEnabled`: None to go on, or the answer to give.
    A session that passed once is not checked again."""
    ctx = get_ctx(request)
    if not ctx.options.flag("TurnstileCheckEnabled") or request.session.get("turnstile"):
        return None
    token = request.query_params.get("turnstile", "")
    if not token:
        return fail("Turnstile token 为空")
    form = {"secret": ctx.options.get("TurnstileSecretKey"), "response": token, "remoteip": client_ip(request)}
    import httpx  # httpx is loaded at first use: ~2.5 MB of RSS a node rarely needs (bench issue)

    try:
        async with httpx.AsyncClient(timeout=10) as http:
            resp = await http.post(TURNSTILE_URL, data=form)
        verdict = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        return fail(str(exc) or type(exc).__name__)
    if not isinstance(verdict, dict) or verdict.get("success") is not True:
        return fail("Turnstile 校验失败，请刷新重试！")
    request.session["turnstile"] = True
    return None
