"""What one API process is built of: the type routes and dependencies name, never build.

``api.bootstrap`` builds it from settings (only the app factory and the CLI call it); a route
takes the one collaborator it uses through an ``api.deps`` alias, never the whole of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psycopg_pool import ConnectionPool

from adapters.cache import Cache
from adapters.search import SearchIndex
from adapters.storage import ObjectStore
from api.auth import TokenIssuer
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.settings import Settings
from domain.presets import Presets
from domain.quotas import Quotas
from eventstore.executor import CommandExecutor
from projections.engine.reactors import ReactorRunner
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.testembeddings.search import TestMeaning

if TYPE_CHECKING:  # streams name the reads, which name these services
    from api.streams import Streams


@dataclass
class Services:
    """What routes and commands need, built once per process."""

    settings: Settings
    dsn: str
    event_store: Any
    executor: CommandExecutor
    watcher: LogWatcher
    tokens: TokenIssuer
    reads: ConnectionPool
    object_store: ObjectStore
    presets: Presets
    quotas: Quotas
    search: SearchIndex
    meaning: TestMeaning  # meaning search and similar tests (test_embeddings)
    cache: Cache
    # The primary itself: for writes outside the executor (leases, retries of dead letters),
    # reads of what they just wrote, and the log's head. Both are ``reads`` and ``watcher``
    # unless queries read a replica (``read_database_url``).
    primary: ConnectionPool
    primary_watcher: LogWatcher
    runner: ProjectionRunner | None = None
    reactors: ReactorRunner | None = None
    metrics: Metrics = field(default_factory=Metrics)
    limiter: RateLimiter | None = None  # none: no request is rate limited
    streams: Streams | None = None  # live streams: none in a process that serves no requests
