"""Runs name the server that claimed them: ``jobext_run.server``.

A run's ``worker`` is where it executes (a server's local executor, or the Dask worker its relay
was granted on); ``server`` is the Jupyter server that claimed it and owns its process, running
it or relaying it. Runs in progress get their ``worker`` as ``server``: until now the two were
one.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ACTIVE = ("running", "pausing", "paused", "stopping")


def upgrade() -> None:
    with op.batch_alter_table("jobext_run") as batch:
        batch.add_column(sa.Column("server", sa.String(255), nullable=True))
    op.create_index("ix_jobext_run_server_status", "jobext_run", ["server", "status"])
    run = sa.table(
        "jobext_run",
        sa.column("server", sa.String),
        sa.column("worker", sa.String),
        sa.column("status", sa.String),
    )
    op.execute(run.update().where(run.c.status.in_(_ACTIVE)).values(server=run.c.worker))


def downgrade() -> None:
    op.drop_index("ix_jobext_run_server_status", table_name="jobext_run")
    with op.batch_alter_table("jobext_run") as batch:
        batch.drop_column("server")
