"""Alembic migration environment for the outbound tables; run with :func:`outbound.store.upgrade`."""
