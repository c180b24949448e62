"""The credits saga: a job that ends settles its reservation on the user's credits.

A done job commits the credits its succeeded items consumed and refunds the rest; a failed
or canceled one is rolled back. It follows the event log with its own position, like any
projection, and issues commands through the executor. A crash between the command and the
position update runs the command again, which changes nothing: UserCredits settles each job
id once (commit and rollback are idempotent per job id).
"""

import logging
from typing import Any

from psycopg import Cursor

from domain.commands import job as jobs
from domain.errors import NotFound
from domain.job import Job
from eventstore.executor import CommandExecutor

log = logging.getLogger(__name__)


class JobSettlement:
    """Settles the credits of every job that ends."""

    name = "job_settlement"

    def __init__(self, executor: CommandExecutor) -> None:
        self._executor = executor

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        if not isinstance(event, Job.Finished | Job.Stalled | Job.Canceled):
            return
        metadata = caused_by(event, position, actor="system:job-settlement")
        try:
            self._executor.execute(jobs.settle_job_credits(event.originator_id), metadata=metadata)
        except NotFound:
            log.warning("job %s ended but its user's credits are missing", event.originator_id)


def caused_by(event: Any, position: int, *, actor: str) -> dict[str, str]:
    """Metadata of a command caused by ``event`` at log ``position``: same correlation id."""
    return {
        "actor": actor,
        "correlation_id": event.metadata.get("correlation_id", ""),
        "causation_id": f"event:{position}",
    }
