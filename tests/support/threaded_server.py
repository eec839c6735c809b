"""An ASGI app served by uvicorn on a free 127.0.0.1 port in a background thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class ThreadedServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", name: str = "test-server", **options: Any) -> None:
        """`options` override uvicorn.Config's arguments (e.g. a node's own, shared.server.uvicorn_options)."""
        self.app, self.host, self.name, self.options = app, host, name, options
        self.port = 0
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ThreadedServer:
        # Bind and listen before the server thread runs: clients can connect at once (the kernel
        # queues them), and there is no port race.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(1024)
        self._sock, self.port = sock, sock.getsockname()[1]
        defaults: dict[str, Any] = dict(log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        config = uvicorn.Config(self.app, **{**defaults, **self.options})
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None
