"""Read models of jobs and rules: jobs_log, job_items, job_dispatch (worker leases), rules.

Deadlines are read from jobs_log through the partial indexes below: a job waiting for its
upload since ``created_at``, and a running job whose last progress was ``last_progress_at``.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE jobs_log (
            job_id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            preset text NOT NULL,
            status text NOT NULL,
            reason text,
            item_count integer NOT NULL,
            done_items integer NOT NULL DEFAULT 0,
            failed_items integer NOT NULL DEFAULT 0,
            cost_per_item integer NOT NULL,
            reserved integer NOT NULL,
            consumed integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL,
            uploaded_at timestamptz,
            queued_at timestamptz,
            started_at timestamptz,
            finished_at timestamptz,
            last_progress_at timestamptz,
            updated_at timestamptz NOT NULL,
            version bigint NOT NULL
        );
        CREATE INDEX jobs_log_user_idx ON jobs_log (user_id, created_at DESC, job_id DESC);
        CREATE INDEX jobs_log_upload_deadline_idx ON jobs_log (created_at)
            WHERE status = 'created';
        CREATE INDEX jobs_log_stall_deadline_idx ON jobs_log (last_progress_at)
            WHERE status = 'running';
        CREATE TABLE job_items (
            job_id uuid NOT NULL,
            item_index integer NOT NULL,
            outcome text NOT NULL,
            result_key text,
            error text,
            reported_at timestamptz NOT NULL,
            PRIMARY KEY (job_id, item_index)
        );
        CREATE TABLE job_dispatch (
            job_id uuid NOT NULL,
            item_index integer NOT NULL,
            user_id uuid NOT NULL,
            upload_key text NOT NULL,
            queued_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            leased_by text,
            lease_expires_at timestamptz,
            PRIMARY KEY (job_id, item_index)
        );
        CREATE INDEX job_dispatch_queue_idx ON job_dispatch (queued_at, job_id, item_index);
        CREATE TABLE rules (
            rule_id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            name text NOT NULL,
            preset text NOT NULL,
            params jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            version bigint NOT NULL
        );
        CREATE INDEX rules_user_idx ON rules (user_id, created_at, rule_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE rules, job_dispatch, job_items, jobs_log;")
