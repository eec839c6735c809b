"""Database failures in management handlers answer the way One API shows gorm's errors:
HTTP 200, success false, the driver's own message (never a 500)."""

from __future__ import annotations

import functools

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import Handler, fail
from shared.logs import get_logger

log = get_logger(__name__)


def db_error_text(exc: Exception) -> str:
    """The driver's message without SQLAlchemy's SQL dump, like gorm's `err.Error()`."""
    return str(getattr(exc, "orig", None) or exc)


def answer_db_errors(handler: Handler) -> Handler:
    """Turn a failed query (bad value for the column, NUL byte on PostgreSQL, database down)
    into a business error; the transaction has already been rolled back."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except SQLAlchemyError as exc:
            log.warning("database error in handler", handler=handler.__name__, error=db_error_text(exc))
            return fail(db_error_text(exc))

    return guarded
