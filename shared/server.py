"""The seam between a node's ASGI app and the HTTP server that runs it.

uvicorn (with uvloop and httptools) is the default: measured on this machine it serves about twice
what hypercorn does (bench issue). HTTP_SERVER=hypercorn keeps the design card's server available.

A supervised worker (`--workers N`) serves on the sockets its supervisor bound, behind the worker
gate (shared.workers.gate); a single process binds HOST:PORT itself, as it always did.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.settings import Settings


def uvicorn_options() -> dict[str, Any]:
    """uvicorn's settings for a node. proxy_headers is off: uvicorn would believe X-Forwarded-For
    from 127.0.0.1; the node's TRUSTED_PROXIES rule (shared.client_address) is the only reader."""
    return dict(
        loop="uvloop",
        http="httptools",
        ws="none",
        access_log=False,
        log_config=None,
        proxy_headers=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )


def serve(app: Any, settings: Settings) -> int:
    sockets = None
    if settings.worker is not None:
        from shared.workers.gate import WorkerGate

        app = WorkerGate(app, settings.worker, settings.metrics_token)
        sockets = settings.worker.sockets()
    if settings.http_server == "hypercorn":
        from hypercorn.asyncio import serve as hyper_serve
        from hypercorn.config import Config

        config = Config()
        host = f"[{settings.host}]" if ":" in settings.host else settings.host  # an IPv6 address
        config.bind = [f"fd://{sock.fileno()}" for sock in sockets] if sockets else [f"{host}:{settings.port}"]
        config.accesslog = None
        asyncio.run(hyper_serve(app, config))
        return 0
    import uvicorn

    options = uvicorn_options()
    if sockets is None:
        uvicorn.run(app, host=settings.host, port=settings.port, **options)
        return 0
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run(sockets=sockets)
    return 0 if server.started else 3  # 3: uvicorn's startup failure, as uvicorn.run exits with
