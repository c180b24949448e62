"""The API's presenters: what a command's outcome looks like to a client (no sockets).

Outcomes are presented from their records (``Outcome.record``), the form an idempotent repeat
gets back; an answer stored by an earlier revision (``answered``) is presented as it was given.
"""

import json
from uuid import uuid4

from api.schemas.jobs import Callback, CallbackAnswer, JobChanged, JobItem, Progress
from api.schemas.rules import RuleChanged, RuleDeleted
from api.schemas.users import CreditsChanged
from domain.commands.job import JobState, RecordItemResult
from domain.commands.rule import RuleState
from domain.commands.usercredits import CreditsState
from domain.job import Job
from domain.rule import Rule
from domain.usercredits import UserCredits
from eventstore.records import Outcome


def credits_with_a_job() -> tuple[UserCredits, Job]:
    credits = UserCredits.open(uuid4(), "free", 10)
    job = Job.create(uuid4(), credits.id, "upscale", 3, 2)
    credits.reserve(str(job.id), job.reserved)
    return credits, job


def running_job() -> Job:
    _, job = credits_with_a_job()
    job.confirm_upload()
    job.execute()
    job.record_item_result(0, "succeeded", "cb-0")
    job.record_item_result(1, "failed", "cb-1", error="oom")
    return job


def answer(model: object) -> dict:
    return json.loads(model.model_dump_json())  # type: ignore[attr-defined]


def test_a_changed_job_is_presented_with_done_and_succeeded_alike() -> None:
    job = running_job()

    presented = answer(JobChanged.from_outcome(Outcome(JobState.of(job), 7)))

    assert presented == {
        "job_id": str(job.id),
        "status": "running",
        "reason": None,
        "progress": {"done": 1, "succeeded": 1, "failed": 1, "total": 3},
        "position": 7,
    }


def test_a_job_answer_stored_by_an_earlier_revision_is_presented_as_it_was() -> None:
    job_id = str(uuid4())
    stored = {"job_id": job_id, "status": "queued", "reason": None}
    stored["progress"] = {"done": 2, "failed": 0, "total": 3}  # before `succeeded` existed

    presented = answer(JobChanged.from_outcome(Outcome(stored, 9, replayed=True, answered=True)))

    assert presented["progress"] == {"done": 2, "succeeded": 2, "failed": 0, "total": 3}
    assert (presented["job_id"], presented["position"]) == (job_id, 9)


def test_a_replayed_record_is_presented_as_the_fresh_outcome_was() -> None:
    outcome = Outcome(JobState.of(running_job()), 7)

    replayed = Outcome(outcome.record, 7, replayed=True)

    assert JobChanged.from_outcome(replayed) == JobChanged.from_outcome(outcome)


def test_an_item_report_is_presented_as_the_callback_answer() -> None:
    job = running_job()
    report = job.record_item_result(2, "succeeded", "cb-2")

    presented = answer(CallbackAnswer.from_outcome(Outcome(report, None)))

    assert presented == {
        "job_id": str(job.id),
        "item_index": 2,
        "outcome": "succeeded",
        "status": "recorded",
        "position": None,
    }


def test_a_callbacks_idempotency_key_is_the_jobs_callback_key() -> None:
    job_id = uuid4()
    body = Callback(item_index=1, outcome="failed", error="oom", idempotency_key="k-1")

    assert body.report(job_id) == RecordItemResult(job_id, 1, "failed", "k-1", None, "oom")
    assert body.idempotency(job_id).key == f"callback:{job_id}:k-1"
    assert '"idempotency_key":"k-1"' in body.model_dump_json()  # the fingerprint's bytes


def test_changed_credits_are_presented_as_the_client_sees_them() -> None:
    credits, _ = credits_with_a_job()

    presented = answer(CreditsChanged.from_outcome(Outcome(CreditsState.of(credits), 3)))

    assert presented == {
        "user_id": str(credits.id),
        "plan": "free",
        "credits": 4,
        "reserved_credits": 6,
        "active_jobs": 1,
        "version": 2,
        "position": 3,
    }


def test_a_rule_is_presented_with_its_timestamps() -> None:
    rule = Rule.create(uuid4(), uuid4(), "Night", "upscale", {"scale": 2, "hdr": False})

    presented = RuleChanged.from_outcome(Outcome(RuleState.of(rule), 1))

    assert presented.params == {"scale": 2, "hdr": False}
    assert (presented.rule_id, presented.version) == (rule.id, 1)
    assert presented.created_at == rule.created_on


def test_a_deleted_rule_is_presented_with_the_slots_left_in_use() -> None:
    credits = UserCredits.open(uuid4(), "free", 10)
    rule = Rule.create(uuid4(), credits.id, "Night", "upscale", {})
    credits.take_rule_slot(str(rule.id))
    rule.delete()
    credits.free_rule_slot(str(rule.id))

    presented = answer(RuleDeleted.from_outcome(Outcome(RuleState.of(rule, credits), 4)))

    assert presented == {
        "rule_id": str(rule.id),
        "deleted": True,
        "rule_slots_used": 0,
        "position": 4,
    }


def test_a_job_item_keeps_its_deprecated_index_beside_item_index() -> None:
    row = {"item_index": 4, "outcome": "failed", "result_key": None, "error": "x"}

    item = JobItem.model_validate({**row, "reported_at": "2026-01-01T00:00:00+00:00"})

    assert (item.model_dump()["item_index"], item.model_dump()["index"]) == (4, 4)


def test_progress_stored_before_succeeded_existed_still_reads() -> None:
    progress = Progress.model_validate({"done": 2, "failed": 1, "total": 3})

    assert progress.model_dump() == {"done": 2, "succeeded": 2, "failed": 1, "total": 3}
