"""What is an outage (pause and try the same event again) and what is the event's fault.

A consumer that meets an outage pauses and tries the same event again; any other error is the
event's fault, a poison event: a projection stops at it (``failed``, with its error), a reactor
parks it. Telling them apart by exception class is wrong: psycopg files errors about the event
itself under ``OperationalError`` too (``ProgramLimitExceeded``, SQLSTATE 54000, a value too
long for a b-tree index), and retrying one of those is an outage that never ends, unseen.

So the SQLSTATE decides, when there is one (on the error or on what it wraps):

- ``08``    connection exception: the server is gone or refused us;
- ``57P01`` admin shutdown, ``57P02`` crash shutdown, ``57P03`` cannot connect now (starting);
- ``53``    insufficient resources: disk full, out of memory, too many connections;
- ``58``    system error outside PostgreSQL (an I/O error);
- ``40001`` serialization failure, ``40P01`` deadlock detected: the same work succeeds again;
- ``55P03`` lock not available;
- ``25006`` read-only transaction: a failover left us on a standby.

Everything else with a SQLSTATE is the event's fault, including ``54`` (program limit exceeded),
``22`` (data exception), ``23`` (integrity) and ``57014`` (query canceled: a statement that
times out on an event would time out on every try).

With no SQLSTATE, a psycopg ``OperationalError`` or ``InterfaceError`` is a connection that
failed or closed on the client side (and a pool timeout), an outage; the event store's own
``OperationalError`` / ``InterfaceError`` wrap psycopg's and are judged by what they wrap.
``Unavailable`` (a dependency such as the search engine is down) is always an outage.
"""

from __future__ import annotations

import psycopg
from eventsourcing import persistence

from domain.errors import Unavailable

OUTAGE_CLASSES = ("08", "53", "58")
OUTAGE_STATES = ("57P01", "57P02", "57P03", "40001", "40P01", "55P03", "25006")


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is no fault of the event: the consumer pauses and tries it again."""
    if isinstance(exc, Unavailable):
        return True
    error = _psycopg_error(exc)
    if error is None:
        return isinstance(exc, (persistence.OperationalError, persistence.InterfaceError))
    state = error.sqlstate
    if state is None:
        return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))
    return state[:2] in OUTAGE_CLASSES or state in OUTAGE_STATES


def _psycopg_error(exc: BaseException) -> psycopg.Error | None:
    """``exc`` itself or the psycopg error it wraps (through ``raise … from``), if any."""
    seen: BaseException | None = exc
    for _ in range(5):  # a chain is short; never follow a cycle
        if seen is None:
            return None
        if isinstance(seen, psycopg.Error):
            return seen
        seen = seen.__cause__
    return None
