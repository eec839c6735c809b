"""/v1/models and /v1/models/:model (docs/one-api-compat.md §5.11)."""

from __future__ import annotations

from starlette.types import Send

from shared.catalog import catalogue_lookup, model_catalogue
from shared.relay.auth import Caller
from shared.relay.http import send_json
from shared.snapshot import Snapshot


def _custom(model_id: str) -> dict:
    return {
        "id": model_id,
        "object": "model",
        "created": 1626777600,
        "owned_by": "custom",
        "permission": None,
        "root": model_id,
        "parent": None,
    }


def available_models(snapshot: Snapshot, caller: Caller) -> set[str]:
    """The token's allow-list, else the user group's enabled models."""
    if caller.token.models is not None:
        return set(caller.token.models)
    return set(snapshot.group_models.get(caller.user.group, ()))


async def list_models(engine: object, caller: Caller, send: Send) -> None:
    """The caller's available models: catalogue entries first (with One API's duplicates), then the
    rest as `custom`."""
    available = available_models(engine.snapshot, caller)  # type: ignore[attr-defined]
    catalogue = model_catalogue()
    data = [entry.as_dict() for entry in catalogue if entry.id in available]
    known = {entry.id for entry in catalogue}
    data.extend(_custom(m) for m in sorted(available - known))
    await send_json(send, 200, {"object": "list", "data": data})


async def retrieve_model(model_id: str, send: Send) -> None:
    entry = catalogue_lookup(model_id)
    if entry is None:
        await send_json(
            send,
            200,
            {
                "error": {
                    "message": f"The model '{model_id}' does not exist",
                    "type": "invalid_request_error",
                    "param": "model",
                    "code": "model_not_found",
                }
            },
        )
        return
    await send_json(send, 200, entry.as_dict())
