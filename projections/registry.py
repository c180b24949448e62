"""Every projection and process manager Chronicle runs, by name."""

from eventstore.executor import CommandExecutor
from projections.creditledger import CreditLedgerProjection
from projections.jobs import JobsProjection
from projections.rules import RulesProjection
from projections.runner import Projection
from projections.settlement import JobSettlement
from projections.usersummary import UserSummaryProjection


def all_projections(executor: CommandExecutor) -> list[Projection]:
    """One instance of each, in the order they are started; process managers use ``executor``."""
    return [
        UserSummaryProjection(),
        CreditLedgerProjection(),
        JobsProjection(),
        RulesProjection(),
        JobSettlement(executor),
    ]
