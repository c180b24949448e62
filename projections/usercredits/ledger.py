"""``credit_ledger``: one row per grant, reservation, commit and refund (D1's billing_events).

``delta`` is the change to the available balance, so a user's balance is the sum of
their deltas; ``amount`` is the magnitude the row is about (a commit's consumed credits).
"""

from typing import Any

from psycopg import Cursor

from domain.usercredits import UserCredits

INSERT = """
    INSERT INTO credit_ledger (position, user_id, kind, job_id, amount, delta, reason, actor,
        occurred_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


class CreditLedgerProjection:
    """Appends the ledger rows of each UserCredits event."""

    name = "credit_ledger"
    tables = ("credit_ledger",)  # what a rebuild recreates
    handles = (UserCredits.Event,)  # the events it applies; the others are not even decoded

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        for kind, job_id, amount, delta, reason in _rows(event):
            cur.execute(
                INSERT,
                (
                    position,
                    event.originator_id,
                    kind,
                    job_id,
                    amount,
                    delta,
                    reason,
                    event.metadata.get("actor", "system"),
                    event.timestamp,
                ),
            )


Row = tuple[str, str | None, int, int, str | None]  # kind, job_id, amount, delta, reason


def _rows(event: Any) -> list[Row]:
    if isinstance(event, UserCredits.Created):
        return [("grant", None, event.credits, event.credits, "signup")] if event.credits else []
    if isinstance(event, UserCredits.Granted):
        return [("grant", None, event.amount, event.amount, event.reason)]
    if isinstance(event, UserCredits.Reserved):
        return [("reservation", event.job_id, event.amount, -event.amount, None)]
    if isinstance(event, UserCredits.Committed):
        rows: list[Row] = [("commit", event.job_id, event.consumed, 0, None)]
        if event.refunded:
            rows.append(("refund", event.job_id, event.refunded, event.refunded, "unused"))
        return rows
    if isinstance(event, UserCredits.RolledBack):
        return [("refund", event.job_id, event.refunded, event.refunded, "rolled back")]
    return []
