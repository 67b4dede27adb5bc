"""Kind-specific options on jobs.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobext_job") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))
