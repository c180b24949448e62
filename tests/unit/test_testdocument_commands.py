"""TestDocument use cases through the command executor (in-memory store): If-Match, takes."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.commands import testdocument as tests
from domain.errors import AlreadyExists, InvalidCommand, NotFound, VersionConflict
from domain.testcontent import DocumentLimits, image_target
from domain.testdocument import TestDocument
from domain.testtake import TestTake
from eventstore.executor import CommandExecutor
from tests.conftest import in_one_batch
from tests.unit.documents import answers_for, document

KIM = {"actor": "admin:kim", "correlation_id": "c1", "causation_id": "request:c1"}
LEE = {"actor": "admin:lee", "correlation_id": "c2", "causation_id": "request:c2"}


@pytest.fixture
def app():
    return Application()


@pytest.fixture
def executor(app):
    running = CommandExecutor(app)
    yield running
    running.close()


def created(executor, **fields):
    """A new test's id, at version 1, created by admin:kim."""
    test_id = uuid4()
    executor.execute(tests.CreateTestDocument(test_id, document(**fields)), metadata=KIM)
    return test_id


def published(executor):
    test_id = created(executor)
    executor.execute(tests.PublishTestDocument(test_id))
    return test_id


def test_create_twice_with_one_id_fails_at_once(executor):
    test_id = created(executor)

    with pytest.raises(AlreadyExists):
        executor.execute(tests.CreateTestDocument(test_id, document()))


def test_a_save_at_the_current_version_makes_the_next_one(executor, app):
    test_id = created(executor)

    outcome = executor.execute(tests.SaveTestDocument(test_id, 1, document(title="v2")))

    assert outcome.result.version == 2
    assert app.repository.get(test_id).document["title"] == "v2"


def test_a_stale_save_names_the_current_version_who_saved_it_and_when(executor, app):
    test_id = created(executor)
    executor.execute(tests.SaveTestDocument(test_id, 1, document(title="lee's")), metadata=LEE)

    with pytest.raises(VersionConflict) as stale:
        executor.execute(tests.SaveTestDocument(test_id, 1, document(title="kim's")), metadata=KIM)

    saved = app.repository.get(test_id)
    assert stale.value.details == {
        "current_version": 2,
        "saved_by": "admin:lee",
        "saved_at": saved.last_saved_at.isoformat(),
    }
    assert saved.document["title"] == "lee's"


def test_two_saves_on_one_version_at_once_one_wins_and_the_other_is_told(executor, app):
    test_id = created(executor)

    first, second = in_one_batch(
        executor,
        tests.SaveTestDocument(test_id, 1, document(title="kim's")),
        tests.SaveTestDocument(test_id, 1, document(title="lee's")),
    )

    assert first.result.version == 2
    assert isinstance(second, VersionConflict) and second.details["current_version"] == 2
    assert app.repository.get(test_id).document["title"] == "kim's"


def test_a_save_that_changes_nothing_keeps_the_version(executor, app):
    test_id = created(executor)

    outcome = executor.execute(tests.SaveTestDocument(test_id, 1, document()))

    assert outcome.result.version == 1 and app.repository.get(test_id).version == 1


def test_a_save_applies_the_limits_it_is_given(executor):
    test_id = created(executor)
    save = tests.SaveTestDocument(test_id, 1, document(), DocumentLimits(max_questions=2))

    with pytest.raises(InvalidCommand) as refused:
        executor.execute(save)

    assert refused.value.details == {"field": "questions"}


def test_an_image_is_attached_and_again_changes_nothing(executor, app):
    test_id = created(executor)
    attach = tests.AttachImage(test_id, image_target(mbti="INTJ"), "images/ab12.png")

    executor.execute(attach)
    executor.execute(attach)

    saved = app.repository.get(test_id)
    assert (saved.version, saved.document["results"]["INTJ"]["image"]) == (2, "images/ab12.png")


def test_publish_unpublish_and_delete_may_state_the_version_they_saw(executor):
    test_id = created(executor)
    executor.execute(tests.PublishTestDocument(test_id, expected_version=1))

    with pytest.raises(VersionConflict):
        executor.execute(tests.UnpublishTestDocument(test_id, expected_version=1))
    with pytest.raises(VersionConflict):
        executor.execute(tests.DeleteTestDocument(test_id, expected_version=1))


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_command_on_a_deleted_test_is_not_found_whatever_version_it_names(executor, version):
    test_id = created(executor)
    executor.execute(tests.DeleteTestDocument(test_id))

    with pytest.raises(NotFound):
        executor.execute(tests.SaveTestDocument(test_id, version, document(title="after")))
    with pytest.raises(NotFound):
        executor.execute(tests.PublishTestDocument(test_id))
    with pytest.raises(NotFound):
        executor.execute(tests.TakeTest(test_id, answers_for("INTJ")))


def test_a_take_computes_and_records_the_type_without_moving_the_tests_version(executor, app):
    test_id = published(executor)

    outcome = executor.execute(tests.TakeTest(test_id, answers_for("INFP")))

    take = outcome.result
    assert (take.mbti, take.result["title"], take.version) == ("INFP", "The INFP", 2)
    assert app.repository.get(test_id).version == 2
    stored = app.repository.get(take.take_id)
    assert isinstance(stored, TestTake)
    assert (stored.test_id, stored.test_version, stored.mbti) == (test_id, 2, "INFP")


def test_each_take_is_an_aggregate_of_its_own(executor):
    test_id = published(executor)

    takes = [executor.execute(tests.TakeTest(test_id, answers_for("ESTJ"))) for _ in range(3)]

    assert len({outcome.result.take_id for outcome in takes}) == 3


def test_a_take_of_an_unpublished_or_missing_test_is_not_found(executor):
    with pytest.raises(NotFound):
        executor.execute(tests.TakeTest(created(executor), answers_for("ESTJ")))
    with pytest.raises(NotFound):
        executor.execute(tests.TakeTest(uuid4(), answers_for("ESTJ")))


def test_a_take_with_invalid_answers_records_nothing(executor, app):
    test_id = published(executor)
    take_id = uuid4()

    with pytest.raises(InvalidCommand) as refused:
        executor.execute(tests.TakeTest(test_id, {0: 0, 1: 5}, take_id=take_id))

    assert refused.value.details == {"field": "answers[1]"}
    assert list(app.events.get(take_id)) == []


def test_a_test_document_and_a_take_are_different_aggregates(executor):
    test_id = published(executor)
    take = executor.execute(tests.TakeTest(test_id, answers_for("ESTJ"))).result

    with pytest.raises(NotFound):
        executor.execute(tests.PublishTestDocument(take.take_id))
    assert TestDocument.__test__ is False and TestTake.__test__ is False
