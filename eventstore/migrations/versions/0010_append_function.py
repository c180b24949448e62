"""``chronicle_append_events``: the whole append as one statement, so one round trip.

The recorder (``eventstore/recorder.py``) calls it in autocommit. It takes the same
``LOCK TABLE chronicle_events IN EXCLUSIVE MODE`` as before, so commit order still equals
``notification_id`` order and a reader of ``notification_id > position`` never skips a late
commit; but the lock is now taken and released inside the server (the statement's implicit
transaction), instead of being held across three round trips. It notifies the events channel
once per append, inserts the events and the idempotency outcomes, and returns the events'
notification ids in the order given.

Each outcome is stored with ``position``: the largest notification id among its command's
events, given as pairs (outcome number from 1, event index from 0); null if it has none. A key
stored before, or an ``(originator_id, originator_version)`` stored before, fails the whole
statement with a unique violation (nothing is written). ``lock_wait`` is the lock timeout
(``'0s'``: wait forever), local to the append. With no events, nothing is locked or notified.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SIGNATURE = (
    "chronicle_append_events(text, uuid[], bigint[], text[], bytea[], text[], text[], jsonb[], "
    "integer[], integer[])"
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION chronicle_append_events(
            lock_wait text,
            originator_ids uuid[],
            originator_versions bigint[],
            topics text[],
            states bytea[],
            outcome_keys text[],
            outcome_fingerprints text[],
            outcomes jsonb[],
            outcome_numbers integer[],
            outcome_event_indexes integer[]
        ) RETURNS bigint[]
        LANGUAGE plpgsql AS $$
        DECLARE
            ids bigint[] := '{}';
        BEGIN
            IF cardinality(originator_ids) > 0 THEN
                PERFORM set_config('lock_timeout', lock_wait, true);
                LOCK TABLE chronicle_events IN EXCLUSIVE MODE;
                NOTIFY chronicle_events;
                WITH inserted AS (
                    INSERT INTO chronicle_events (originator_id, originator_version, topic, state)
                    SELECT * FROM unnest(originator_ids, originator_versions, topics, states)
                    RETURNING originator_id, originator_version, notification_id
                )
                SELECT array_agg(inserted.notification_id ORDER BY given.n) INTO ids
                FROM unnest(originator_ids, originator_versions)
                    WITH ORDINALITY AS given (id, version, n)
                JOIN inserted
                    ON inserted.originator_id = given.id
                    AND inserted.originator_version = given.version;
            END IF;
            IF cardinality(outcome_keys) > 0 THEN
                WITH positions AS (
                    SELECT pair.number, max(ids[pair.event_index + 1]) AS position
                    FROM unnest(outcome_numbers, outcome_event_indexes)
                        AS pair (number, event_index)
                    GROUP BY pair.number
                )
                INSERT INTO command_idempotency (key, fingerprint, outcome)
                SELECT
                    given.key,
                    given.fingerprint,
                    given.outcome || jsonb_build_object('position', positions.position)
                FROM unnest(outcome_keys, outcome_fingerprints, outcomes)
                    WITH ORDINALITY AS given (key, fingerprint, outcome, n)
                LEFT JOIN positions ON positions.number = given.n;
            END IF;
            RETURN ids;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE};")
