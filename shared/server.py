"""The seam between a node's ASGI app and the HTTP server that runs it.

uvicorn (with uvloop and httptools) is the default: measured on this machine it serves about twice
what hypercorn does (bench issue). HTTP_SERVER=hypercorn keeps the design card's server available.

A supervised worker (`--workers N`) serves on the sockets its supervisor bound, behind the worker
gate (shared.workers.gate); a single process binds its port itself, as it always did.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.settings import Settings


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
        config.bind = [f"fd://{sock.fileno()}" for sock in sockets] if sockets else [f"0.0.0.0:{settings.port}"]
        config.accesslog = None
        asyncio.run(hyper_serve(app, config))
        return 0
    import uvicorn

    options: dict[str, Any] = dict(loop="uvloop", http="httptools", ws="none", access_log=False, log_config=None, lifespan="on", timeout_graceful_shutdown=30)
    if sockets is None:
        uvicorn.run(app, host="0.0.0.0", port=settings.port, **options)
        return 0
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run(sockets=sockets)
    return 0 if server.started else 3  # 3: uvicorn's startup failure, as uvicorn.run exits with
