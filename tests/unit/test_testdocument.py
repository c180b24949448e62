"""TestDocument: saves, no-op saves, images by key, publish / unpublish, soft delete, replay."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.base import recording_metadata
from domain.errors import InvalidCommand, NotFound
from domain.testcontent import DocumentLimits, image_target
from domain.testdocument import TestDocument
from eventstore.application import Chronicle
from tests.unit.documents import axis_question, document

ADMIN = {"actor": "admin:kim", "correlation_id": "c1", "causation_id": "request:c1"}


def new_test(**fields) -> TestDocument:
    return TestDocument.create(uuid4(), document(**fields))


def event_names(test: TestDocument) -> list[str]:
    return [type(e).__name__ for e in test.pending_events]


def test_create_records_an_unpublished_normalised_document():
    test = new_test(title=" 여행 ")

    assert (test.document["title"], test.published, test.deleted) == ("여행", False, False)
    assert (test.version, event_names(test)) == (1, ["Created"])


def test_create_refuses_a_broken_document():
    with pytest.raises(InvalidCommand):
        TestDocument.create(uuid4(), document(questions="none"))


def test_create_applies_the_limits_it_is_given():
    with pytest.raises(InvalidCommand, match="title"):
        TestDocument.create(uuid4(), document(title="long title"), DocumentLimits(max_title=4))


def test_each_event_records_who_made_the_version_and_when():
    with recording_metadata(ADMIN):
        test = new_test()
        test.save(document(title="v2"))

    assert test.last_saved_by == "admin:kim"
    assert test.last_saved_at == test.pending_events[-1].timestamp == test.modified_on


def test_save_replaces_the_whole_document():
    test = new_test()

    test.save(document(title="v2", tags=[]))

    assert (test.document["title"], test.document["tags"], test.version) == ("v2", [], 2)
    assert event_names(test)[-1] == "Saved"


def test_a_save_that_changes_nothing_records_nothing():
    test = new_test()

    test.save(document(title="  여행 성향 테스트 ", tags=["travel", "여행", "travel"]))

    assert event_names(test) == ["Created"]


def test_a_refused_save_records_nothing():
    test = new_test()

    with pytest.raises(InvalidCommand):
        test.save(document(require_all="no"))

    assert event_names(test) == ["Created"]


@pytest.mark.parametrize(
    "target", [image_target(), image_target(question=3), image_target(mbti="INFP")]
)
def test_an_image_is_attached_by_its_key(target):
    test = new_test()

    test.attach_image(target, "images/ab12cd.webp")

    assert event_names(test)[-1] == "ImageAttached"
    where = {
        "thumbnail": lambda d: d["thumbnail"],
        "questions[3].image": lambda d: d["questions"][3]["image"],
        "results.INFP.image": lambda d: d["results"]["INFP"]["image"],
    }
    assert where[target](test.document) == "images/ab12cd.webp"


def test_attaching_the_same_key_to_the_same_target_again_records_nothing():
    test = new_test()
    test.attach_image(image_target(question=0), "images/ab12")

    test.attach_image(image_target(question=0), "images/ab12")

    assert event_names(test) == ["Created", "ImageAttached"]


def test_the_same_key_on_another_target_or_another_key_is_recorded():
    test = new_test()
    test.attach_image(image_target(question=0), "images/ab12")

    test.attach_image(image_target(question=1), "images/ab12")
    test.attach_image(image_target(question=0), "images/cd34")

    assert event_names(test).count("ImageAttached") == 3
    assert [q["image"] for q in test.document["questions"]][:2] == ["images/cd34", "images/ab12"]


def test_attaching_leaves_the_saved_events_document_as_it_was():
    test = new_test()

    test.attach_image(image_target(), "images/ab12")

    assert test.pending_events[0].document["thumbnail"] is None


@pytest.mark.parametrize(
    ("target", "key", "field"),
    [
        ("questions[4].image", "images/a", "target"),  # four questions
        ("results.ABCD.image", "images/a", "target"),
        ("cover", "images/a", "target"),
        ("questions[01].image", "images/a", "target"),  # one spelling per place
        ("questions[١].image", "images/a", "target"),  # an Arabic-Indic digit
        ("thumbnail", "../a", "key"),
        ("thumbnail", "", "key"),
        ("thumbnail", None, "key"),
    ],
)
def test_an_image_for_no_such_place_or_with_a_bad_key_is_refused(target, key, field):
    test = new_test()

    with pytest.raises(InvalidCommand) as refused:
        test.attach_image(target, key)

    assert refused.value.details == {"field": field}


def test_an_image_for_a_result_the_test_does_not_have_is_refused():
    results = {"ESTJ": {"title": "E"}, "ISTJ": {"title": "I"}}
    test = new_test(questions=[axis_question("EI")], results=results)

    with pytest.raises(InvalidCommand, match="no result for INFP"):
        test.attach_image(image_target(mbti="INFP"), "images/a")

    assert event_names(test) == ["Created"]


def test_images_move_with_their_question_when_a_save_reorders_them():
    test = new_test()
    test.attach_image(image_target(question=0), "images/first")
    reordered = dict(test.document)
    reordered["questions"] = [*test.document["questions"][1:], test.document["questions"][0]]

    test.save(reordered)

    assert test.document["questions"][3]["image"] == "images/first"


def test_publish_and_unpublish_are_idempotent():
    test = new_test()

    test.publish()
    test.publish()
    test.unpublish()
    test.unpublish()

    assert event_names(test) == ["Created", "Published", "Unpublished"]
    assert test.published is False


def test_a_published_test_stays_published_across_saves():
    test = new_test()
    test.publish()

    test.save(document(title="v2"))

    test.require_published()
    assert test.published is True


def test_an_unpublished_test_is_not_found_by_the_public():
    with pytest.raises(NotFound):
        new_test().require_published()


@pytest.mark.parametrize(
    "act",
    [
        lambda t: t.save(document(title="after")),
        lambda t: t.attach_image("thumbnail", "images/a"),
        lambda t: t.publish(),
        lambda t: t.unpublish(),
        lambda t: t.delete(),
        lambda t: t.require_published(),
    ],
    ids=["save", "attach_image", "publish", "unpublish", "delete", "require_published"],
)
def test_anything_on_a_deleted_test_is_not_found(act):
    test = new_test()
    test.publish()
    test.delete()

    with pytest.raises(NotFound):
        act(test)

    assert event_names(test) == ["Created", "Published", "Deleted"]


def test_a_deleted_test_keeps_its_history_and_rebuilds_from_it():
    app = Chronicle()
    with recording_metadata(ADMIN):
        test = new_test()
        test.save(document(title="v2"))
        test.attach_image(image_target(mbti="ENFP"), "images/enfp")
        test.publish()
        test.unpublish()
        test.delete()
    app.save(test)

    rebuilt = app.repository.get(test.id)

    assert [type(e).__name__ for e in app.events.get(test.id)] == [
        "Created",
        "Saved",
        "ImageAttached",
        "Published",
        "Unpublished",
        "Deleted",
    ]
    assert (rebuilt.document, rebuilt.deleted, rebuilt.published) == (test.document, True, False)
    assert (rebuilt.last_saved_by, rebuilt.last_saved_at) == ("admin:kim", test.last_saved_at)
    assert rebuilt.document["results"]["ENFP"]["image"] == "images/enfp"


def test_test_document_is_not_collected_by_pytest():
    assert TestDocument.__test__ is False
