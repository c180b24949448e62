"""Apply the alembic migrations, which own every table."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(dsn: str, revision: str = "head") -> None:
    """Upgrade the database of ``dsn`` to ``revision``."""
    command.upgrade(_config(dsn), revision)


def downgrade(dsn: str, revision: str = "base") -> None:
    """Downgrade the database of ``dsn`` to ``revision``."""
    command.downgrade(_config(dsn), revision)


def _config(dsn: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["dsn"] = dsn
    return config
