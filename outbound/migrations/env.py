"""Alembic environment for the outbound tables; the URL comes from :func:`outbound.store.upgrade`
(``config.attributes["url"]``), ``-x url=…``, ``sqlalchemy.url`` or ``VOICEBOT_DB_URL``."""

from __future__ import annotations

from alembic import context

from outbound.schema import Base
from outbound.store import make_engine, resolve_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or resolve_url(None)
    )


def run_offline() -> None:
    context.configure(url=resolve_url(_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
