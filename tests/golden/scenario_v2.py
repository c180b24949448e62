"""The scenario that wrote events_v2.json: every event type of issue 7 (TestDocument, TestTake).

It was run once, on the working tree of issue 7's first TestDocument code (on top of commit
6ced7ff, before that code was committed), with ``PYTHONPATH=<checkout> python scenario_v2.py
<source> events_v2.json`` on the library's in-memory store. Never run it again over v2: the
fixture is what old code stored, and today's code must load it as it is.
"""

import sys
from uuid import UUID

from domain.mbti import TYPES
from domain.testdocument import TestDocument
from domain.testtake import TestTake
from tests.golden.fixture import write

TEST = UUID("00000000-0000-4000-8000-0000000000c1")
TEST_DELETED = UUID("00000000-0000-4000-8000-0000000000c2")
TAKE = UUID("00000000-0000-4000-8000-0000000000d1")
METADATA = {"actor": "golden", "correlation_id": "corr-2", "causation_id": "cause-2"}


def document(title: str) -> dict:
    """Four questions, one per axis (choice 0 the first letter, weight 2; choice 1 the second)."""
    questions = [
        {
            "text": f"{axis} 질문",
            "choices": [
                {"text": axis[0], "axis": axis, "pole": axis[0], "weight": 2},
                {"text": axis[1], "axis": axis, "pole": axis[1], "weight": 1},
            ],
        }
        for axis in ("EI", "SN", "TF", "JP")
    ]
    results = {mbti: {"title": f"{mbti} 유형", "description": "설명"} for mbti in TYPES}
    return {"title": title, "tags": ["여행", "travel"], "questions": questions, "results": results}


def scenario() -> list:
    test = TestDocument.create(TEST, document("여행 성향 테스트"))
    test.save(document("여행 성향 테스트 v2"))
    test.attach_image("thumbnail", "images/thumb.webp")
    test.attach_image("questions[1].image", "images/q1.png")
    test.attach_image("results.INFP.image", "images/infp.jpg")
    test.publish()
    test.unpublish()
    test.publish()

    deleted = TestDocument.create(TEST_DELETED, document("지운 테스트"))
    deleted.delete()

    take = TestTake.record(TAKE, TEST, test.version, "INFP")
    return [test, deleted, take]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
