"""The scenario that wrote events_v1.json: every event type of every aggregate, on commit abfe325.

It was run once on a checkout of that commit (``PYTHONPATH=<checkout> python scenario_v1.py
abfe325 events_v1.json``) on the library's in-memory store. Never run it again over v1: the
fixture is what old code stored, and today's code must load it as it is. A new event type
gets a scenario and a fixture of its own (``events_v2.json``), made the same way.
"""

import sys
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.job import Job
from domain.rule import Rule
from domain.usercredits import UserCredits
from tests.golden.fixture import write

USER = UUID("00000000-0000-4000-8000-000000000001")
JOB_DONE = UUID("00000000-0000-4000-8000-0000000000a1")
JOB_CANCELED = UUID("00000000-0000-4000-8000-0000000000a2")
JOB_STALLED = UUID("00000000-0000-4000-8000-0000000000a3")
RULE = UUID("00000000-0000-4000-8000-0000000000b1")
RULE_KEPT = UUID("00000000-0000-4000-8000-0000000000b2")
METADATA = {"actor": "golden", "correlation_id": "corr-1", "causation_id": "cause-1"}


def scenario() -> list:
    credits = UserCredits.open(USER, "free", 100)
    credits.grant(50, "welcome")
    credits.change_plan("pro")
    credits.reserve(str(JOB_DONE), 30)
    credits.reserve(str(JOB_CANCELED), 20)
    credits.reserve(str(JOB_STALLED), 20)
    credits.commit(str(JOB_DONE), 10)
    credits.rollback(str(JOB_CANCELED))
    credits.take_rule_slot(str(RULE))
    credits.take_rule_slot(str(RULE_KEPT))
    credits.free_rule_slot(str(RULE))

    done = Job.create(JOB_DONE, USER, "standard", 3, 10)
    done.confirm_upload()
    done.execute()
    done.record_item_result(0, "succeeded", "cb-0", result_key="results/0")
    done.record_item_result(1, "failed", "cb-1", error="gpu fell over")
    done.fail_item(2, "lease expired", "cb-2")

    canceled = Job.create(JOB_CANCELED, USER, "standard", 2, 10)
    canceled.cancel("changed my mind")

    stalled = Job.create(JOB_STALLED, USER, "standard", 2, 10)
    stalled.confirm_upload()
    stalled.execute()
    stalled.record_item_result(1, "succeeded", "cb-3", result_key=None)
    stalled.expire_stalled(datetime.now(UTC) + timedelta(seconds=1))

    params = {"strength": 0.5, "upscale": True, "label": "한글", "n": 3}
    rule = Rule.create(RULE, USER, "night run", "standard", params)
    rule.update("night run v2", "standard", {"strength": 0.75})
    rule.delete()
    kept = Rule.create(RULE_KEPT, USER, "kept", "standard", {})
    return [credits, done, canceled, stalled, rule, kept]


def main(commit: str, path: str) -> None:
    write(scenario, METADATA, f"the code of commit {commit}", path)


if __name__ == "__main__":
    main(*sys.argv[1:])
