"""On PostgreSQL: grants stored before ``source`` existed load from the log; new ones carry it."""

import json
from pathlib import Path
from uuid import uuid4

import psycopg

from domain.commands.usercredits import GrantCredits, OpenAccount
from domain.usercredits import UserCredits
from tests.unit.test_golden_events import USER, stored

GOLDEN = Path(__file__).parents[1] / "golden"
V1 = json.loads((GOLDEN / "events_v1.json").read_text(encoding="utf-8"))


def credit_rows(app):
    """The v1 fixture's UserCredits rows, written to chronicle_events as the old code did."""
    rows = [r for r in V1["events"] if r["originator_id"] == str(USER)]
    app.recorder.insert_events([stored(row) for row in rows])
    return rows


def test_a_v1_grant_read_from_the_log_is_an_admins_grant(app):
    credit_rows(app)

    notifications = app.recorder.select_notifications(start=1, limit=100)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    (grant,) = [e for e in events if isinstance(e, UserCredits.Granted)]

    assert (grant.amount, grant.reason, grant.source) == (50, "welcome", "admin")
    assert app.repository.get(USER).available == 120


def test_a_grant_through_the_executor_is_stored_with_its_source(app, executor, clean_dsn):
    user_id = uuid4()
    executor.execute(OpenAccount(user_id, "free", 0))

    executor.execute(GrantCredits(user_id, 40, "top-up", "purchase"))

    with psycopg.connect(clean_dsn) as conn:
        row = conn.execute(
            "SELECT state FROM chronicle_events WHERE originator_id = %s "
            "AND topic = 'domain.usercredits:UserCredits.Granted'",
            (user_id,),
        ).fetchone()
    state = app.mapper.transcoder.decode(bytes(row[0]))
    assert (state["class_version"], state["source"], state["amount"]) == (2, "purchase", 40)
    assert app.repository.get(user_id).available == 40
