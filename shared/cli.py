"""`one-api`: start a node. NODE_TYPE picks the role (master by default, `slave` for a relay)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from shared.logs import bind_process_fields
from shared.settings import VERSION, SettingsError, build_settings, load_dotenv

USAGE = "one-api [--port <port>] [--log-dir <log directory>] [--version] [--help]"
# Printed by --help under One API's usage line.
FLAGS = {
    "--port": ("<port>", "listening port (default 3000; env PORT wins)"),
    "--log-dir": ("<dir>", "log directory (default ./logs); empty disables file logs"),
    "--workers": ("<n>", "processes serving this node on one port (default 1; env WORKERS wins, as PORT does)"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="one-api", usage=USAGE, add_help=False)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--log-dir", default="./logs")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--help", action="store_true", help="print usage and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.help:
        print(USAGE)
        for flag, (value, meaning) in FLAGS.items():
            print(f"  {flag} {value}".ljust(22) + meaning)
        print("Settings come from the environment and a .env file in the working directory; see .env.example.")
        return 0
    if args.version:
        print(VERSION)
        return 0
    load_dotenv(Path.cwd() / ".env", os.environ)
    try:
        settings = build_settings(os.environ, port_flag=args.port, log_dir_flag=args.log_dir, workers_flag=args.workers)
    except SettingsError as exc:
        print(f"one-api: {exc}", file=sys.stderr)
        return 2
    if settings.worker is not None:
        bind_process_fields(worker=settings.worker.index)  # this process is one of N: say which
    elif settings.workers > 1:
        from shared.workers.supervisor import supervise

        return supervise(settings)
    # The role's package is loaded by name so that shared/ never imports master/ or slave/.
    node = importlib.import_module("master.node" if settings.is_master else "slave.node")
    return int(node.run(settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
