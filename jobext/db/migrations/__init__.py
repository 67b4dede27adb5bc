"""Schema migrations, run with Alembic at startup.

Every schema change ships as a new revision in ``versions/`` that upgrades a database written by
any earlier jobext; revisions are never edited once released. Servers sharing a database may
start at the same moment, so the upgrade runs under a database-wide lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

HERE = Path(__file__).parent
#: An arbitrary constant: the PostgreSQL advisory lock key that serialises migrations.
_PG_LOCK_KEY = 0x6A6F6265


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_table", "jobext_schema_version")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema of ``engine``'s database to ``revision``."""
    config = alembic_config()
    write_engine = engine.execution_options(jobext_write=True)
    with write_engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
