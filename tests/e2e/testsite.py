"""Helpers of the test site's HTTP tests: tests made and published through the executor."""

import uuid

from domain.commands.testdocument import CreateTestDocument, PublishTestDocument
from tests.unit.documents import document

META = {"actor": "ann", "correlation_id": "test", "causation_id": "test"}
FED = ["test_catalog", "test_search", "test_cache_purge"]  # what a save feeds


def run(services, command):
    return services.executor.execute(command, metadata=META)


def caught_up(services, position, names=FED):
    assert services.watcher.wait_for_position(names, position, 30), f"{names} behind {position}"


def published(services, **fields):
    """A new published test's id, once everything it feeds shows it."""
    test_id = uuid.uuid4()
    run(services, CreateTestDocument(test_id, document(**fields)))
    caught_up(services, run(services, PublishTestDocument(test_id)).position)
    return test_id
