"""Every projection Chronicle runs, by name."""

from projections.creditledger import CreditLedgerProjection
from projections.runner import Projection
from projections.usersummary import UserSummaryProjection


def all_projections() -> list[Projection]:
    """One instance of each projection, in the order they are started."""
    return [UserSummaryProjection(), CreditLedgerProjection()]
