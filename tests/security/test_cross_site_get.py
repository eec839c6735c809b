"""Cross-site GET: routes that change state on GET (a new access token, a paid channel test, a
balance refresh) refuse a request another site started. A SameSite=Lax cookie still rides along on
a cross-site top-level navigation (a link, a redirect), so without this a page elsewhere could
replace an admin's access token or burn channel quota."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import client_for
from tests.support.services import FreshDatabase

REFUSED = {"success": False, "message": "跨站请求被拒绝 (cross-site request refused)"}
STATE_CHANGING = [
    "/api/user/token",
    "/api/channel/test",
    "/api/channel/test/1",
    "/api/channel/update_balance",
    "/api/channel/update_balance/1",
]
CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin
    {"Origin": "https://evil.example"},  # a browser without Sec-Fetch-* headers
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},  # Sec-Fetch-Site is the browser's word
]
SAME_ORIGIN = [
    {"Sec-Fetch-Site": "same-origin"},  # the console's own fetch()
    {"Sec-Fetch-Site": "none"},  # typed in the address bar
    {"Origin": "http://testserver"},
    {"Origin": "http://testserver:80"},
    {},  # curl or a script with an access token
]


@pytest.fixture
def database(sqlite_database: FreshDatabase) -> FreshDatabase:
    """The guard reads headers only: one backend is enough."""
    return sqlite_database


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_cross_site_requests_are_refused(
    master: tuple[object, httpx.AsyncClient], root_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    app = master[0]
    token = (await root_client.get("/api/user/token", headers={"Sec-Fetch-Site": "same-origin"})).json()["data"]
    for path in STATE_CHANGING:
        answer = await root_client.get(path, headers=headers)
        assert answer.status_code == 403 and answer.json() == REFUSED, (path, answer.text)
    # The access token was not replaced.
    by_token = await client_for(app).get("/api/user/self", headers={"Authorization": token})
    assert by_token.json()["success"] is True


@pytest.mark.parametrize("headers", SAME_ORIGIN)
async def test_the_console_and_scripts_keep_working(
    master: tuple[object, httpx.AsyncClient], root_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    app = master[0]
    token = (await root_client.get("/api/user/token", headers=headers)).json()["data"]
    assert (await client_for(app).get("/api/user/self", headers={"Authorization": token})).json()["success"] is True
    assert (await root_client.get("/api/channel/update_balance", headers=headers)).json() == {"success": True, "message": ""}
    missing = await root_client.get("/api/channel/test/99999", headers=headers)
    assert missing.status_code == 200 and missing.json() == {"success": False, "message": "record not found"}
    by_token = client_for(app)
    by_token.headers["Authorization"] = token
    assert (await by_token.get("/api/channel/test", headers=headers)).json()["success"] is True
    await by_token.aclose()
