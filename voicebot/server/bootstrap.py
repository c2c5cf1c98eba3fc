"""First start of a fresh installation: without any API token nobody could log in to the console, so one
admin token is made and written to a file only its owner can read (never to the log)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import func, select

from outbound import service, store
from outbound.schema import ApiToken

log = logging.getLogger(__name__)


def ensure_admin_token(db_url: str | None, token_file: Path) -> bool:
    """Create the first admin token when the database has no token at all; returns whether it did."""
    store.upgrade(db_url)
    engine = store.make_engine(db_url)
    try:
        with store.session_factory(engine).begin() as session:
            if session.scalar(select(func.count()).select_from(ApiToken)):
                return False
            token = service.create_token(session, "first-admin", "admin")
            token_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(token + "\n")
    finally:
        engine.dispose()
    log.warning(
        "first start: an admin token was written to %s (make staff tokens with it, then keep it safe)",
        token_file,
    )
    return True
