"""The audit history on real PostgreSQL: an aggregate's state at a version or a time,
versions and times it never had, and the changes each version made."""

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.commands import usercredits as credits
from domain.commands.testdocument import CreateTestDocument, SaveTestDocument
from domain.errors import NotFound
from projections.audit.diff import Change
from projections.audit.history import get_history, get_state, version_at
from tests.integration.auditlog import run
from tests.unit.documents import document


def test_time_travel_gives_the_state_at_a_version_or_a_time(executor, app):
    user = uuid4()
    run(executor, credits.OpenAccount(user, "pro", 10))
    run(executor, credits.GrantCredits(user, 5, "welcome"))
    created = next(iter(app.events.get(user))).timestamp

    first = get_state(app, user, version=1)
    now = get_state(app, user)

    assert (first["aggregate_type"], first["version"]) == ("UserCredits", 1)
    assert now["version"] == 2
    assert now["state"]["available"] == first["state"]["available"] + 5
    assert version_at(app, user, created) == 1
    assert version_at(app, user, created + timedelta(days=1)) == 2


def test_a_version_that_never_existed_or_a_time_before_creation_is_not_found(executor, app):
    user = uuid4()
    run(executor, credits.OpenAccount(user, "pro", 10))
    created = next(iter(app.events.get(user))).timestamp

    with pytest.raises(NotFound):
        get_state(app, user, version=2)
    with pytest.raises(NotFound):
        version_at(app, user, created - timedelta(microseconds=1))
    with pytest.raises(NotFound):
        get_state(app, uuid4())


def test_history_names_the_question_text_a_save_changed(executor, app):
    test_id = uuid4()
    before = document()
    after = document()
    after["questions"][2] = {**after["questions"][2], "text": "Which way now?"}
    run(executor, CreateTestDocument(test_id, before))
    run(executor, SaveTestDocument(test_id, 1, after), actor="bob")

    versions = get_history(app, test_id, limit=10)

    assert [v.version for v in versions] == [1, 2]
    assert versions[1].event["event_type"] == "TestDocument.Saved"
    assert versions[1].event["actor"] == "bob"
    assert (
        Change(
            "document.questions[2].text",
            "changed",
            old=before["questions"][2]["text"],
            new="Which way now?",
        )
        in versions[1].changes
    )
    assert all(c.path.startswith(("document", "last_saved")) for c in versions[1].changes)
    assert any(c.path == "document.title" and c.kind == "added" for c in versions[0].changes)
