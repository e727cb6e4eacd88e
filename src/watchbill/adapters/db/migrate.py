"""Run Alembic programmatically, so `watchbill db upgrade` needs no alembic.ini.

The schema's revisions live in several folders: the foundation's here, and one
branch per slice that brings tables of its own (its `migrations/` folder, its first
revision naming the foundation revision it builds on in `depends_on`). Alembic
upgrades every branch to its head; the database is migrated when its heads are the
code's heads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

FOUNDATION = Path(__file__).parent / "migrations"


class Migrations:
    """The revision folders of one application: the foundation's and its slices'."""

    def __init__(self, slice_folders: Iterable[Path] = (), metadata: MetaData | None = None):
        self.folders = [FOUNDATION / "versions", *slice_folders]
        self.metadata = metadata
        self._heads: str | None = None

    def config(self, url: str) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(FOUNDATION))
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", os.pathsep.join(str(f) for f in self.folders))
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        cfg.attributes["target_metadata"] = self.metadata
        return cfg

    def upgrade(self, url: str, revision: str = "heads", *, audit_key: bytes | None = None) -> None:
        """Migrate to `revision`; `audit_key` (the server key) seals existing audit entries
        when the chain is introduced (migration 0008)."""
        cfg = self.config(url)
        cfg.attributes["audit_key"] = audit_key
        command.upgrade(cfg, revision)

    def heads(self) -> str:
        """The code's head revisions, sorted and joined by commas; read once per instance:
        reading the scripts takes milliseconds, and a release installed over a running
        process must not change what the process reports about itself."""
        if self._heads is None:
            script = ScriptDirectory.from_config(self.config("sqlite://"))
            self._heads = ",".join(sorted(script.get_heads()))
        return self._heads

    def current(self, engine: Engine) -> str:
        """The database's head revisions, in the same form ('' when empty)."""
        with engine.connect() as conn:
            return ",".join(sorted(MigrationContext.configure(conn).get_current_heads()))

    def is_migrated(self, engine: Engine) -> bool:
        """True when the database is at the code's heads: what /readyz checks."""
        return self.current(engine) == self.heads()
