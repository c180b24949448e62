"""Which cache a process gets: Redis when configured, else in-process only where purges run."""

from __future__ import annotations

from pathlib import Path

from adapters.cache import InMemoryCache, NoCache
from api.adapterchoice import build_cache
from api.settings import Settings


def test_an_api_process_without_reactors_or_redis_caches_nothing(tmp_path: Path) -> None:
    chosen = build_cache(Settings(data_dir=tmp_path), purged_here=False)

    assert isinstance(chosen, NoCache)
    assert chosen.put("tests:detail:x", b"{}", 1, 60) is False
    assert chosen.get("tests:detail:x") is None


def test_a_process_that_runs_the_purge_caches_in_process(tmp_path: Path) -> None:
    chosen = build_cache(Settings(data_dir=tmp_path), purged_here=True)

    assert isinstance(chosen, InMemoryCache)
    assert chosen.put("tests:detail:x", b"{}", 1, 60) is True
