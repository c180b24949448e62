"""The scenario that wrote events_v3.json: ``UserCredits.Granted`` at class_version 2 (source).

It was run once, on the working tree of issue 8's first pass (on top of the commit that
holds events_v2.json), with ``PYTHONPATH=<checkout> python scenario_v3.py <source>
events_v3.json`` on the library's in-memory store. Never run it again over v3: the fixture is
what this code stored, and later code must load it as it is. events_v1.json keeps the grant
of class_version 1 (no source), which loads through ``Granted.upcast_v1_v2``.
"""

import sys
from uuid import UUID

from domain.usercredits import UserCredits
from tests.golden.fixture import write

BUYER = UUID("00000000-0000-4000-8000-000000000003")
METADATA = {"actor": "golden", "correlation_id": "corr-3", "causation_id": "cause-3"}


def scenario() -> list:
    buyer = UserCredits.open(BUYER, "free", 10)
    buyer.grant(100, "top-up of 100", "purchase")
    buyer.grant(5, "launch week", "promotion")
    buyer.grant(1, "support ticket", "admin")
    return [buyer]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
