"""Channel tests and balances (docs/one-api-compat.md §4.9, §7.1, §7.2), all AdminAuth.

Registered before the channel CRUD routes so /api/channel/test is never read as a channel id.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from master.api.common import JSONResponse, admin_auth, fail, ok, route, same_origin_only
from master.context import get_ctx
from master.gobind import atoi
from master.monitors import Monitors
from master.monitors.balance import BalanceError, update_balance
from master.monitors.channel_test import ALREADY_RUNNING, load_channel

NOT_FOUND = "record not found"


def _monitors(request: Request) -> Monitors:
    return request.app.state.monitors


def _channel_id(request: Request) -> int:
    """`strconv.Atoi` of the path id; raises ValueError with Go's message."""
    return atoi(request.path_params["id"])


@same_origin_only
@admin_auth
async def test_channel(request: Request) -> Response:
    """Synchronous test of one channel: `{success, message, time, modelName}`."""
    try:
        channel_id = _channel_id(request)
    except ValueError as exc:
        return fail(str(exc))
    row = await load_channel(get_ctx(request), channel_id)
    if row is None:
        return fail(NOT_FOUND)
    requested = request.query_params.get("model", "")
    outcome = await _monitors(request).tester.test_one(row, requested)
    seconds = 0.0 if outcome.error else outcome.elapsed_ms / 1000
    return JSONResponse(
        {
            "success": outcome.ok,
            "message": outcome.error or outcome.reply,
            "time": seconds,
            "modelName": requested,
        }
    )


@same_origin_only
@admin_auth
async def test_all_channels(request: Request) -> Response:
    """Start a background run over `scope` (all | disabled); one run at a time."""
    scope = request.query_params.get("scope", "") or "all"
    if not _monitors(request).tester.start_batch(scope):
        return fail(ALREADY_RUNNING)
    return ok()


@same_origin_only
@admin_auth
async def update_channel_balance(request: Request) -> Response:
    try:
        channel_id = _channel_id(request)
    except ValueError as exc:
        return fail(str(exc))
    ctx = get_ctx(request)
    row = await load_channel(ctx, channel_id)
    if row is None:
        return fail(NOT_FOUND)
    try:
        balance = await update_balance(ctx, row)
    except BalanceError as exc:
        return fail(str(exc))
    return JSONResponse({"success": True, "message": "", "balance": balance})


@same_origin_only
@admin_auth
async def update_all_balances(request: Request) -> Response:
    """Refresh every enabled channel's balance in the background; answers at once."""
    _monitors(request).balances.start_all()
    return ok()


routes = [
    route("/api/channel/test", test_all_channels, ["GET"]),
    route("/api/channel/test/{id}", test_channel, ["GET"]),
    route("/api/channel/update_balance", update_all_balances, ["GET"]),
    route("/api/channel/update_balance/{id}", update_channel_balance, ["GET"]),
]
