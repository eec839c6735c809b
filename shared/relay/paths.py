"""Which request paths belong to the relay: /v1/* and the OpenAI billing routes /dashboard/billing/*.
The "/v1" prefix also covers Gemini's native /v1beta/* (shared.relay.inbound.gemini); the Ingress
matches whole path segments, so it lists /v1beta on its own.

`/dashboard` itself is a console page (a bookmark or a reload must reach the console), so nothing may
route by the "/dashboard" prefix alone. The load-balancer splits in deploy/ follow the same rule.
"""

from __future__ import annotations

RELAY_PREFIXES = ("/v1", "/dashboard/billing/")


def is_relay_path(path: str) -> bool:
    """True for paths the relay answers; everything else is /api, a page, or a node endpoint."""
    return path.startswith(RELAY_PREFIXES)
