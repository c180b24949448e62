"""``chronicle_append_batch``: the append's batch as one JSON parameter, unpacked in the server.

The recorder used to pass ``chronicle_append_events`` (migration 0010) nine arrays, and psycopg
spent about a fifth of the writer's client CPU per event adapting them element by element. Now
it sends one ``jsonb`` document, made by one ``orjson.dumps``::

    {"events": [[originator_id, originator_version, topic, state in base64], ...],
     "outcomes": [[key, fingerprint, outcome, [event_index, ...]], ...]}

This function rebuilds the nine arrays in event order (``WITH ORDINALITY``) and calls
``chronicle_append_events``, which stays the one place that locks, notifies, inserts and
positions the outcomes: the guarantees are its own. A state travels in base64 so that the
stored bytes are the recorder's bytes whatever they hold (the JSON of any text, or a compressed
or encrypted state). An outcome's number is its place in ``outcomes``, from 1.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

SIGNATURE = "chronicle_append_batch(text, jsonb)"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION chronicle_append_batch(lock_wait text, batch jsonb) RETURNS bigint[]
        LANGUAGE plpgsql AS $$
        DECLARE
            originator_ids uuid[];
            originator_versions bigint[];
            topics text[];
            states bytea[];
            outcome_keys text[];
            outcome_fingerprints text[];
            outcomes jsonb[];
            outcome_numbers integer[];
            outcome_event_indexes integer[];
        BEGIN
            SELECT
                coalesce(array_agg((given.event->>0)::uuid ORDER BY given.n), '{}'),
                coalesce(array_agg((given.event->>1)::bigint ORDER BY given.n), '{}'),
                coalesce(array_agg(given.event->>2 ORDER BY given.n), '{}'),
                coalesce(array_agg(decode(given.event->>3, 'base64') ORDER BY given.n), '{}')
            INTO originator_ids, originator_versions, topics, states
            FROM jsonb_array_elements(batch->'events') WITH ORDINALITY AS given (event, n);
            SELECT
                coalesce(array_agg(given.outcome->>0 ORDER BY given.n), '{}'),
                coalesce(array_agg(given.outcome->>1 ORDER BY given.n), '{}'),
                coalesce(array_agg(given.outcome->2 ORDER BY given.n), '{}')
            INTO outcome_keys, outcome_fingerprints, outcomes
            FROM jsonb_array_elements(batch->'outcomes') WITH ORDINALITY AS given (outcome, n);
            SELECT
                coalesce(array_agg(given.n::integer), '{}'),
                coalesce(array_agg(event_index::integer), '{}')
            INTO outcome_numbers, outcome_event_indexes
            FROM jsonb_array_elements(batch->'outcomes') WITH ORDINALITY AS given (outcome, n)
            CROSS JOIN jsonb_array_elements_text(given.outcome->3) AS event_index;
            RETURN chronicle_append_events(
                lock_wait, originator_ids, originator_versions, topics, states,
                outcome_keys, outcome_fingerprints, outcomes,
                outcome_numbers, outcome_event_indexes
            );
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE};")
