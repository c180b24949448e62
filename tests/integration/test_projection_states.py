"""``projections status`` tells an active instance from standbys and from none running."""

from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.registry import projection_status
from projections.rules.projection import RulesProjection
from tests.conftest import wait_until


def rules_status(dsn):
    return next(row for row in projection_status(dsn) if row["name"] == "rules")


def start(dsn, app, watcher):
    runner = ProjectionRunner(dsn, app, [RulesProjection()], watcher, poll_seconds=0.1)
    return runner.start()


def test_one_instance_is_active_the_others_stand_by_and_none_is_stopped(app, clean_dsn):
    watcher = LogWatcher(clean_dsn).start()
    runners = [start(clean_dsn, app, watcher)]
    try:
        wait_until(lambda: rules_status(clean_dsn)["state"] == "active", what="an active one")
        runners += [start(clean_dsn, app, watcher), start(clean_dsn, app, watcher)]
        first, second, third = runners
        wait_until(lambda: rules_status(clean_dsn)["standbys"] == 2, what="two standbys")
        assert rules_status(clean_dsn)["state"] == "active"

        first.stop()
        wait_until(lambda: rules_status(clean_dsn)["standbys"] == 1, what="one took over")
        assert rules_status(clean_dsn)["state"] == "active"
        second.stop()
        third.stop()
        wait_until(lambda: rules_status(clean_dsn)["state"] == "stopped", what="none running")
        assert rules_status(clean_dsn)["standbys"] == 0
    finally:
        for runner in runners:
            runner.stop()
        watcher.stop()
