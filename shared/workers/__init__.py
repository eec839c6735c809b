"""`one-api --workers N`: N processes of one node behind one listening port.

`supervisor` binds the sockets and keeps N worker processes running; `slot` is what a worker is
told by its supervisor (through the environment); `gate` is the ASGI layer every worker puts in
front of its node: trust between workers, `/metrics` and `/readyz` across workers, and, on a
master's relay workers, `forward` of everything but the relay to worker 0.
"""
