"""The migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from watchbill.app.assembly import metadata, migrations


def _ours(diff: object) -> bool:
    """Tables that other tests create for themselves (e.g. job_effects) are not ours."""
    return not (isinstance(diff, tuple) and diff[0] == "remove_table")


def test_models_and_migrations_agree(db):
    assert migrations().current(db.engine) == migrations().heads()
    with db.engine.connect() as conn:
        diffs = [
            d for d in compare_metadata(MigrationContext.configure(conn), metadata()) if _ours(d)
        ]
    assert diffs == [], f"a model changed without a migration: {diffs}"
