"""Alembic migrations for both engines; `runner.upgrade` / `runner.downgrade` drive them."""
