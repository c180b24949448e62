"""Plans and their limits: policy, looked up by name when a rule is checked."""

from dataclasses import dataclass

from domain.errors import InvalidCommand


@dataclass(frozen=True)
class Plan:
    """The limits a plan grants a user."""

    name: str
    max_concurrent_jobs: int
    rule_slots: int


PLANS: dict[str, Plan] = {
    "free": Plan("free", max_concurrent_jobs=2, rule_slots=2),
    "pro": Plan("pro", max_concurrent_jobs=20, rule_slots=20),
}


def get_plan(name: str) -> Plan:
    """The plan called ``name``, or InvalidCommand naming the known ones."""
    try:
        return PLANS[name]
    except KeyError:
        known = ", ".join(sorted(PLANS))
        raise InvalidCommand(f"unknown plan {name!r}; known plans: {known}") from None
