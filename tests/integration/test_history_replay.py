"""`chronicle events replay` and the README's fold, on real PostgreSQL."""

import json
import re
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from api.cli import cli
from domain.commands import job as jobs
from domain.commands import usercredits as credits
from eventstore.history import read_events
from tests.conftest import TEST_SECRET
from tests.fakes import SHIPPED
from tests.integration.test_history_export import (
    ALICE,
    GONE_TOPIC,
    insert_gone_event,
    make_history,
    stored_log,
)

README = Path(__file__).parents[2] / "README.md"
FOLDS = """
def positions(events):
    return [event.position for event in events]


def types_seen(events):
    return {event.event_type for event in events}


def last_topic(events):
    return [event.topic for event in events][-1]
"""


def readme_examples() -> list[str]:
    """The python blocks of the README's "History for analysts" section, in order."""
    section = README.read_text().split("## History for analysts")[1].split("\n## ")[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def analyst_dir(tmp_path, monkeypatch) -> Path:
    """A working directory holding the README's fold and a few more; imports undone after."""
    fold, _ = readme_examples()
    (tmp_path / "credits_report.py").write_text(fold)
    (tmp_path / "folds_here.py").write_text(FOLDS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("credits_report", "folds_here"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def spend(executor) -> None:
    """Two jobs settled (4 credits on upscale-4x, 2 on portrait), one rolled back."""
    user, big, small, dropped = uuid4(), uuid4(), uuid4(), uuid4()
    executor.execute(credits.OpenAccount(user, "pro", 50), metadata=ALICE)
    executor.execute(jobs.CreateJob(big, user, "upscale-4x", 3, SHIPPED), metadata=ALICE)
    executor.execute(jobs.CreateJob(small, user, "portrait", 2, SHIPPED), metadata=ALICE)
    executor.execute(jobs.CreateJob(dropped, user, "portrait", 5, SHIPPED), metadata=ALICE)
    executor.execute(credits.CommitCredits(user, str(big), 4))
    executor.execute(credits.CommitCredits(user, str(small), 2))
    executor.execute(credits.RollbackCredits(user, str(dropped)))


def replay(dsn, *args):
    env = {"CHRONICLE_DATABASE_URL": dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}
    return CliRunner().invoke(cli, ["events", "replay", *args], env=env)


def expected_spend(dsn) -> dict[str, dict[str, int]]:
    """What the README's fold must answer for ``spend``: both commits fall on one day."""
    commits = read_events(dsn, event_types=["UserCredits.Committed"])
    days = {event.recorded_at.date().isoformat() for event in commits}
    assert len(days) == 1  # the two commits were a moment apart (not across midnight)
    return {days.pop(): {"upscale-4x": 4, "portrait": 2}}


def test_replay_prints_the_readme_folds_result_as_json(executor, clean_dsn, analyst_dir):
    spend(executor)
    result = replay(
        clean_dsn,
        "--to",
        "credits_report:consumed_per_preset_per_day",
        "--event-type",
        "Job.Created",
        "--event-type",
        "UserCredits.Committed",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_spend(clean_dsn)


def test_the_readme_notebook_example_runs_as_written(
    executor, clean_dsn, analyst_dir, monkeypatch, capsys
):
    spend(executor)
    _, notebook = readme_examples()
    monkeypatch.setenv("CHRONICLE_DATABASE_URL", clean_dsn)
    monkeypatch.syspath_prepend(str(analyst_dir))
    exec(compile(notebook, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == str(expected_spend(clean_dsn))


def test_the_fold_gets_every_event_once_in_log_order(executor, clean_dsn, analyst_dir):
    make_history(executor)
    result = replay(clean_dsn, "--to", "folds_here:positions")
    assert json.loads(result.stdout) == [row[0] for row in stored_log(clean_dsn)]
    log = stored_log(clean_dsn)
    result = replay(clean_dsn, "--to", "folds_here:positions", "--from-position", str(log[2][0]))
    assert json.loads(result.stdout) == [row[0] for row in log[2:]]


def test_a_result_that_is_not_json_is_printed_as_its_repr(executor, clean_dsn, analyst_dir):
    make_history(executor)
    result = replay(clean_dsn, "--to", "folds_here:types_seen", "--aggregate-type", "Rule")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "{'Rule.Created'}"


def test_an_event_whose_class_is_gone_is_replayed_with_its_topic(executor, clean_dsn, analyst_dir):
    make_history(executor)
    insert_gone_event(clean_dsn)
    result = replay(clean_dsn, "--to", "folds_here:last_topic")
    assert json.loads(result.stdout) == GONE_TOPIC


@pytest.mark.parametrize(
    ("target", "complaint"),
    [
        ("no_colon_here", "is not module:function"),
        ("no_such_module_anywhere:fold", "cannot import module 'no_such_module_anywhere'"),
        ("folds_here:missing", "has no function 'missing'"),
    ],
)
def test_a_bad_fold_name_exits_2_saying_why(clean_dsn, analyst_dir, target, complaint):
    result = replay(clean_dsn, "--to", target)
    assert result.exit_code == 2 and complaint in result.output
