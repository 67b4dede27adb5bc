"""Run and schedule ids are never reused (SQLite AUTOINCREMENT).

Without it SQLite hands the id of a removed newest row to the next one, and a URL such as
``/runs/5`` would come to mean another run. PostgreSQL sequences never reuse ids already.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ("jobext_run", "jobext_schedule"):
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
