"""Apps: jobs deployed from code. A job and a schedule name the app that made them.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobext_app",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("module", sa.String(1024), nullable=True),
        sa.Column("path", sa.String(4096), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_by", sa.String(255), nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("jobext_job") as batch:
        batch.add_column(sa.Column("app", sa.String(128), nullable=True))
        batch.create_index("ix_jobext_job_app", ["app"])
    with op.batch_alter_table("jobext_schedule") as batch:
        batch.add_column(sa.Column("app", sa.String(128), nullable=True))
