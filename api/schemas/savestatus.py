"""The save status of a test's change: each consumer it feeds, and what that makes it."""

from typing import Self
from uuid import UUID

from pydantic import BaseModel, Field

from projections.engine.progress import Progress

# What a change of a test feeds.
FEEDS = ["test_catalog", "test_search", "test_cache_purge", "test_embeddings"]
LIVE, SEARCHABLE, SIMILAR = (
    ("test_catalog", "test_cache_purge"),
    ("test_search",),
    ("test_embeddings",),
)


class ConsumerProgress(BaseModel):
    """Where one projection or reactor stands with respect to a change."""

    position: int = Field(description="The log position it has reached.")
    reached: bool = Field(description="Whether it reached the asked position.")
    parked: bool = Field(description="A reactor parked an event of this test at or before it.")
    failed: bool = Field(description="The projection stopped on a poison event.")
    error: str | None

    @classmethod
    def of(cls, progress: Progress) -> Self:
        return cls(
            position=progress.position,
            reached=progress.reached,
            parked=progress.parked,
            failed=progress.failed,
            error=progress.error,
        )


class ConsumerReached(ConsumerProgress):
    """One consumer of a change, as a live stream tells it once it got there (or stopped)."""

    name: str = Field(description="The projection or reactor, e.g. `test_search`.")


class SaveStatus(BaseModel):
    """Whether a change of a test is saved, live on the site, searchable, and similar-ready."""

    test_id: UUID
    position: int
    saved: bool = Field(description="Always true: the change is in the log.")
    live: bool = Field(
        description="The catalog and the cache purge reached it, nothing parked; "
        "never for a deleted test."
    )
    searchable: bool = Field(
        description="The search index reached it, nothing parked; never for a deleted test."
    )
    similar_ready: bool = Field(
        default=False,
        description="The embeddings reached it, nothing parked, and the test has a vector (it "
        "is published): its similar tests and meaning search reflect the change.",
    )
    consumers: dict[str, ConsumerProgress]

    @classmethod
    def of(
        cls,
        test_id: UUID,
        position: int,
        deleted: bool,
        found: dict[str, Progress],
        *,
        has_vector: bool = False,
    ) -> Self:
        """The status of the change at ``position`` from its consumers' progress.

        A deleted test is gone from the site: never live nor searchable, whatever the position;
        ``has_vector``: whether the test has a vector of the serving model.
        """
        return cls(
            test_id=test_id,
            position=position,
            saved=True,
            live=not deleted and all(found[name].done for name in LIVE),
            searchable=not deleted and all(found[name].done for name in SEARCHABLE),
            similar_ready=not deleted and has_vector and all(found[name].done for name in SIMILAR),
            consumers={name: ConsumerProgress.of(p) for name, p in found.items()},
        )
