"""Master node entry point: logging, the app, and the HTTP server chosen by HTTP_SERVER."""

from __future__ import annotations

from shared import memory
from shared.logs import get_logger, setup_logging
from shared.server import serve
from shared.settings import Settings


def run(settings: Settings) -> int:
    setup_logging(settings.log_dir, settings.only_one_log_file, settings.debug)
    memory.tune()
    # Alembic would stay in this process's heap (~14 MB): a child migrates, the app finds the head.
    from master.db.migrate import upgrade_in_child

    upgrade_in_child(settings)
    from master.app import create_app

    get_logger(__name__).info("starting master", port=settings.port, server=settings.http_server)
    return serve(create_app(settings), settings)
