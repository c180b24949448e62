"""The composition root: builds every collaborator from settings, and closes them in order."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from psycopg_pool import ConnectionPool

from adapters.assistant import Assistant
from adapters.cache import Cache, RedisCache
from adapters.embeddings import EmbedderSlot
from adapters.search import SearchIndex
from adapters.storage import ObjectStore
from api.adapterchoice import (
    build_assistant,
    build_cache,
    build_object_store,
    cdn_purger,
    embedder_slot,
    ensure_search,
    search_index,
)
from api.auth import TokenIssuer, load_secret
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.services import Services
from api.settings import Settings
from api.streams import Streams
from domain.presets import Presets
from eventstore.application import open_application
from eventstore.connections import (
    REFUSALS,
    ConnectionPlan,
    check_fits,
    embedded_max_connections,
    server_capacity,
)
from eventstore.database import Database, read_pool
from eventstore.executor import CommandExecutor
from eventstore.migrate import migrate
from projections.audit.live import LiveTail
from projections.chatassistant import partials
from projections.deadlines.scheduler import DeadlineScheduler
from projections.engine.reactors import ReactorRunner
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher, ReplicaWatcher
from projections.registry import PROJECTIONS, REACTORS, all_projections, all_reactors
from projections.testembeddings.search import TestMeaning
from projections.testembeddings.store import EmbeddingStore

log = logging.getLogger(__name__)


@contextmanager
def database(
    settings: Settings,
    *,
    apply_migrations: bool | None = None,
    plan: ConnectionPlan | None = None,
) -> Iterator[str]:
    """The DSN of Chronicle's database; the embedded server is migrated unless told not to.

    Given the ``plan`` of what will run on it, the embedded server is started to hold it, and
    a server that cannot is refused (``ConnectionBudgetExceeded``) before anything opens.
    """
    size = embedded_max_connections(plan) if plan else None
    with Database(settings.database_url, settings.data_dir, max_connections=size) as db:
        if plan is not None:
            check_fits(plan, server_capacity(db.dsn))
        if apply_migrations if apply_migrations is not None else db.embedded:
            migrate(db.dsn)
        yield db.dsn


def connection_plan(
    settings: Settings, *, workers: int = 1, run_projections: bool = False
) -> ConnectionPlan:
    """The most connections ``workers`` API processes (and the consumers, once) can hold."""
    reactors = len(REACTORS) if run_projections else 0
    consumers = len(PROJECTIONS) + reactors if run_projections else 0
    return ConnectionPlan(settings.threads, workers, consumers, reactors)


@contextmanager
def services(
    settings: Settings,
    dsn: str,
    *,
    run_projections: bool = False,
    object_store: ObjectStore | None = None,
    search: SearchIndex | None = None,
    cache: Cache | None = None,
    embedder: EmbedderSlot | None = None,
    serve_requests: bool = True,
) -> Iterator[Services]:
    """Everything built on the database of ``dsn``; projectors run here if asked.

    Pools grow to what the threads of this process can hold at once: its request threads
    unless it only runs the projectors (``serve_requests=False``), its consumers if it runs
    them. A collaborator given (a test's fake, a store that records what it is asked) is used
    as it is; the others are built from ``settings``.
    """
    plan = connection_plan(settings, run_projections=run_projections)
    uses = {"serves_requests": serve_requests, "runs_consumers": run_projections}
    wait = settings.database_wait_seconds
    with ExitStack() as stack:
        event_store = open_application(dsn, pool_size=plan.store_pool(**uses), wait_seconds=wait)
        stack.callback(event_store.close)
        metrics = Metrics()
        executor = CommandExecutor(
            event_store,
            max_attempts=settings.command_max_attempts,
            timeout=settings.command_timeout_seconds,
            observer=metrics,
        )
        stack.callback(executor.close)
        primary = read_pool(dsn, size=plan.read_pool(**uses), wait_seconds=wait)
        stack.callback(primary.close)
        watcher = LogWatcher(dsn, pool=primary, wait_seconds=wait).start()
        stack.callback(watcher.stop)
        reads, read_watcher = primary, watcher
        if settings.read_database_url:
            reads, read_watcher = stack.enter_context(replica(settings))
        built = Services(
            settings=settings,
            dsn=dsn,
            event_store=event_store,
            executor=executor,
            watcher=read_watcher,
            tokens=TokenIssuer(load_secret(settings), settings),
            reads=reads,
            object_store=object_store or build_object_store(settings, load_secret(settings)),
            presets=Presets.load(settings.presets_file),
            quotas=settings.quotas,
            search=search or search_index(settings, primary),  # its reactor writes through it
            meaning=TestMeaning(reads, embedder or embedder_slot(settings)),
            cache=cache or build_cache(settings, purged_here=run_projections),
            primary=primary,
            primary_watcher=watcher,
            metrics=metrics,
            limiter=RateLimiter(
                settings.rate_limits,
                redis_url=settings.redis_url,
                prefix=settings.redis_prefix,
                trusted_proxies=settings.trusted_proxies,
            ),
        )
        if serve_requests:
            built.streams = live_streams(settings, primary, watcher)
            stack.callback(built.streams.tail.stop)
        metrics.watch_log(primary)  # the consumers' lag where they run
        metrics.watch_refusals(REFUSALS)
        if isinstance(built.cache, RedisCache):
            stack.callback(built.cache.close)
        ensure_search(built.search)
        log.info("%s", built.meaning.describe())
        if run_projections:
            begin_embeddings(built)
            built.runner = projection_runner(built).start()
            stack.callback(built.runner.stop)
            assistant = build_assistant(built.settings)
            if assistant is not None:
                stack.callback(assistant.close)
            built.reactors = reactor_runner(built, assistant).start()
            stack.callback(built.reactors.stop)
            stack.callback(deadline_scheduler(built).start().stop)
        yield built


def live_streams(settings: Settings, primary: ConnectionPool[Any], watcher: LogWatcher) -> Streams:
    """The live streams of one API process: one tail of the log on the primary, for all, and
    the assistant's partial replies on the same LISTEN connection."""
    streams = Streams(
        LiveTail(primary, watcher, keep=settings.live_tail_size),
        heartbeat_seconds=settings.live_heartbeat_seconds,
        queue_size=settings.live_queue_size,
    )
    watcher.on_channel(partials.CHANNEL, streams.partials.deliver)
    return streams


@contextmanager
def replica(settings: Settings) -> Iterator[tuple[ConnectionPool[Any], LogWatcher]]:
    """The query pool on the read replica, and the watcher of its replayed positions."""
    with Database(settings.read_database_url, settings.data_dir) as db, ExitStack() as stack:
        wait = settings.database_wait_seconds
        # Request threads, and the watcher that polls the replica's positions while one waits.
        size = settings.threads + 1
        reads = stack.enter_context(read_pool(db.dsn, size=size, wait_seconds=wait))
        watcher = ReplicaWatcher(db.dsn, pool=reads, wait_seconds=wait).start()
        stack.callback(watcher.stop)
        yield reads, watcher


def projection_runner(built: Services) -> ProjectionRunner:
    """The runner of every read-model projection (exactly once)."""
    runner = ProjectionRunner(
        built.dsn,
        built.event_store,
        all_projections(),
        built.primary_watcher,
        batch_size=built.settings.projector_batch_size,
        poll_seconds=built.settings.projector_poll_seconds,
    )
    runner.step_observer = built.metrics.step_completed
    return runner


def begin_embeddings(built: Services) -> None:
    """Record the configured model; a new one re-embeds every test (``EmbeddingStore.begin``)."""
    slot = built.meaning.embedder
    if slot.configured:
        EmbeddingStore(built.primary).begin(slot.model, slot.dimension)


def reactor_runner(built: Services, assistant: Assistant | None = None) -> ReactorRunner:
    """The runner of every reactor (at least once, retries, dead letters); without an
    ``assistant`` the rooms say there is none."""
    settings = built.settings
    runner = ReactorRunner(
        built.dsn,
        built.event_store,
        all_reactors(
            built.executor,
            event_store=built.event_store,
            search=built.search,
            cache=built.cache,
            watcher=built.primary_watcher,
            embeddings=EmbeddingStore(built.primary),
            embedder=built.meaning.embedder,
            cdn=cdn_purger(settings),
            base_url=settings.public_base_url,
            assistant=assistant,
            publish=functools.partial(partials.publish, built.primary),
            quotas=built.quotas,
            object_store=built.object_store,
            image_max_bytes=settings.assistant_image_max_bytes,
        ),
        built.primary_watcher,
        batch_size=settings.reactor_batch_size,
        poll_seconds=settings.projector_poll_seconds,
        max_attempts=settings.reactor_max_attempts,
        retry_seconds=settings.reactor_retry_seconds,
        retry_max_seconds=settings.reactor_retry_max_seconds,
    )
    runner.step_observer = built.metrics.step_completed
    return runner


def deadline_scheduler(built: Services) -> DeadlineScheduler:
    """The loop that fires job deadlines, exhausted leases and upload sessions' deadlines."""
    settings = built.settings
    return DeadlineScheduler(
        built.primary,
        built.executor,
        upload_timeout=settings.job_upload_timeout_seconds,
        stall_timeout=settings.job_stall_timeout_seconds,
        queue_timeout=settings.job_queue_timeout_seconds,
        lease_max_attempts=settings.lease_max_attempts,
        storage=built.object_store,
        poll_seconds=settings.deadline_poll_seconds,
    )
