"""Alembic environment: plain SQL migrations, run on the URL given by `chronicle migrate`."""

import os

from alembic import context
from sqlalchemy import create_engine

from eventstore.database import sqlalchemy_url

config = context.config


def _url() -> str:
    dsn = config.attributes.get("dsn")
    if dsn:
        return sqlalchemy_url(dsn)
    url = os.environ.get("CHRONICLE_DATABASE_URL")
    if not url:
        raise SystemExit(
            "No database: set CHRONICLE_DATABASE_URL, or run `chronicle migrate`, "
            "which also knows the embedded server."
        )
    return sqlalchemy_url(url)


def run_migrations() -> None:
    engine = create_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run against a database.")
run_migrations()
