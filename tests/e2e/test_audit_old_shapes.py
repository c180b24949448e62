"""An event stored in an old shape shows in the audit viewer as today's class reads it.

The golden v1 fixture holds a ``UserCredits.Granted`` written before ``source`` existed
(``class_version`` 1); the JSON API and the pages must show it upcast, with ``source`` at its
default, and fold it into the aggregate's state. (A stored event whose class is gone is covered
by test_audit_api.py and test_audit_pages.py.)
"""

import json
import re

import pytest

from tests.e2e.flows import wait_projected
from tests.unit.test_golden_events import USER, V1, stored

OLD_GRANT = "domain.usercredits:UserCredits.Granted"


@pytest.fixture
def old_grant(live_server) -> str:
    """The golden v1 account, opened and then granted in the old shape, projected; its id."""
    rows = [r for r in V1["events"] if r["originator_id"] == str(USER)][:2]
    assert rows[1]["topic"] == OLD_GRANT and "source" not in json.loads(rows[1]["state"])
    services = live_server.services
    services.event_store.recorder.insert_events([stored(row) for row in rows])
    wait_projected(services, ["audit_log"])
    return str(USER)


def test_the_event_log_shows_an_old_grant_with_its_upcast_source(http, admin, old_grant):
    response = http.get("/api/admin/events", headers=admin, params={"aggregate_id": old_grant})

    assert response.status_code == 200, response.text
    grant, created = response.json()["events"]
    assert (grant["event_type"], grant["version"], grant["resolved"]) == (
        "UserCredits.Granted",
        2,
        True,
    )
    assert grant["data"] == {"amount": 50, "reason": "welcome", "source": "admin"}
    assert (grant["actor"], grant["correlation_id"]) == ("golden", "corr-1")
    assert created["event_type"] == "UserCredits.Created"


def test_time_travel_folds_an_old_grant_into_the_state(http, admin, old_grant):
    path = f"/api/admin/aggregates/{old_grant}"

    before = http.get(path, headers=admin, params={"version": 1})
    after = http.get(path, headers=admin, params={"version": 2})

    assert before.status_code == after.status_code == 200, after.text
    assert (before.json()["state"]["available"], after.json()["state"]["available"]) == (100, 150)


def test_the_history_shows_an_old_grant_upcast_with_its_diff(http, admin, old_grant):
    response = http.get(f"/api/admin/aggregates/{old_grant}/history", headers=admin)

    assert response.status_code == 200, response.text
    version = response.json()["versions"][1]
    assert version["event"]["data"] == {"amount": 50, "reason": "welcome", "source": "admin"}
    assert version["changes"] == [{"path": "available", "kind": "changed", "old": 100, "new": 150}]


@pytest.mark.parametrize(
    "page",
    [
        "/admin/audit?aggregate_id={id}&event_type=UserCredits.Granted",
        "/admin/audit/aggregates/{id}",
    ],
)
def test_the_pages_show_an_old_grant_with_its_upcast_source(signed_in, old_grant, page):
    response = signed_in.get(page.format(id=old_grant))

    assert response.status_code == 200, response.text
    assert "names no class any more" not in response.text
    data = re.findall(r"<pre>(.*?)</pre>", response.text, re.S)
    assert "&#34;source&#34;: &#34;admin&#34;" in data[-1]
    assert "&#34;reason&#34;: &#34;welcome&#34;" in data[-1]
