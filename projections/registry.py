"""Every projection and reactor Chronicle runs, by name.

The job dispatch queue (``job_dispatch``) stays in the ``jobs`` projection rather than becoming
a reactor: it commits with ``jobs_log`` in one transaction, so a leasable item never disagrees
with its job's status, and it holds lease state that worker requests write beside the events.
"""

from typing import Any

from adapters.cache import Cache
from adapters.cdn import CdnPurger
from adapters.search import SearchIndex
from eventstore.executor import CommandExecutor
from projections.reactors.cachepurge import TestCachePurge
from projections.reactors.runner import Reactor
from projections.reactors.searchindex import TestSearchIndexer
from projections.reactors.settlement import JobSettlement
from projections.readmodels.auditlog import AuditLogProjection
from projections.readmodels.creditledger import CreditLedgerProjection
from projections.readmodels.jobs import JobsProjection
from projections.readmodels.rules import RulesProjection
from projections.readmodels.testcatalog import TestCatalogProjection
from projections.readmodels.teststats import TestStatsProjection
from projections.readmodels.usersummary import UserSummaryProjection
from projections.runner import Projection
from projections.watcher import LogWatcher

PROJECTIONS = (
    UserSummaryProjection,
    CreditLedgerProjection,
    JobsProjection,
    RulesProjection,
    TestCatalogProjection,
    TestStatsProjection,
    AuditLogProjection,
)
REACTORS = (JobSettlement, TestSearchIndexer, TestCachePurge)


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
    cdn: CdnPurger | None = None,
    base_url: str = "",
) -> list[Reactor]:
    """One instance of each reactor; those that issue commands use ``executor``.

    ``cdn`` (none: no CDN is purged) drops the public URLs under ``base_url``.
    """
    return [
        JobSettlement(executor),
        TestSearchIndexer(event_store, search),
        TestCachePurge(cache, watcher, cdn=cdn, base_url=base_url),
    ]


def consumer_kinds() -> dict[str, str]:
    """The name of every projection and reactor, with its kind, whether it has run or not."""
    return {
        **{p.name: "projection" for p in PROJECTIONS},
        **{r.name: "reactor" for r in REACTORS},
    }
