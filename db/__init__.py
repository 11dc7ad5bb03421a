"""Persistence: SQLAlchemy 2 typed models, the engine and session factory, alembic migrations."""
