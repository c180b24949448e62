"""Deadlines (the Durable Object alarm replacement), fired at least once by a scheduler loop.

Read from ``jobs_log``: a job still waiting for its upload past the upload timeout is
canceled and refunded; so is a job uploaded but never executed, or queued but none of whose
items was ever leased, past the queue timeout (it holds a reservation and a concurrent-job
slot); a running job without progress past the stall timeout is failed; an item whose last
allowed lease expired is failed. Read from ``upload_sessions``: an upload session still open
past its deadline is expired, its parts dropped from storage. Each goes through an idempotent
command, so firing twice, or after the job moved on, changes nothing.

While firing fails the loop says so once, not once a poll: an outage (the database down, see
``projections.engine.outages``) as one WARNING line, anything else with its traceback at ERROR;
then only DEBUG lines until firing works again, which it says in one INFO line.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg_pool import ConnectionPool

from domain.commands import jobendings
from domain.commands.job import FailItem
from domain.commands.uploadendings import ExpireUploadSession
from domain.commands.uploadsession import Multipart
from domain.errors import ChronicleError
from eventstore.executor import CommandExecutor
from projections.engine.outages import is_outage
from projections.jobs.dispatch import exhausted_leases
from projections.jobs.due import due_jobs
from projections.uploads.due import expired_sessions

log = logging.getLogger(__name__)
ACTOR = {"actor": "system:deadlines", "correlation_id": "", "causation_id": "deadline"}


class DeadlineScheduler:
    """Fires due deadlines every ``poll_seconds`` until stopped."""

    def __init__(
        self,
        pool: ConnectionPool,
        executor: CommandExecutor,
        *,
        upload_timeout: float,
        stall_timeout: float,
        queue_timeout: float,
        lease_max_attempts: int,
        storage: Multipart | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self._pool = pool
        self._executor = executor
        self._upload_timeout = timedelta(seconds=upload_timeout)
        self._stall_timeout = timedelta(seconds=stall_timeout)
        self._queue_timeout = timedelta(seconds=queue_timeout)
        self._lease_max_attempts = lease_max_attempts
        self._storage = storage  # none: upload sessions are not expired here
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="deadlines", daemon=True)

    def start(self) -> DeadlineScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def fire_due(self, now: datetime | None = None, limit: int = 500) -> int:
        """Fire every deadline due at ``now``; how many commands were accepted."""
        now = now or datetime.now(UTC)
        stalled_before = now - self._stall_timeout
        unstarted_before = now - self._queue_timeout
        fired = 0
        due = due_jobs(
            self._pool,
            created_before=now - self._upload_timeout,
            unstarted_before=unstarted_before,
            stalled_before=stalled_before,
            limit=limit,
        )
        for job_id in due.uploads:
            fired += self._fire(jobendings.ExpireUpload(job_id))
        for job_id in due.unstarted:
            fired += self._fire(jobendings.ExpireUnstarted(job_id, unstarted_before))
        for job_id in due.stalled:
            fired += self._fire(jobendings.ExpireStalled(job_id, stalled_before))
        for row in exhausted_leases(self._pool, self._lease_max_attempts, now, limit):
            reason = f"no result after {row['attempts']} leases"
            key = f"lease-exhausted:{row['item_index']}"
            command = FailItem(row["job_id"], row["item_index"], reason, key)
            fired += self._fire(command)
        if self._storage is not None:
            for session_id in expired_sessions(self._pool, now, limit):
                fired += self._fire(ExpireUploadSession(session_id, now, self._storage))
        return fired

    def _fire(self, command: Any) -> int:
        try:
            self._executor.execute(command, metadata=ACTOR)
        except ChronicleError as exc:  # it moved on in a way the deadline cannot apply to
            log.info("deadline not applied: %s", exc.message)
            return 0
        return 1

    def _loop(self) -> None:
        failing = False
        while not self._stopping.wait(self._poll_seconds):
            try:
                self.fire_due()
            except Exception as exc:
                if failing:
                    log.debug("firing deadlines still fails: %s", exc)
                else:
                    self._report(exc)
                failing = True
                continue
            if failing:
                log.info("deadlines fire again")
                failing = False

    def _report(self, exc: Exception) -> None:
        """Log the first failure of a run of them: an outage in one line, else its traceback."""
        if is_outage(exc):
            reason = " ".join(str(exc).split()) or type(exc).__name__
            log.warning("deadlines paused by an outage: %s", reason)
        else:
            log.exception("firing deadlines failed; trying again every %s s", self._poll_seconds)
