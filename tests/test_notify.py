"""Notifications (docs/one-api-compat.md §7.4): MessagePusher first, then e-mail through a real local SMTP server."""

from __future__ import annotations

import base64
import email
import socket
from collections.abc import Iterator
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope
from sqlalchemy import update

from master.db.schema import users
from master.notify import NotifyError, send_email
from tests.support.app import running_master
from tests.support.balance_upstream import LocalUpstream, wait_until
from tests.support.relay import add_channel, add_token, bearer, set_option, update_channel

SUBJECT = "渠道状态变更提醒"


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"smtp-secret", handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def pusher_server() -> Iterator[LocalUpstream]:
    with LocalUpstream() as server:
        yield server


@pytest.fixture
def pusher(pusher_server: LocalUpstream) -> LocalUpstream:
    pusher_server.reset()
    return pusher_server


@pytest.fixture
async def sqlite_master(sqlite_database):
    async with running_master(sqlite_database.env()) as (app, client):
        resp = await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        assert resp.json()["success"]
        yield app, client


def parsed(envelope: Envelope) -> email.message.Message:
    return email.message_from_bytes(envelope.original_content)


def html_of(message: email.message.Message) -> str:
    return message.get_payload(decode=True).decode()


async def run_batch(app: Any, client: Any, scope: str = "all") -> None:
    assert (await client.get(f"/api/channel/test?scope={scope}")).json()["success"]

    async def finished() -> bool:
        return not app.state.monitors.tester.running

    await wait_until(finished)


async def test_message_pusher_on_disable(sqlite_master, fake_upstream, pusher) -> None:
    app, client = sqlite_master
    pusher.answer("/push", {"success": True, "message": ""})
    await set_option(client, "MessagePusherAddress", f"{pusher.url}/push")
    await set_option(client, "MessagePusherToken", "push-token")
    await set_option(client, "AutomaticDisableChannelEnabled", "true")
    await add_channel(client, fake_upstream.url, name="<b>bad</b>", key="sk-bad")
    fake_upstream.behaviour_for_key("sk-bad", "401")
    await run_batch(app, client)
    (seen,) = pusher.requests
    body = seen.json()
    assert set(body) == {"title", "description", "content", "url", "channel", "token"}
    assert body["title"] == SUBJECT and body["token"] == "push-token" and body["url"] == "" and body["channel"] == ""
    assert body["description"] == body["content"]
    assert "&lt;b&gt;bad&lt;/b&gt;" in body["content"] and "<b>bad</b>" not in body["content"]  # escaped
    assert "已被禁用" in body["content"] and "http status code: 401" in body["content"]


async def test_email_when_pusher_fails(sqlite_master, fake_upstream, pusher, smtp) -> None:
    app, client = sqlite_master
    inbox, port = smtp
    pusher.answer("/push", {"success": False, "message": "token invalid"})
    await set_option(client, "MessagePusherAddress", f"{pusher.url}/push")
    await set_option(client, "AutomaticEnableChannelEnabled", "true")
    for key, value in {"SMTPServer": "127.0.0.1", "SMTPPort": str(port), "SMTPFrom": "noreply@example.com"}.items():
        await set_option(client, key, value)
    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(update(users).where(users.c.username == "root").values(email="root@example.org"))
    cid = await add_channel(client, fake_upstream.url, name="back")
    await update_channel(client, cid, status=2)
    await run_batch(app, client, "disabled")
    assert len(pusher.requests) == 1
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "noreply@example.com" and envelope.rcpt_tos == ["root@example.org"]
    assert inbox.logins == []  # no account, no token: no AUTH
    raw = envelope.original_content.decode()
    assert "Subject: =?UTF-8?B?" + base64.b64encode(SUBJECT.encode()).decode() + "?=" in raw
    message = parsed(envelope)
    assert str(make_header(decode_header(message["Subject"]))) == SUBJECT
    assert message["From"] == "One API <noreply@example.com>" and message["To"] == "root@example.org"
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content_type() == "text/html" and message.get_content_charset() == "utf-8"
    assert "渠道「<strong>back</strong>」" in html_of(message) and "已被启用" in html_of(message)


async def test_send_email_directly(sqlite_master, smtp) -> None:
    app, client = sqlite_master
    inbox, port = smtp
    ctx = app.state.ctx
    with pytest.raises(NotifyError, match="SMTP server is not configured"):
        await send_email(ctx, "a@example.com", "s", "<p>x</p>")
    for key, value in {
        "SMTPServer": "127.0.0.1",
        "SMTPPort": str(port),
        "SMTPAccount": "mailer@example.net",
        "SMTPToken": "smtp-secret",
    }.items():
        await set_option(client, key, value)
    with pytest.raises(NotifyError, match="receiver is empty"):
        await send_email(ctx, "", "s", "<p>x</p>")
    await send_email(ctx, "a@example.com;b@example.com", "验证码", "<p>123456</p>")
    (envelope,) = inbox.envelopes
    assert inbox.logins == [(b"mailer@example.net", b"smtp-secret")]
    assert envelope.mail_from == "mailer@example.net"  # SMTPFrom falls back to the account
    assert envelope.rcpt_tos == ["a@example.com", "b@example.com"]
    message = parsed(envelope)
    assert str(make_header(decode_header(message["Subject"]))) == "验证码"
    assert html_of(message) == "<p>123456</p>"
    await set_option(client, "SMTPToken", "wrong")
    with pytest.raises(NotifyError, match="SMTP 127.0.0.1"):
        await send_email(ctx, "a@example.com", "s", "<p>x</p>")
    await set_option(client, "SMTPPort", str(free_port()))  # nothing listens there
    with pytest.raises(NotifyError):
        await send_email(ctx, "a@example.com", "s", "<p>x</p>")


async def test_relay_auto_disable_notifies(sqlite_master, fake_upstream, pusher) -> None:
    app, client = sqlite_master
    pusher.answer("/push", {"success": True})
    await set_option(client, "MessagePusherAddress", f"{pusher.url}/push")
    await set_option(client, "AutomaticDisableChannelEnabled", "true")
    await add_channel(client, fake_upstream.url, name="relayed", key="sk-bad")
    fake_upstream.behaviour_for_key("sk-bad", "401")
    token = await add_token(client)
    chat = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}
    assert (await client.post("/v1/chat/completions", headers=bearer(token), json=chat)).status_code == 401
    await app.state.relay.flush()

    async def pushed() -> bool:
        return len(pusher.requests) == 1

    await wait_until(pushed)
    content = pusher.requests[0].json()["content"]
    assert "relayed" in content and "Incorrect API key provided" in content
