"""Alembic migrations of the memory schema (run automatically when a store opens)."""
