"""The scenario that wrote events_v4.json: ``UserCredits.QuotaUsed``, snapshots at class_version 2.

It was run once, on the working tree of issue 16's quotas, with ``PYTHONPATH=<checkout> python
scenario_v4.py <source> events_v4.json`` on the library's in-memory store. Never run it again
over v4: the fixture is what this code stored, and later code must load it as it is.
"""

import sys
from uuid import UUID

from domain.quotas import JOBS
from domain.usercredits import UserCredits
from tests.golden.fixture import write

COUNTED = UUID("00000000-0000-4000-8000-000000000004")
METADATA = {"actor": "golden", "correlation_id": "corr-4", "causation_id": "cause-4"}


def scenario() -> list:
    counted = UserCredits.open(COUNTED, "free", 10)
    counted.use_quota(JOBS, "2026-12-03", 5)
    counted.use_quota(JOBS, "2026-12-04", 5)
    counted.use_quota(JOBS, "2026-12-04", 5)
    return [counted]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
