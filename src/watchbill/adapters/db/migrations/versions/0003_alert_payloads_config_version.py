"""alert payloads apart from alerts; a version number for intake's configuration

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYLOAD_COLUMNS = ("labels", "details", "links", "raw")
# What intake decides by; a change to any of them bumps config_version.version.
WATCHED = {
    "services": None,
    "integrations": ("service_id", "name", "type", "key"),
    "routing_rules": None,
    "silences": None,
    "maintenance_windows": None,
}
BUMP = (
    "INSERT INTO config_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = config_version.version + 1"
)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alert_payloads",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        *(sa.Column(name, _json(), nullable=False) for name in PAYLOAD_COLUMNS),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_payloads_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_payloads")),
    )
    op.execute(
        "INSERT INTO alert_payloads (alert_id, labels, details, links, raw) "
        "SELECT id, labels, details, links, raw FROM alerts"
    )
    for name in PAYLOAD_COLUMNS:
        # SQLite 3.35+ drops unindexed columns in place; no table rebuild is needed.
        op.execute(f"ALTER TABLE alerts DROP COLUMN {name}")
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.execute("INSERT INTO config_version (id, version) VALUES (1, 1)")
    if op.get_context().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    op.execute(
        "CREATE FUNCTION bump_config_version() RETURNS trigger AS $$ BEGIN "
        f"{BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
    )
    for table, columns in WATCHED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        op.execute(
            f"CREATE TRIGGER {table}_bump_config_version "
            f"AFTER INSERT OR {update} OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version()"
        )


def _sqlite_triggers() -> None:
    for table, columns in WATCHED.items():
        for verb in ("INSERT", "UPDATE", "DELETE"):
            event = f"UPDATE OF {', '.join(columns)}" if verb == "UPDATE" and columns else verb
            op.execute(
                f"CREATE TRIGGER {table}_{verb.lower()}_bump_config_version "
                f"AFTER {event} ON {table} BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_config_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_config_version()")
    else:
        for table in WATCHED:
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{verb}_bump_config_version")
    op.drop_table("config_version")
    for name in PAYLOAD_COLUMNS:
        op.add_column("alerts", sa.Column(name, _json(), nullable=True))
    for name in PAYLOAD_COLUMNS:
        op.execute(
            f"UPDATE alerts SET {name} = (SELECT p.{name} FROM alert_payloads p "
            "WHERE p.alert_id = alerts.id)"
        )
    op.drop_table("alert_payloads")
