"""`one-api`: start a node. NODE_TYPE picks the role (master by default, `slave` for a relay)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from shared.settings import VERSION, SettingsError, build_settings, load_dotenv

USAGE = "one-api [--port <port>] [--log-dir <log directory>] [--version] [--help]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="one-api", usage=USAGE, add_help=False)
    parser.add_argument("--port", type=int, default=3000, help="listening port (env PORT wins)")
    parser.add_argument("--log-dir", default="./logs", help="log directory; empty disables file logs")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--help", action="store_true", help="print usage and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.help:
        print(USAGE)
        print("Settings come from the environment and a .env file in the working directory; see .env.example.")
        return 0
    if args.version:
        print(VERSION)
        return 0
    load_dotenv(Path.cwd() / ".env", os.environ)
    try:
        settings = build_settings(os.environ, port_flag=args.port, log_dir_flag=args.log_dir)
    except SettingsError as exc:
        print(f"one-api: {exc}", file=sys.stderr)
        return 2
    # The role's package is loaded by name so that shared/ never imports master/ or slave/.
    node = importlib.import_module("master.node" if settings.is_master else "slave.node")
    return int(node.run(settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
