"""Storage: SQLAlchemy 2 on SQLite (embedded) or PostgreSQL (production), Alembic migrations."""
