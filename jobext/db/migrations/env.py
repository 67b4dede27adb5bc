"""Alembic environment: always given a live connection by ``jobext.migrations.upgrade``."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table=context.config.get_main_option("version_table") or "jobext_schema_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
