"""Ports for the servers tests start."""

from __future__ import annotations

import random
import socket

_taken: set[int] = set()


def free_port() -> int:
    """A port below the kernel's ephemeral range (32768+), free now on every address.

    Port 0 would hand out an ephemeral port, which any outgoing connection may take as its source
    port before a node (re)binds it: nodes restarted on their old port then fail to start."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 32000)
        if port in _taken:
            continue
        try:
            with socket.socket() as sock:
                sock.bind(("0.0.0.0", port))
        except OSError:
            continue
        _taken.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")
