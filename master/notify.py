"""Notifications (docs/one-api-compat.md §7.4): the root user hears about channel status changes through
MessagePusher when `MessagePusherAddress` is set, by e-mail otherwise (or when the push fails).

`send_email` is the one SMTP transport of the master: options SMTPServer/SMTPPort/SMTPAccount/
SMTPFrom/SMTPToken; port 465 is implicit TLS without certificate checks (as One API dials it),
any other port upgrades with STARTTLS when the server offers it; PLAIN auth when an account or a
token is set. smtplib is blocking, so a delivery runs in a worker thread.

Differences from One API, on purpose: the From display name is RFC 2047 encoded when it is not
ASCII, and the HTML body travels base64 encoded, so 8-bit-unclean relays cannot garble it.
"""

from __future__ import annotations

import asyncio
import base64
import html
import secrets
import smtplib
import ssl
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING

from sqlalchemy import select

from master.db.schema import users
from shared.logs import get_logger

if TYPE_CHECKING:
    from master.context import MasterContext

log = get_logger(__name__)

ROLE_ROOT = 100
CHANNEL_STATUS_SUBJECT = "渠道状态变更提醒"
SMTP_TIMEOUT = 30
PUSH_TIMEOUT = 10


class NotifyError(Exception):
    """A message could not be delivered; the text says why."""


def email_template(system_name: str, title: str, content_html: str) -> str:
    """The HTML frame of every notification; `content_html` must already be escaped."""
    return (
        '<!DOCTYPE html><html><head><meta charset="UTF-8"></head>'
        '<body style="margin:0;padding:0;font-family:Arial,sans-serif;line-height:1.6;color:#333;background:#f4f4f4;">'
        '<div style="max-width:600px;margin:20px auto;padding:20px;background:#fff;border-radius:8px;">'
        f'<h2 style="margin-top:0;padding-bottom:10px;border-bottom:1px solid #eee;">{html.escape(title)}</h2>'
        f'<div style="color:#666;">{content_html}</div>'
        '<div style="margin-top:20px;padding-top:20px;border-top:1px solid #eee;font-size:12px;color:#999;">'
        '<p style="margin:0;">此邮件由系统自动发送，请勿直接回复</p>'
        f'<p style="margin:0;">{html.escape(system_name)}</p>'
        "</div></div></body></html>"
    )


async def push_message(ctx: MasterContext, title: str, description: str, content: str) -> None:
    """POST to MessagePusher; raises NotifyError unless it answers `{"success": true}`."""
    address = ctx.options.get("MessagePusherAddress")
    if not address:
        raise NotifyError("message pusher address is not set")
    payload = {
        "title": title,
        "description": description,
        "content": content,
        "url": "",
        "channel": "",
        "token": ctx.options.get("MessagePusherToken"),
    }
    import httpx  # httpx is loaded at first use: ~2.5 MB of RSS a node rarely needs (bench issue)

    try:
        async with httpx.AsyncClient(timeout=PUSH_TIMEOUT) as http:
            resp = await http.post(address, json=payload)
        reply = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise NotifyError(f"message pusher: {exc or type(exc).__name__}") from exc
    if not isinstance(reply, dict) or reply.get("success") is not True:
        message = reply.get("message") if isinstance(reply, dict) else None
        raise NotifyError(str(message or f"message pusher refused the message (HTTP {resp.status_code})"))


def _mail_bytes(system_name: str, sender: str, to: str, subject: str, html_body: str) -> bytes:
    domain = sender.split("@", 1)[1] if "@" in sender else ""
    encoded_subject = "=?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?="
    body = base64.encodebytes(html_body.encode()).decode().replace("\n", "\r\n")
    headers = [
        f"To: {to}",
        f"From: {formataddr((system_name, sender))}",
        f"Subject: {encoded_subject}",
        f"Message-ID: <{secrets.token_hex(16)}@{domain}>",
        f"Date: {formatdate(localtime=True)}",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def _deliver(server: str, port: int, account: str, secret: str, sender: str, recipients: list[str], mail: bytes) -> None:
    """Blocking SMTP conversation (runs in a thread)."""
    if port == 465:
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server, port, timeout=SMTP_TIMEOUT, context=insecure)
    else:
        smtp = smtplib.SMTP(server, port, timeout=SMTP_TIMEOUT)
    try:
        smtp.ehlo()
        if port != 465 and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if account or secret:
            smtp.user, smtp.password = account, secret
            smtp.auth("PLAIN", smtp.auth_plain)
        smtp.sendmail(sender, recipients, mail)
    finally:
        # Some providers answer QUIT badly after accepting the message (One API's "short
        # response" case): once the message is accepted, that is not a failure.
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


async def send_email(ctx: MasterContext, to: str, subject: str, html_body: str) -> None:
    """Send an HTML e-mail (several recipients separated by `;`); raises NotifyError on failure."""
    options = ctx.options
    if not to:
        raise NotifyError("receiver is empty")
    server = options.get("SMTPServer")
    if not server:
        raise NotifyError("SMTP server is not configured (option SMTPServer)")
    account, secret = options.get("SMTPAccount"), options.get("SMTPToken")
    sender = options.get("SMTPFrom") or account
    port = options.integer("SMTPPort") or 587
    recipients = [r.strip() for r in to.split(";") if r.strip()]
    mail = _mail_bytes(options.get("SystemName"), sender, to, subject, html_body)
    try:
        await asyncio.to_thread(_deliver, server, port, account, secret, sender, recipients, mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"SMTP {server}:{port}: {exc or type(exc).__name__}") from exc


async def root_email(ctx: MasterContext) -> str:
    """The e-mail of the first root user ("" when none is set)."""
    query = select(users.c.email).where(users.c.role == ROLE_ROOT).order_by(users.c.id).limit(1)
    async with ctx.store.main.connect() as conn:
        row = (await conn.execute(query)).first()
    return (row.email or "") if row else ""


async def notify_root(ctx: MasterContext, subject: str, content_html: str) -> bool:
    """Tell the root user; never raises. True when some transport accepted the message."""
    if ctx.options.get("MessagePusherAddress"):
        try:
            await push_message(ctx, subject, content_html, content_html)
            return True
        except NotifyError as exc:
            log.error("message pusher failed; falling back to e-mail", error=str(exc))
    try:
        email = await root_email(ctx)
        if not email:
            log.warning("root user has no e-mail; notification dropped", subject=subject)
            return False
        await send_email(ctx, email, subject, content_html)
        return True
    except Exception as exc:  # a notification must never break the job that sends it
        log.error("notification e-mail failed", subject=subject, error=str(exc))
        return False
