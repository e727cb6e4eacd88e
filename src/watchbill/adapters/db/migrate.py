"""Run Alembic programmatically, so `watchbill db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", *, audit_key: bytes | None = None) -> None:
    """Migrate to `revision`; `audit_key` (the server key) seals existing audit entries
    when the chain is introduced (migration 0007)."""
    cfg = alembic_config(url)
    cfg.attributes["audit_key"] = audit_key
    command.upgrade(cfg, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_migrated(engine: Engine) -> bool:
    """True when the database is at the code's head revision: what /readyz checks."""
    return current_revision(engine) == head_revision()
