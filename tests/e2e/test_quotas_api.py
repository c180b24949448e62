"""The daily quota of jobs over HTTP: 429 quota_exceeded past it, nothing reserved; /me shows it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.e2e.test_rate_limits import Serve, serve  # noqa: F401  (a fixture)

JOB = {"preset": "portrait", "item_count": 1}


def test_jobs_past_the_daily_quota_are_refused_and_me_shows_the_usage(serve: Serve) -> None:  # noqa: F811
    with serve(quota_jobs_per_day_free=2) as client:
        session = client.post("/auth/anon").json()
        auth = {"Authorization": f"Bearer {session['token']}"}
        made = [client.post("/jobs", json=JOB, headers=auth) for _ in range(3)]
        position = max(m.json().get("position") or 0 for m in made)
        me = client.get(f"/me?min_position={position}", headers=auth).json()

    assert [m.status_code for m in made] == [201, 201, 429]
    refused = made[2].json()["error"]
    assert (refused["code"], refused["limit"], refused["used"]) == ("quota_exceeded", 2, 2)
    midnight = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(), UTC)
    assert me["usage"]["jobs"]["used"] == 2 and me["usage"]["jobs"]["limit"] == 2
    assert datetime.fromisoformat(me["usage"]["jobs"]["resets_at"]) == midnight
    assert me["active_jobs"] == 2 and me["credits"] == 10 - 2  # the refused job reserved nothing
    assert me["usage"]["assistant_turns"] == {
        "used": 0,
        "limit": 50,
        "resets_at": me["usage"]["jobs"]["resets_at"],
    }
