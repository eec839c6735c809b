"""The seam between a node's ASGI app and the HTTP server that runs it.

uvicorn (with uvloop and httptools) is the default: measured on this machine it serves about twice
what hypercorn does (bench issue). HTTP_SERVER=hypercorn keeps the design card's server available.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.settings import Settings


def serve(app: Any, settings: Settings) -> int:
    if settings.http_server == "hypercorn":
        from hypercorn.asyncio import serve as hyper_serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"0.0.0.0:{settings.port}"]
        config.accesslog = None
        asyncio.run(hyper_serve(app, config))
        return 0
    import uvicorn

    uvicorn.run(
        app,
        host="0.0.0.0",
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    return 0
