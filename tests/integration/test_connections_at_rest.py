"""An API process opens what it uses: a connection per pool and the LISTEN, not their maxima."""

import psycopg

from api.bootstrap import services

HELD = (
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
    "AND datname = current_database() AND pid <> pg_backend_pid()"
)


def held(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(HELD).fetchone()
    return int(row[0]) if row else 0


def test_an_api_process_at_rest_holds_a_few_connections_not_its_pools_maxima(clean_dsn, settings):
    with services(settings, clean_dsn) as built:
        built.reads.wait()  # the query pool has opened its minimum
        at_rest = held(clean_dsn)

    # Its event-store and query connections, the LISTEN one, and at most two that start-up
    # work grew (its pools may grow to 67 under load); the event store's pool alone used to
    # open threads + 4 = 36 here.
    assert at_rest <= 5
