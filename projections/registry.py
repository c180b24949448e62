"""Every projection and reactor Chronicle runs, by name.

The job dispatch queue (``job_dispatch``) stays in the ``jobs`` projection rather than becoming
a reactor: it commits with ``jobs_log`` in one transaction, so a leasable item never disagrees
with its job's status, and it holds lease state that worker requests write beside the events.
"""

from collections.abc import Callable
from typing import Any

from adapters.assistant import Assistant
from adapters.cache import Cache
from adapters.cdn import CdnPurger
from adapters.embeddings import EmbedderSlot
from adapters.search import SearchIndex
from adapters.storage import ObjectStore
from domain.quotas import NO_QUOTAS, Quotas
from eventstore.executor import CommandExecutor
from projections.audit.projection import AuditLogProjection
from projections.chat.projection import ChatProjection
from projections.chatassistant.partials import Frame
from projections.chatassistant.reactor import IMAGE_MAX_BYTES, ChatAssistant
from projections.engine.reactors import Reactor
from projections.engine.rebuild import RebuildRefused
from projections.engine.runner import Projection
from projections.engine.status import consumer_status
from projections.engine.watcher import LogWatcher
from projections.jobs.projection import JobsProjection
from projections.jobs.settlement import JobSettlement
from projections.rules.projection import RulesProjection
from projections.testcatalog.projection import TestCatalogProjection
from projections.testcatalog.purge import TestCachePurge
from projections.testembeddings.reactor import TestEmbeddingIndexer
from projections.testembeddings.store import EmbeddingStore
from projections.testsearch.reactor import TestSearchIndexer
from projections.teststats.projection import TestStatsProjection
from projections.uploads.projection import UploadSessionsProjection
from projections.usercredits.ledger import CreditLedgerProjection
from projections.usercredits.summary import UserSummaryProjection

PROJECTIONS = (
    UserSummaryProjection,
    CreditLedgerProjection,
    JobsProjection,
    RulesProjection,
    TestCatalogProjection,
    TestStatsProjection,
    AuditLogProjection,
    ChatProjection,
    UploadSessionsProjection,
)
REACTORS = (JobSettlement, TestSearchIndexer, TestCachePurge, TestEmbeddingIndexer, ChatAssistant)


def all_projections() -> list[Projection]:
    """One instance of each read model, in the order they are started."""
    return [projection() for projection in PROJECTIONS]


def all_reactors(
    executor: CommandExecutor,
    *,
    event_store: Any,
    search: SearchIndex,
    cache: Cache,
    watcher: LogWatcher,
    embeddings: EmbeddingStore,
    embedder: EmbedderSlot,
    cdn: CdnPurger | None = None,
    base_url: str = "",
    assistant: Assistant | None = None,
    publish: Callable[[Frame], None] = lambda frame: None,
    quotas: Quotas = NO_QUOTAS,
    object_store: ObjectStore | None = None,
    image_max_bytes: int = IMAGE_MAX_BYTES,
) -> list[Reactor]:
    """One instance of each reactor; those that issue commands use ``executor``.

    ``cdn`` (none: no CDN is purged) drops the public URLs under ``base_url``; the embeddings
    reactor writes ``embeddings`` with ``embedder`` (one that cannot load: it handles nothing);
    the chat assistant answers with ``assistant`` (none: the rooms say there is none), within
    ``quotas``, sending its partial replies with ``publish`` and showing it the images
    attached to questions, read from ``object_store``, up to ``image_max_bytes``.
    """
    return [
        JobSettlement(executor),
        TestSearchIndexer(event_store, search, embedder),
        TestCachePurge(cache, watcher, cdn=cdn, base_url=base_url),
        TestEmbeddingIndexer(event_store, embeddings, embedder),
        ChatAssistant(
            executor,
            event_store,
            assistant,
            publish,
            quotas=quotas,
            object_store=object_store,
            image_max_bytes=image_max_bytes,
        ),
    ]


def consumer_kinds() -> dict[str, str]:
    """The name of every projection and reactor, with its kind, whether it has run or not."""
    return {
        **{p.name: "projection" for p in PROJECTIONS},
        **{r.name: "reactor" for r in REACTORS},
    }


def projection_named(name: str) -> Projection:
    """The read model called ``name``, or ``RebuildRefused`` saying why it cannot be rebuilt."""
    for projection in PROJECTIONS:
        if projection.name == name:
            return projection()
    if consumer_kinds().get(name) == "reactor":
        raise RebuildRefused(
            f"{name} is a reactor: rebuilding it would repeat its side effects; "
            "only projections (read models) are rebuilt"
        )
    names = ", ".join(p.name for p in PROJECTIONS)
    raise RebuildRefused(f"no projection is called {name!r}; the projections are {names}")


def projection_status(dsn: str) -> list[dict[str, Any]]:
    """Every projection and reactor with its position, lag, state and error (and rebuilds)."""
    return consumer_status(dsn, consumer_kinds())
