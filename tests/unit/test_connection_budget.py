"""The connection budget: what a configuration can hold at most, and whether a server admits it."""

import pytest

from eventstore.connections import (
    OPERATOR_MARGIN,
    ConnectionBudgetExceeded,
    ConnectionPlan,
    ServerCapacity,
    check_fits,
    embedded_max_connections,
)

SERVE = {"consumers": 10, "reactors": 3}  # seven projections and three reactors


def test_an_api_process_holds_at_most_two_pools_of_its_threads_plus_writers_and_watcher():
    plan = ConnectionPlan(threads=32, workers=1, consumers=0, reactors=0)

    # 2 + 32 in the event store's pool, 32 in the query pool, 1 LISTEN.
    assert plan.total == 67


def test_serve_with_workers_counts_the_consumers_once_in_a_parent_without_requests():
    plan = ConnectionPlan(threads=32, workers=3, **SERVE)

    parent = plan.process(serves_requests=False, runs_consumers=True)
    # Event store 2 + 10 + 1 (deadlines), queries 3 + 1, LISTEN 1, one per consumer 10.
    assert parent == 28
    assert plan.total == 3 * 67 + 28


def test_the_projectors_alone_hold_no_request_threads():
    plan = ConnectionPlan(threads=32, workers=0, **SERVE)  # `chronicle projections run`

    assert plan.total == plan.process(serves_requests=False, runs_consumers=True) == 28


def test_a_plan_that_fits_the_server_passes():
    plan = ConnectionPlan(threads=32, workers=1, **SERVE)

    check_fits(plan, ServerCapacity(max_connections=plan.total + 3 + OPERATOR_MARGIN, reserved=3))


def test_a_plan_over_the_server_is_refused_naming_both_numbers_and_threads_that_fit():
    plan = ConnectionPlan(threads=32, workers=3, **SERVE)

    with pytest.raises(ConnectionBudgetExceeded) as refused:
        check_fits(plan, ServerCapacity(max_connections=100, reserved=3))

    message = str(refused.value)
    assert f"hold {plan.total} database connections" in message
    assert "admits 92 (max_connections 100 less 3 reserved" in message
    # 3 × (2 + 2 × 9 + 1) + 28 = 91 fits in 92; ten threads would need 97.
    assert "CHRONICLE_THREADS=9 would fit" in message
    assert f"max_connections to {plan.total + 3 + OPERATOR_MARGIN}" in message


def test_a_plan_that_no_thread_count_fits_says_so():
    plan = ConnectionPlan(threads=4, workers=8, **SERVE)

    with pytest.raises(ConnectionBudgetExceeded, match="no number of threads fits"):
        check_fits(plan, ServerCapacity(max_connections=30, reserved=3))


def test_the_embedded_server_is_sized_to_hold_the_plan_and_never_below_the_default():
    four = ConnectionPlan(threads=32, workers=4, **SERVE)
    small = ConnectionPlan(threads=2, workers=1, consumers=0, reactors=0)

    assert ServerCapacity(embedded_max_connections(four), reserved=3).available >= four.total
    assert embedded_max_connections(small) == 100
