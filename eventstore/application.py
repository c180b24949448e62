"""The one eventsourcing Application that owns every aggregate, opened on PostgreSQL."""

from eventsourcing.application import Application
from psycopg.conninfo import conninfo_to_dict


class Chronicle(Application):
    """All of Chronicle's aggregates, stored in ``chronicle_events`` (the name is schema)."""

    name = "chronicle"
    is_snapshotting_enabled = True


def library_env(dsn: str, *, pool_size: int) -> dict[str, str]:
    """The eventsourcing environment for ``dsn``: PostgreSQL, no table creation."""
    params = conninfo_to_dict(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "eventstore.recorder:IdempotentRecorder",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "CREATE_TABLE": "n",
    }


def open_application(dsn: str, *, pool_size: int = 8) -> Chronicle:
    """The application on the database of ``dsn`` (migrations must have run)."""
    return Chronicle(env=library_env(dsn, pool_size=pool_size))
