"""Jobs: whether a job's credits are settled, and the deadlines of uploaded and queued jobs.

``jobs_log.settlement`` is ``held`` until the job's reservation is committed or rolled back
(``none`` for a job that reserved nothing), ``settled_position`` the log position of that
settlement, so that a client can wait until ``user_summary`` shows it too. Existing rows are
filled from ``credit_ledger``, else from their status. The partial indexes serve the
deadlines of an uploaded job never executed and of a queued job never started.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE jobs_log
            ADD COLUMN settlement text NOT NULL DEFAULT 'held'
                CHECK (settlement IN ('held', 'committed', 'rolled_back', 'none')),
            ADD COLUMN settled_position bigint;
        UPDATE jobs_log SET settlement = 'none' WHERE reserved = 0;
        UPDATE jobs_log AS j SET settlement = 'committed', settled_position = l.position
            FROM credit_ledger AS l
            WHERE j.reserved > 0 AND l.kind = 'commit' AND l.job_id = j.job_id::text;
        UPDATE jobs_log AS j SET settlement = 'rolled_back', settled_position = l.position
            FROM credit_ledger AS l
            WHERE j.reserved > 0 AND l.kind = 'refund' AND l.reason = 'rolled back'
                AND l.job_id = j.job_id::text;
        UPDATE jobs_log
            SET settlement = CASE WHEN status = 'done' THEN 'committed' ELSE 'rolled_back' END
            WHERE settlement = 'held' AND status IN ('done', 'failed', 'canceled');
        CREATE INDEX jobs_log_execute_deadline_idx ON jobs_log (uploaded_at)
            WHERE status = 'uploaded';
        CREATE INDEX jobs_log_queue_deadline_idx ON jobs_log (queued_at)
            WHERE status = 'queued';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX jobs_log_queue_deadline_idx, jobs_log_execute_deadline_idx;
        ALTER TABLE jobs_log DROP COLUMN settled_position, DROP COLUMN settlement;
        """
    )
