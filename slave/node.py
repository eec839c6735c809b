"""Slave node entry point. The relay fleet comes with the cluster issue; until then say so."""

from __future__ import annotations

import sys

from shared.settings import Settings


def run(settings: Settings) -> int:
    print(
        "one-api: NODE_TYPE=slave is not available yet in this version; "
        "run a master (unset NODE_TYPE) until the cluster release.",
        file=sys.stderr,
    )
    return 2
