"""The API's presenters: what a command's domain values look like to a client (no sockets)."""

import json
from uuid import uuid4

from api.schemas.jobs import Callback, CallbackAnswer, JobChanged, JobCreated, JobItem, Progress
from api.schemas.rules import RuleChanged, RuleDeleted
from api.schemas.users import CreditsChanged
from domain.commands.job import JobAndCredits, RecordItemResult
from domain.commands.rule import RuleAndCredits
from domain.job import Job
from domain.rule import Rule
from domain.usercredits import UserCredits


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


def test_a_changed_job_is_presented_with_done_and_succeeded_alike() -> None:
    job = running_job()

    presented = json.loads(json.dumps(JobChanged.present(job)))

    assert presented == {
        "job_id": str(job.id),
        "status": "running",
        "reason": None,
        "progress": {"done": 1, "succeeded": 1, "failed": 1, "total": 3},
    }


def test_a_created_job_is_presented_with_its_reservation() -> None:
    credits, job = credits_with_a_job()

    presented = JobCreated.present(JobAndCredits(job, credits))

    assert (presented["job_id"], presented["status"], presented["reserved"]) == (
        str(job.id),
        "created",
        6,
    )
    assert presented["progress"]["total"] == 3


def test_an_item_report_is_presented_as_the_callback_answer() -> None:
    job = running_job()

    presented = CallbackAnswer.present(job.record_item_result(2, "succeeded", "cb-2"))

    assert json.loads(json.dumps(presented)) == {
        "job_id": str(job.id),
        "item_index": 2,
        "outcome": "succeeded",
        "status": "recorded",
    }


def test_a_callbacks_idempotency_key_is_the_jobs_callback_key() -> None:
    job_id = uuid4()
    body = Callback(item_index=1, outcome="failed", error="oom", idempotency_key="k-1")

    assert body.command(job_id) == RecordItemResult(job_id, 1, "failed", "k-1", None, "oom")


def test_changed_credits_are_presented_as_the_client_sees_them() -> None:
    credits, _ = credits_with_a_job()

    presented = CreditsChanged.present(credits)

    assert presented == {
        "user_id": str(credits.id),
        "plan": "free",
        "credits": 4,
        "reserved_credits": 6,
        "active_jobs": 1,
        "version": 2,
    }


def test_a_rule_is_presented_with_its_timestamps_as_text() -> None:
    rule = Rule.create(uuid4(), uuid4(), "Night", "upscale", {"scale": 2, "hdr": False})

    presented = json.loads(json.dumps(RuleChanged.present(rule)))

    assert presented["params"] == {"scale": 2, "hdr": False}
    assert (presented["rule_id"], presented["version"]) == (str(rule.id), 1)
    assert presented["created_at"] == rule.created_on.isoformat()


def test_a_deleted_rule_is_presented_with_the_slots_left_in_use() -> None:
    credits = UserCredits.open(uuid4(), "free", 10)
    rule = Rule.create(uuid4(), credits.id, "Night", "upscale", {})
    credits.take_rule_slot(str(rule.id))
    rule.delete()
    credits.free_rule_slot(str(rule.id))

    presented = RuleDeleted.present(RuleAndCredits(rule, credits))

    assert presented == {"rule_id": str(rule.id), "deleted": True, "rule_slots_used": 0}


def test_a_job_item_keeps_its_deprecated_index_beside_item_index() -> None:
    row = {"item_index": 4, "outcome": "failed", "result_key": None, "error": "x"}

    item = JobItem.model_validate({**row, "reported_at": "2026-01-01T00:00:00+00:00"})

    assert (item.model_dump()["item_index"], item.model_dump()["index"]) == (4, 4)


def test_progress_stored_before_succeeded_existed_still_reads() -> None:
    progress = Progress.model_validate({"done": 2, "failed": 1, "total": 3})

    assert progress.model_dump() == {"done": 2, "succeeded": 2, "failed": 1, "total": 3}
