"""An idle live stream sends comments (heartbeats), so that proxies keep it open."""

import pytest

from tests.e2e.sse import messages


@pytest.fixture
def quick_heartbeats(settings):
    settings.live_heartbeat_seconds = 0.2


def test_an_idle_stream_sends_a_comment_every_heartbeat(quick_heartbeats, http, admin):
    params = {"aggregate_type": "NothingEverHappensHere"}
    with http.stream("GET", "/api/admin/events/stream", headers=admin, params=params) as stream:
        lines = stream.iter_lines()
        first, second = next(messages(lines)), next(messages(lines))

    assert first.id is None and first.comments == ["keep-alive"]
    assert second.id is None and second.comments == ["keep-alive"]
