"""The use cases' harness: the real command executor on the library's in-memory store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.commands.usercredits import OpenAccount
from eventstore.executor import CommandExecutor


@pytest.fixture
def memory_app() -> Application:
    return Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def commands(memory_app: Application) -> Iterator[CommandExecutor]:
    executor = CommandExecutor(memory_app)
    yield executor
    executor.close()


@pytest.fixture
def run(commands: CommandExecutor) -> Callable[[Any], Any]:
    # One caller at a time: reading what a command returned cannot race another command.
    return lambda command: commands.execute(command).result


@pytest.fixture
def user(run: Callable[[Any], Any]) -> UUID:
    user_id = uuid4()
    run(OpenAccount(user_id, "free", 100))
    return user_id
