"""The first schema: jobs, runs, run events and servers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobext_job",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("connection", sa.String(128), nullable=True),
        sa.Column("kernel", sa.String(128), nullable=True),
        sa.Column("default_args", sa.JSON(), nullable=True),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("queue_when_busy", sa.Boolean(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_backoff_s", sa.Float(), nullable=False),
        sa.Column("restartable", sa.Boolean(), nullable=False),
        sa.Column("keep_runs", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "jobext_run",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("job", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("args", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("user", sa.String(255), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("records_written", sa.Integer(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("restarted_from", sa.Integer(), nullable=True),
        sa.Column("restarted_as", sa.Integer(), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("result_file", sa.Text(), nullable=True),
        sa.Column("result_size", sa.Integer(), nullable=True),
        sa.Column("result_media_type", sa.String(128), nullable=True),
    )
    op.create_index("ix_jobext_run_uuid", "jobext_run", ["uuid"], unique=True)
    op.create_index("ix_jobext_run_job_status_id", "jobext_run", ["job", "status", "id"])
    op.create_index("ix_jobext_run_status_id", "jobext_run", ["status", "id"])
    op.create_index("ix_jobext_run_created_at", "jobext_run", ["created_at"])
    op.create_index("ix_jobext_run_worker_status", "jobext_run", ["worker", "status"])
    op.create_index("ix_jobext_run_schedule_id", "jobext_run", ["schedule_id"])
    op.create_index("ix_jobext_run_batch_id", "jobext_run", ["batch_id"])
    op.create_table(
        "jobext_run_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("stream", sa.String(16), nullable=True),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.UniqueConstraint("run_id", "seq", name="uq_jobext_run_event_run_seq"),
    )
    op.create_table(
        "jobext_server",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_workers", sa.Integer(), nullable=False),
    )
