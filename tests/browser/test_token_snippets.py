"""The token page's "Copy as…" dialog: copy-ready Claude Code, Codex CLI, openai, anthropic and
google-genai snippets carrying the token and the gateway's address (the page's origin, or the
ServerAddress option when set); the copied google-genai and openai snippets run against the master."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.fake_upstream.state import Canned

GATEWAY = "https://gateway.example.com"


def _copied(page, tab: str) -> str:
    dialog = page.locator(".modal")
    dialog.get_by_role("tab", name=tab, exact=True).click()
    dialog.get_by_role("button", name="Copy", exact=True).click()
    return page.evaluate("navigator.clipboard.readText()")


def _open_dialog(page, token_name: str) -> None:
    page.get_by_role("link", name="Tokens").click()
    page.locator("tr", has_text=token_name).get_by_role("button", name="Copy as…").click()
    expect(page.locator("pre.code")).to_be_visible()


def _run(snippet: str) -> str:
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_copy_as_snippets(browsing, fake_upstream, master_url) -> None:
    page = browsing.page()
    login(page, "root", "123456")
    channel = {
        "name": "snippets-openai",
        "type": 1,
        "key": "sk-upstream-good",
        "base_url": fake_upstream.url,
        "models": "gpt-4o-mini,gemini-2.0-flash",
        "group": "default",
    }
    assert page.request.post("/api/channel/", data=channel).json()["success"]
    made = page.request.post(
        "/api/token/", data={"name": "snippet-token", "expired_time": -1, "remain_quota": 0, "unlimited_quota": True}
    ).json()
    assert made["success"], made
    key = f"sk-{made['data']['key']}"

    _open_dialog(page, "snippet-token")
    claude = _copied(page, "Claude Code")
    assert f'export ANTHROPIC_BASE_URL="{master_url}"\n' in claude
    assert f'export ANTHROPIC_AUTH_TOKEN="{key}"\n' in claude
    expect(page.locator("[data-hint=claude_code]")).to_contain_text("/v1/messages")

    codex = _copied(page, "Codex CLI")
    for line in (
        'model_provider = "oneapi"',
        "[model_providers.oneapi]",
        f'base_url = "{master_url}/v1"',
        'env_key = "ONEAPI_API_KEY"',
        'wire_api = "responses"',
        f'# export ONEAPI_API_KEY="{key}"',
    ):
        assert line in codex.splitlines(), line

    anthropic_code = _copied(page, "anthropic-python")
    assert f'anthropic.Anthropic(api_key="{key}", base_url="{master_url}")' in anthropic_code

    genai_code = _copied(page, "google-genai")
    assert f'genai.Client(api_key="{key}", http_options=types.HttpOptions(base_url="{master_url}"))' in genai_code
    assert _run(genai_code) == Canned().reply_text  # the copied code works as is, through /v1beta

    openai_code = _copied(page, "openai-python")
    assert f'OpenAI(api_key="{key}", base_url="{master_url}/v1")' in openai_code
    assert _run(openai_code) == Canned().reply_text
    page.keyboard.press("Escape")

    # With ServerAddress set, the snippets name it instead of the page's origin.
    assert page.request.put("/api/option/", data={"key": "ServerAddress", "value": GATEWAY}).json()["success"]
    try:
        page.reload()
        _open_dialog(page, "snippet-token")
        claude = _copied(page, "Claude Code")
        assert f'export ANTHROPIC_BASE_URL="{GATEWAY}"\n' in claude
        assert f'base_url = "{GATEWAY}/v1"' in _copied(page, "Codex CLI")
    finally:
        assert page.request.put("/api/option/", data={"key": "ServerAddress", "value": ""}).json()["success"]
