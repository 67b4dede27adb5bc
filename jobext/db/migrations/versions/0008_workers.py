"""Workers: ``jobext_worker`` (UUID ids, kind, name, host, drain state, host stats) replaces
``jobext_server``.

Runs keep the ``worker`` they have: a run in progress whose worker is no longer known is
settled by the first server that starts, as any run of a server that is gone.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobext_worker",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("draining", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("os_name", sa.String(64), nullable=False),
        sa.Column("os_version", sa.String(255), nullable=False),
        sa.Column("cpu_arch", sa.String(32), nullable=False),
        sa.Column("cpu_cores", sa.Integer(), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=True),
    )
    op.drop_table("jobext_server")
