"""``rules``: each user's live rules (a deleted rule leaves the table)."""

from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.rule import Rule

INSERT = """
    INSERT INTO rules (rule_id, user_id, name, preset, params, created_at, updated_at, version)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""
UPDATE = """
    UPDATE rules SET name = %s, preset = %s, params = %s, updated_at = %s, version = %s
    WHERE rule_id = %s
"""


class RulesProjection:
    """Keeps ``rules`` equal to the fold of the Rule events."""

    name = "rules"
    tables = ("rules",)  # what a rebuild recreates
    handles = (Rule.Event,)  # the events it applies; the others are not even decoded

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        rule_id, at, version = event.originator_id, event.timestamp, event.originator_version
        if isinstance(event, Rule.Created):
            cur.execute(
                INSERT,
                (
                    rule_id,
                    event.user_id,
                    event.name,
                    event.preset,
                    Jsonb(event.params),
                    at,
                    at,
                    version,
                ),
            )
        elif isinstance(event, Rule.Updated):
            cur.execute(
                UPDATE, (event.name, event.preset, Jsonb(event.params), at, version, rule_id)
            )
        elif isinstance(event, Rule.Deleted):
            cur.execute("DELETE FROM rules WHERE rule_id = %s", (rule_id,))
