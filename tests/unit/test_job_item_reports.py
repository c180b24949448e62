"""Job: the workers' item results, recorded once per item and callback key, answered the
same when repeated, checked for range and outcome, and kept with their errors."""

from __future__ import annotations

import pytest

from domain.errors import IdempotencyKeyReused, InvalidCommand
from domain.jobstatus import MAX_ERROR_REPORTED, ItemReport
from tests.unit.jobs import job_in


def test_results_keep_each_items_outcome() -> None:
    job = job_in("queued", items=2)

    job.record_item_result(0, "succeeded", "key-0", result_key="results/0.png")
    job.record_item_result(1, "failed", "key-1", error="bad input")

    assert job.results == {
        "0": ["succeeded", "results/0.png", None],
        "1": ["failed", None, "bad input"],
    }


def test_a_repeated_callback_records_once_and_answers_the_same() -> None:
    job = job_in("queued")
    first = job.record_item_result(0, "succeeded", "key-0")
    events = len(job.pending_events)

    repeat = job.record_item_result(0, "succeeded", "key-0")

    assert repeat == first == ItemReport(job.id, 0, "succeeded", "recorded")
    assert (len(job.pending_events), job.succeeded_items) == (events, 1)


def test_a_repeated_callback_on_a_finished_job_gets_the_recorded_answer() -> None:
    job = job_in("done")

    answer = job.record_item_result(1, "succeeded", "key-1")

    assert answer == ItemReport(job.id, 1, "succeeded", "recorded")


def test_a_second_key_for_a_reported_item_keeps_the_first_result() -> None:
    job = job_in("queued")
    job.record_item_result(0, "failed", "key-0", error="timeout")
    events = len(job.pending_events)

    answer = job.record_item_result(0, "succeeded", "retry-key-0")

    assert answer == ItemReport(job.id, 0, "failed", "already_reported")
    assert (len(job.pending_events), job.succeeded_items, job.failed_items) == (events, 0, 1)


def test_a_callback_key_reused_for_another_item_is_refused() -> None:
    job = job_in("queued")
    job.record_item_result(0, "succeeded", "key-0")

    with pytest.raises(IdempotencyKeyReused):
        job.record_item_result(1, "succeeded", "key-0")


@pytest.mark.parametrize("item_index", [-1, 3, True, "0"])
def test_an_item_index_out_of_range_is_refused(item_index: int) -> None:
    job = job_in("queued", items=3)

    with pytest.raises(InvalidCommand, match="item_index"):
        job.record_item_result(item_index, "succeeded", "key")


def test_an_unknown_outcome_is_refused() -> None:
    job = job_in("queued")

    with pytest.raises(InvalidCommand):
        job.record_item_result(0, "skipped", "key-0")


def test_a_canceled_job_acknowledges_and_ignores_callbacks() -> None:
    job = job_in("running")
    job.cancel("changed my mind")
    events = len(job.pending_events)

    answer = job.record_item_result(1, "succeeded", "key-1")

    assert answer == ItemReport(job.id, 1, "succeeded", "ignored")
    assert (len(job.pending_events), job.succeeded_items) == (events, 1)


def test_fail_item_records_a_failed_item_with_the_reason() -> None:
    job = job_in("running")

    job.fail_item(1, "lease expired 3 times", "lease-exhausted:1")

    assert job.results["1"] == ["failed", None, "lease expired 3 times"]


def test_a_long_worker_error_is_kept_shortened() -> None:
    job = job_in("running")

    job.record_item_result(1, "failed", "key-1", error="x" * 5000)

    assert len(job.results["1"][2]) == 1000


def test_a_worker_error_past_the_reported_bound_is_refused() -> None:
    job = job_in("running")

    with pytest.raises(InvalidCommand, match=f"{MAX_ERROR_REPORTED}"):
        job.record_item_result(1, "failed", "key-1", error="x" * (MAX_ERROR_REPORTED + 1))
