"""The credits saga: a job that ends settles its reservation on the user's credits.

A done job commits the credits its succeeded items consumed and refunds the rest; a failed
or canceled one is rolled back. It is a reactor (``projections.engine.reactors``): it follows
the event log with its own position and issues commands through the executor. A crash between
the command and the position update runs the command again, which changes nothing: UserCredits
settles each job id once (commit and rollback are idempotent per job id). A command that fails
(even NotFound: a job's user always exists, since the job is created with its reservation) is
retried and then parked as a dead letter, never skipped.
"""

from typing import Any

from domain.commands.jobendings import SettleJobCredits
from domain.job import Job
from eventstore.executor import CommandExecutor
from projections.engine.reactors import caused_by


class JobSettlement:
    """Settles the credits of every job that ends."""

    name = "job_settlement"

    def __init__(self, executor: CommandExecutor) -> None:
        self._executor = executor

    def handles(self, event: Any) -> bool:
        return isinstance(event, Job.Finished | Job.Stalled | Job.Canceled)

    def react(self, event: Any, position: int) -> None:
        metadata = caused_by(event, position, actor="system:job-settlement")
        self._executor.execute(SettleJobCredits(event.originator_id), metadata=metadata)
