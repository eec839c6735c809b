"""`python -m tests.fake_upstream --port N`: the fake on its own, controlled through /_fake/*.

POST /_fake/fail_next {"path", "kind", "count", "delay"?, "after"?}; POST /_fake/key {"key", "kind"|null};
POST /_fake/configure {canned fields}; POST /_fake/reset; GET /_fake/requests.
"""

from __future__ import annotations

import argparse

import uvicorn

from tests.fake_upstream.app import create_app, install_log_filter
from tests.fake_upstream.state import FakeState


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    install_log_filter()
    uvicorn.run(
        create_app(FakeState()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
