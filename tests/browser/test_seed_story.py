"""The seed's user story in a real browser: log in as root, add an OpenAI channel pointing at the
fake upstream, test it, create a token, copy its key, use it with the openai SDK, and find the
request in the logs and on the dashboard."""

from __future__ import annotations

import time

import openai
from playwright.sync_api import expect

from tests.browser.conftest import login, toast
from tests.fake_upstream.state import Canned


def _wait_for_log(page, model: str, token_name: str) -> None:
    """The consume log is written as the answer ends; poll the API (with the page's session)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rows = page.request.get("/api/log/?p=0&type=2").json()["data"]
        if any(r["model_name"] == model and r["token_name"] == token_name for r in rows):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the consume log never appeared")


def test_seed_story(browsing, fake_upstream, master_url) -> None:
    page = browsing.page()
    login(page, "root", "123456")

    # Add a channel: the OpenAI type's models are filled in from /api/models.
    page.get_by_role("link", name="Channels").click()
    page.get_by_role("button", name="Add channel").click()
    page.locator("input[name=name]").fill("fake-openai")
    page.locator("input[name=base_url]").fill(fake_upstream.url)
    page.locator("input[name=key]").fill("sk-upstream-key")
    expect(page.locator(".chip", has_text="gpt-3.5-turbo").first).to_be_visible()
    page.get_by_role("button", name="Submit").click()
    row = page.locator("tr", has_text="fake-openai")
    expect(row).to_be_visible()
    expect(row.get_by_text("Enabled")).to_be_visible()

    # Test it: the fake upstream answers, the response time shows up.
    row.get_by_role("button", name="Test").click()
    expect(toast(page).filter(has_text="fake-openai")).to_contain_text("answered in")
    expect(row.get_by_text("Not tested")).to_have_count(0)

    # Create a token and copy its key.
    page.get_by_role("link", name="Tokens").click()
    page.get_by_role("button", name="Add token").click()
    page.locator("input[name=name]").fill("browser-token")
    page.get_by_role("button", name="Submit").click()
    token_row = page.locator("tr", has_text="browser-token")
    token_row.get_by_role("button", name="Copy", exact=True).click()
    expect(toast(page).filter(has_text="copied")).to_be_visible()
    key = page.evaluate("navigator.clipboard.readText()")
    assert key.startswith("sk-") and len(key) == 51
    token_row.get_by_role("button", name="Show").click()
    expect(token_row.locator(".token-key")).to_contain_text(key)

    # "Copy as" gives ready-made client code with this key.
    token_row.get_by_role("button", name="Copy as…").click()
    page.get_by_role("tab", name="openai-python").click()
    expect(page.locator("pre.code")).to_contain_text(f'api_key="{key}"')
    page.keyboard.press("Escape")

    # Use the key with the official SDK against the master.
    client = openai.OpenAI(api_key=key, base_url=f"{master_url}/v1", max_retries=0)
    answer = client.chat.completions.create(model="gpt-3.5-turbo", messages=[{"role": "user", "content": "Hi from the browser test"}])
    assert answer.choices[0].message.content == Canned().reply_text
    _wait_for_log(page, "gpt-3.5-turbo", "browser-token")

    # The request is in the logs, with the filter's quota sum...
    page.get_by_role("link", name="Logs").click()
    page.locator("input[name=token_name]").fill("browser-token")
    page.get_by_role("button", name="Query").click()
    log_row = page.locator("tbody tr", has_text="browser-token")
    expect(log_row.first).to_contain_text("gpt-3.5-turbo")
    expect(log_row.first).to_contain_text("Usage")
    expect(page.get_by_test_id("quota-sum")).to_contain_text("Quota used: $")
    expect(page.get_by_test_id("quota-sum")).not_to_have_text("Quota used: $0.0000")

    # ...and on the dashboard's charts.
    page.get_by_role("link", name="Dashboard").click()
    chart = page.locator("figure", has=page.get_by_role("img", name="Requests")).first
    expect(chart.locator(".legend")).to_contain_text("gpt-3.5-turbo")
    expect(chart.locator("rect title")).to_have_count(1)
