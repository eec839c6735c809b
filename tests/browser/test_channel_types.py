"""The channel form reads its type list and each type's fields from GET /api/channel/types (the
provider registry), not from a table in the console's code."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import login


def _type_options(page) -> list[tuple[int, str]]:
    select = page.locator("select[name=type]")
    expect(select.locator("option").first).to_be_attached()
    return [(int(v), text.strip()) for v, text in select.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent])")]


def test_type_list_and_fields_come_from_the_api(browsing) -> None:
    page = browsing.page()
    login(page, "root", "123456")
    types = page.request.get("/api/channel/types").json()["data"]

    page.goto("/channel/add")
    assert _type_options(page) == [(t["id"], t["label"]["en"]) for t in types]

    # AWS: region, AK and SK fields and the composed-key hint, as its spec declares them.
    page.locator("select[name=type]").select_option("33")
    for name in ("config.region", "config.ak", "config.sk"):
        expect(page.locator(f"input[name='{name}']")).to_be_visible()
    expect(page.locator("input[name='config.region']")).to_have_attribute("placeholder", "us-west-2")
    expect(page.locator("input[name='config.sk']")).to_have_attribute("type", "password")
    expect(page.locator("label.field", has=page.locator("input[name=key]"))).to_contain_text(
        "Optional: built from the fields above when empty"
    )
    # Vertex AI: the service-account JSON is a multi-line field.
    page.locator("select[name=type]").select_option("42")
    expect(page.locator("textarea[name='config.vertex_ai_adc']")).to_be_visible()
    expect(page.locator("input[name='config.ak']")).to_have_count(0)
    # Baidu: no extra field, its key format as the key's hint.
    page.locator("select[name=type]").select_option("15")
    expect(page.locator("label.field", has=page.locator("input[name=key]"))).to_contain_text("Format: APIKey|SecretKey")


def test_a_changed_api_answer_changes_the_form(browsing) -> None:
    """Rewrite the API's answer in flight: the form follows it, so nothing is hard-coded."""
    page = browsing.page()
    login(page, "root", "123456")

    def rewrite(route) -> None:
        body = route.fetch().json()
        for entry in body["data"]:
            if entry["id"] == 36:
                entry["label"] = {"en": "DeepSeek from the API", "zh": "来自接口的 DeepSeek"}
                entry["fields"] = [
                    {
                        "name": "config.region",
                        "label": {"en": "Data centre", "zh": "数据中心"},
                        "hint": None,
                        "placeholder": "eu-1",
                        "default": "",
                        "secret": False,
                        "multiline": False,
                    }
                ]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/channel/types", rewrite)
    page.goto("/channel/add")
    assert (36, "DeepSeek from the API") in _type_options(page)
    page.locator("select[name=type]").select_option("36")
    expect(page.locator("label.field", has_text="Data centre").locator("input[name='config.region']")).to_have_attribute(
        "placeholder", "eu-1"
    )


def test_chinese_labels_and_a_declared_default(browsing) -> None:
    page = browsing.page(locale="zh-CN")
    login(page, "root", "123456")
    page.goto("/channel/add")
    assert (40, "字节火山引擎") in _type_options(page)

    # Azure: the API version left empty is stored as its spec's default.
    page.locator("select[name=type]").select_option("3")
    page.locator("input[name=name]").fill("azure-from-registry")
    page.locator("input[name=base_url]").fill("https://example.openai.azure.com")
    page.locator("input[name=key]").fill("azure-key")
    expect(page.locator("input[name=other]")).to_have_attribute("placeholder", "2024-03-01-preview")
    page.locator("form button[type=submit]").click()
    expect(page.locator("tr", has_text="azure-from-registry")).to_be_visible()
    rows = page.request.get("/api/channel/search?keyword=azure-from-registry").json()["data"]
    # The console's master is shared by the module's tests: the channel goes, or it would serve
    # (and fail) other tests' gpt-3.5-turbo requests.
    for row in rows:
        assert page.request.delete(f"/api/channel/{row['id']}").json()["success"]
    assert [(r["type"], r["other"]) for r in rows] == [(3, "2024-03-01-preview")]
