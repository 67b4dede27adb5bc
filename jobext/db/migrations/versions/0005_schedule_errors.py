"""Schedules that cannot be computed are set aside with their error.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobext_schedule") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
