"""security: tokens owned by users, the audit log as a sealed chain, sign-in failures

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:00:00

Tokens. Until now a token carried only a role. Each one now belongs to a user or is a
service account's: tokens made on the pages belonged to the user who made them
(`created_by` user:NAME), tokens made by a token to that token's owner, tokens made on
the server's command line (cli:…) become service-account tokens, and any other token
(its maker deleted) is revoked, with an audit entry saying so.

Audit log. Entries gain `hash` and `key_id`, and the existing ones are sealed into the
chain in id order with the server key that `watchbill db upgrade` is given (see
`audit/chain.py`). New triggers refuse TRUNCATE (PostgreSQL) and any insert that is not
the next entry: the last id + 1, dated no earlier than the last entry (which is what
stops `REPLACE INTO` on SQLite and back-dated inserts).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

import watchbill.adapters.db.base
from watchbill.adapters.clock import system_clock
from watchbill.audit.chain import GENESIS, UNKEYED, Entry, derive_key, seal

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "audit_events is append-only: an entry must follow the last one, no earlier than it"
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

audit = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("at", watchbill.adapters.db.base.UTCDateTime()),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("before", JSON),
    sa.column("after", JSON),
    sa.column("source_ip", sa.String),
    sa.column("hash", sa.String),
    sa.column("key_id", sa.String),
)
tokens = sa.table(
    "api_tokens",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("role", sa.String),
    sa.column("created_by", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("revoked_at", watchbill.adapters.db.base.UTCDateTime()),
)
users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_account"), ["account"])
        batch_op.create_index(batch_op.f("ix_sign_in_failures_address"), ["address"])
        batch_op.create_index(batch_op.f("ix_sign_in_failures_at"), ["at"])

    _drop_old_triggers()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash", sa.String(64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("key_id", sa.String(16), nullable=False, server_default=""))
    _assign_token_owners()
    _seal_existing_entries()
    _create_triggers()


def _assign_token_owners() -> None:
    """In id order, so a token's maker has its owner before the token does."""
    conn = op.get_bind()
    user_ids = {name: id_ for name, id_ in conn.execute(sa.select(users.c.name, users.c.id))}
    owner: dict[str, int | None] = {}  # token name -> user id; None: a service account
    orphans = []
    for token in conn.execute(sa.select(tokens).order_by(tokens.c.id)).mappings():
        kind, _, who = token["created_by"].partition(":")
        if token["user_id"] is not None:
            owner[token["name"]] = token["user_id"]
        elif kind == "user" and who in user_ids:
            owner[token["name"]] = user_ids[who]
        elif kind == "token" and who in owner:
            owner[token["name"]] = owner[who]
        elif kind == "cli":
            owner[token["name"]] = None
        else:
            orphans.append(token)
            continue
        if owner[token["name"]] != token["user_id"]:
            conn.execute(
                tokens.update()
                .where(tokens.c.id == token["id"])
                .values(user_id=owner[token["name"]])
            )
    now = system_clock.now()
    last = conn.execute(sa.select(sa.func.max(audit.c.id))).scalar() or 0
    for offset, token in enumerate(orphans, start=1):
        if token["revoked_at"] is None:
            conn.execute(tokens.update().where(tokens.c.id == token["id"]).values(revoked_at=now))
        conn.execute(
            audit.insert().values(
                id=last + offset,
                at=now,
                actor="system:migration",
                action="token.revoke",
                object_type="ApiToken",
                object_id=token["name"],
                before=None,
                after={"reason": f"its maker {token['created_by']!r} no longer exists"},
                source_ip="",
            )
        )


def _seal_existing_entries() -> None:
    server_key = context.config.attributes.get("audit_key")
    key = derive_key(server_key) if server_key else UNKEYED
    conn = op.get_bind()
    previous = GENESIS
    rows = conn.execute(sa.select(audit).order_by(audit.c.id)).mappings().all()
    for row in rows:
        entry = Entry(
            id=row["id"],
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            before=row["before"],
            after=row["after"],
            source_ip=row["source_ip"],
            key_id=key.id,
        )
        previous = seal(key, previous, entry)
        conn.execute(
            audit.update().where(audit.c.id == row["id"]).values(hash=previous, key_id=key.id)
        )


def _drop_old_triggers() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def _refuse_changes() -> None:
    """The triggers of 0001: no UPDATE, no DELETE."""
    if _postgres():
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def _create_triggers() -> None:
    _refuse_changes()
    if _postgres():
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE FUNCTION audit_events_in_order() RETURNS trigger AS $$ "
            "DECLARE last_id integer; last_at timestamptz; BEGIN "
            "SELECT id, at INTO last_id, last_at FROM audit_events ORDER BY id DESC LIMIT 1; "
            "IF NEW.id <> COALESCE(last_id, 0) + 1 OR NEW.at < last_at "
            "OR length(NEW.hash) <> 64 THEN "
            f"RAISE EXCEPTION '{REFUSAL}'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_events_in_order BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_in_order()"
        )
        return
    # In a BEFORE INSERT trigger an id SQLite is about to choose reads as -1: refused too.
    op.execute(
        "CREATE TRIGGER audit_events_in_order BEFORE INSERT ON audit_events WHEN "
        "NEW.id <> COALESCE((SELECT max(id) FROM audit_events), 0) + 1 "
        "OR NEW.at < (SELECT at FROM audit_events ORDER BY id DESC LIMIT 1) "
        "OR length(NEW.hash) <> 64 "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS audit_events_in_order ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_in_order()")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_in_order")
    _drop_old_triggers()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
        batch_op.drop_column("hash")
    _refuse_changes()
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_at"))
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_address"))
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_account"))
    op.drop_table("sign_in_failures")
