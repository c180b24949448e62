"""Every projection and process manager Chronicle runs, by name."""

from eventstore.executor import CommandExecutor
from projections.reactors.settlement import JobSettlement
from projections.readmodels.creditledger import CreditLedgerProjection
from projections.readmodels.jobs import JobsProjection
from projections.readmodels.rules import RulesProjection
from projections.readmodels.usersummary import UserSummaryProjection
from projections.runner import Projection


def all_projections(executor: CommandExecutor) -> list[Projection]:
    """One instance of each, in the order they are started; process managers use ``executor``."""
    return [
        UserSummaryProjection(),
        CreditLedgerProjection(),
        JobsProjection(),
        RulesProjection(),
        JobSettlement(executor),
    ]
