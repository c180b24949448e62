"""What ``RedisCache`` does when Redis cannot answer: reads miss, puts skip, purges raise."""

from __future__ import annotations

import logging

import pytest
import redis as redis_client
from redis.exceptions import RedisError

from adapters.cache import Cached, RedisCache
from domain.errors import Unavailable
from tests.conftest import wait_until
from tests.integration.test_cache_contract import REDIS_URL, _redis_unreachable

# Nothing listens on port 1: the connection is refused at once.
NOWHERE = "redis://127.0.0.1:1/0"


@pytest.fixture
def down() -> RedisCache:
    return RedisCache(NOWHERE, timeout_seconds=0.2)


def test_a_read_during_an_outage_is_a_miss(down):
    assert down.get("tests/t1") is None


def test_a_put_during_an_outage_stores_nothing_and_says_so(down):
    assert down.put("tests/t1", b"v1", 1, ttl_seconds=60) is False


def test_an_invalidation_during_an_outage_raises_unavailable_from_the_client_error(down):
    with pytest.raises(Unavailable, match="could not invalidate") as raised:
        down.invalidate(["tests/t1"], 2)

    assert isinstance(raised.value.__cause__, RedisError)
    assert "127.0.0.1:1" in raised.value.message


def test_clear_during_an_outage_raises_unavailable(down):
    with pytest.raises(Unavailable, match="could not clear"):
        down.clear()


def test_an_outage_is_logged_once_not_per_request(down, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.cache.redis")

    for _ in range(5):
        down.get("tests/t1")
        down.put("tests/t1", b"v1", 1, ttl_seconds=60)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()


def test_the_cache_serves_again_once_redis_answers_again(caplog):
    reason = _redis_unreachable()
    if reason:
        pytest.skip(reason)
    caplog.set_level(logging.INFO, logger="adapters.cache.redis")
    cache = RedisCache(
        REDIS_URL,
        prefix="chronicle-test:outage:",
        timeout_seconds=0.05,
        outage_backoff_seconds=0.01,
    )
    try:
        with redis_client.Redis.from_url(REDIS_URL) as admin:
            admin.execute_command("CLIENT", "PAUSE", 300, "ALL")  # Redis stops answering a while

        assert cache.put("tests/t1", b"v1", 1, ttl_seconds=60) is False
        wait_until(
            lambda: cache.put("tests/t1", b"v1", 1, ttl_seconds=60), timeout=10, what="recovery"
        )
        assert cache.get("tests/t1") == Cached(b"v1", 1)
        messages = [record.getMessage() for record in caplog.records]
        assert any("unavailable" in message for message in messages)
        assert any("answers again" in message for message in messages)
    finally:
        cache.clear()
        cache.close()
