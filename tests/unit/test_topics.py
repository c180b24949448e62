"""Every stored name is pinned in eventstore/topics.py, and every pinned name resolves."""

import importlib
import inspect
import pkgutil

import pytest
from eventsourcing.domain import Aggregate as LibraryAggregate
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

import domain
from domain import base
from eventstore.topics import TOPICS, moved_topics, pin_topics

# Bases that are never stored themselves: only their subclasses are.
NEVER_STORED = {base.Aggregate, base.Aggregate.Event, base.Aggregate.Created}


def domain_classes():
    """Every aggregate and event class defined in a module of ``domain``, nested ones included."""
    found = set()

    def visit(owner):
        for value in vars(owner).values():
            if inspect.isclass(value) and value.__module__.startswith("domain"):
                if value not in found:
                    found.add(value)
                    visit(value)

    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        visit(importlib.import_module(module.name))
    stored = {cls for cls in found if issubclass(cls, LibraryAggregate | DomainEvent)}
    # The library gives each aggregate a base ``Event`` of its own; only subclasses are stored.
    bases = {cls.Event for cls in stored if issubclass(cls, LibraryAggregate)}
    return stored - bases - NEVER_STORED


def test_the_walk_finds_the_aggregates_and_their_events():
    names = {cls.__qualname__ for cls in domain_classes()}

    assert {"UserCredits", "Job.ItemSucceeded", "Rule.Deleted"} <= names


@pytest.mark.parametrize("cls", sorted(domain_classes(), key=get_topic), ids=get_topic)
def test_every_domain_class_is_pinned_under_the_name_it_is_written_with(cls):
    assert TOPICS.get(get_topic(cls)) is cls, f"add {get_topic(cls)!r} to eventstore/topics.py"


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_pinned_topic_resolves_to_its_class(topic):
    pin_topics()

    assert resolve_topic(topic) is TOPICS[topic]


def test_snapshots_are_pinned_under_the_library_name_they_are_stored_with():
    from eventsourcing.domain import Snapshot

    assert TOPICS[get_topic(Snapshot)] is Snapshot


def test_a_moved_class_is_registered_under_its_old_name():
    class Moved(base.Aggregate.Event):
        pass

    old = "domain.gone:Elsewhere.Moved"
    TOPICS[old] = Moved
    try:
        assert moved_topics()[old] is Moved
        pin_topics()
        assert resolve_topic(old) is Moved
    finally:
        del TOPICS[old]
