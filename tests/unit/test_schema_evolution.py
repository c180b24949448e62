"""UserCredits.Granted gained ``source`` (class_version 2): old grants load, new ones carry it."""

import json
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from domain.commands.usercredits import GrantCredits
from domain.errors import InvalidCommand
from domain.usercredits import UserCredits
from eventstore.application import Chronicle
from tests.unit.test_golden_events import USER, loaded, stored

GOLDEN = Path(__file__).parents[1] / "golden"
V1 = json.loads((GOLDEN / "events_v1.json").read_text(encoding="utf-8"))
V3 = json.loads((GOLDEN / "events_v3.json").read_text(encoding="utf-8"))
BUYER = UUID("00000000-0000-4000-8000-000000000003")
METADATA_V3 = {"actor": "golden", "correlation_id": "corr-3", "causation_id": "cause-3"}


def grants(rows):
    return [e for e in loaded(rows) if isinstance(e, UserCredits.Granted)]


def test_a_grant_stored_before_sources_loads_as_an_admins_grant():
    (grant,) = grants(V1["events"])

    assert "source" not in grant_states(V1)[0] and "class_version" not in grant_states(V1)[0]
    assert (grant.amount, grant.reason, grant.source) == (50, "welcome", "admin")
    assert grant.originator_id == USER


def test_grants_stored_with_a_source_keep_it():
    loaded_grants = grants(V3["events"])

    assert [(g.amount, g.source) for g in loaded_grants] == [
        (100, "purchase"),
        (5, "promotion"),
        (1, "admin"),
    ]
    assert {json.dumps(g.metadata, sort_keys=True) for g in loaded_grants} == {
        json.dumps(METADATA_V3, sort_keys=True)
    }


@pytest.mark.parametrize("what", ["events", "snapshots"])
def test_an_account_with_sourced_grants_rebuilds_its_balance(what):
    app = Chronicle()
    recorder = app.recorder if what == "events" else app.snapshots.recorder
    recorder.insert_events([stored(row) for row in V3[what]])

    buyer = app.repository.get(BUYER)

    assert (buyer.version, buyer.available) == (4, 116)


def test_a_new_grant_is_stored_at_class_version_2_with_its_source():
    app = Chronicle()
    account = UserCredits.open(uuid4(), "free", 0)
    GrantCredits(account.id, 7, "spring sale", "promotion").change(account)
    app.save(account)

    row = app.recorder.select_events(account.id)[-1]
    state = app.mapper.transcoder.decode(row.state)

    assert row.topic == "domain.usercredits:UserCredits.Granted"
    assert (state["class_version"], state["source"], state["amount"]) == (2, "promotion", 7)
    assert app.repository.get(account.id).available == 7


def test_a_grant_command_without_a_source_is_an_admins():
    account = UserCredits.open(uuid4(), "free", 0)

    GrantCredits(account.id, 3, "goodwill").change(account)

    assert account.collect_events()[-1].source == "admin"


def test_a_grant_from_an_unknown_source_is_refused():
    account = UserCredits.open(uuid4(), "free", 0)

    with pytest.raises(InvalidCommand, match="source must be one of admin, purchase, promotion"):
        account.grant(3, "gift", "lottery")
    assert account.available == 0


def grant_states(fixture):
    """The stored JSON of the fixture's grants, as decoded dicts."""
    return [
        json.loads(row["state"])
        for row in fixture["events"]
        if row["topic"] == "domain.usercredits:UserCredits.Granted"
    ]
