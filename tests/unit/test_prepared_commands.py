"""Use cases that ask the outside world before their command is queued, without HTTP.

A worker's report is refused unless it holds the item's lease (or the report records nothing);
an image is told from its bytes, stored once under its content hash, and attached; nothing is
stored for a test or a place that does not exist. The executor runs ``prepare`` in the caller's
thread, on the aggregates as last saved, and queues the command it hands back.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.commands import job as jobs
from domain.commands import testdocument as tests
from domain.errors import InvalidCommand, LeaseNotHeld, NotFound, UnsupportedImage
from domain.testcontent import image_target
from eventstore.executor import CommandExecutor
from tests.fakes import STORED, presets
from tests.unit.documents import document

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"rest"


class Leases:
    """The worker queue's answer: who holds each item's lease."""

    def __init__(self, **holders: str) -> None:
        self._holders = {int(index.removeprefix("item")): who for index, who in holders.items()}

    def holder(self, item_index: int) -> str | None:
        return self._holders.get(item_index)


class Images:
    """An object store that keeps what it is given, and counts the writes."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.puts = 0

    def exists(self, key: str) -> bool:
        return key in self.objects

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts += 1
        self.objects[key] = (data, content_type)


def queued(run: Any, user: UUID, items: int = 2) -> UUID:
    job_id = run(jobs.CreateJob(uuid4(), user, "upscale", items, presets())).job_id
    run(jobs.ConfirmUpload(job_id, user, STORED))
    run(jobs.ExecuteJob(job_id, user))
    return job_id


def report(job_id: UUID, item: int, key: str, worker: str, leases: Leases) -> jobs.ReportItem:
    reported = jobs.RecordItemResult(job_id, item, "succeeded", key, f"out/{item}")
    return jobs.ReportItem(reported, worker, leases)


def test_the_lease_holders_report_is_recorded(run: Any, user: UUID) -> None:
    job_id = queued(run, user)

    answer = run(report(job_id, 0, "k-0", "gpu-1", Leases(item0="gpu-1")))

    assert (answer.item_index, answer.status) == (0, "recorded")


def test_a_report_from_a_worker_without_the_lease_is_refused_and_records_nothing(
    run: Any, memory_app: Application, user: UUID
) -> None:
    job_id = queued(run, user)

    with pytest.raises(LeaseNotHeld, match="item 0 of job .* is not leased to this worker"):
        run(report(job_id, 0, "k-0", "gpu-2", Leases(item0="gpu-1")))

    assert memory_app.repository.get(job_id).results == {}


def test_a_repeat_whose_lease_is_gone_gets_its_first_answer(run: Any, user: UUID) -> None:
    job_id = queued(run, user)
    first = run(report(job_id, 0, "k-0", "gpu-1", Leases(item0="gpu-1")))

    again = run(report(job_id, 0, "k-0", "gpu-1", Leases()))  # reported: its row is gone

    assert again == first


def test_a_report_on_an_ended_job_goes_to_the_job_whoever_sends_it(run: Any, user: UUID) -> None:
    job_id = queued(run, user)
    run(jobs.CancelJob(job_id, user, "changed my mind"))

    answer = run(report(job_id, 1, "k-1", "gpu-9", Leases()))

    assert answer.status == "ignored"


def test_an_image_is_stored_once_and_attached(
    commands: CommandExecutor, memory_app: Application
) -> None:
    test_id = uuid4()
    commands.execute(tests.CreateTestDocument(test_id, document()))
    images = Images()
    upload = tests.UploadImage(test_id, image_target(mbti="INTJ"), PNG, images)

    first = commands.execute(upload).result
    again = commands.execute(upload)

    assert first.key.startswith("images/") and first.key.endswith(".png")
    assert images.objects[first.key] == (PNG, "image/png") and images.puts == 1
    assert (again.result.version, again.position) == (2, None)  # the same place: nothing new
    saved = memory_app.repository.get(test_id)
    assert saved.document["results"]["INTJ"]["image"] == first.key


def test_bytes_that_are_no_image_are_refused_and_nothing_is_stored(
    commands: CommandExecutor,
) -> None:
    test_id = uuid4()
    commands.execute(tests.CreateTestDocument(test_id, document()))
    images = Images()

    with pytest.raises(UnsupportedImage, match="told from the bytes"):
        commands.execute(tests.UploadImage(test_id, "thumbnail", b"<svg/>", images))

    assert images.objects == {}


def test_nothing_is_stored_for_a_missing_test_or_a_missing_place(
    commands: CommandExecutor,
) -> None:
    test_id, deleted, missing = uuid4(), uuid4(), uuid4()
    commands.execute(tests.CreateTestDocument(test_id, document()))
    commands.execute(tests.CreateTestDocument(deleted, document()))
    commands.execute(tests.DeleteTestDocument(deleted))
    images = Images()

    with pytest.raises(NotFound, match=f"test {missing} not found"):
        commands.execute(tests.UploadImage(missing, "thumbnail", PNG, images))
    with pytest.raises(NotFound, match=f"test {deleted} not found"):
        commands.execute(tests.UploadImage(deleted, "thumbnail", PNG, images))
    with pytest.raises(InvalidCommand):
        commands.execute(tests.UploadImage(test_id, image_target(question=99), PNG, images))

    assert images.objects == {}
