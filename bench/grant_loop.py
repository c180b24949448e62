"""One client's grants through the executor, for comparing two revisions at the same moment.

Run it from a checkout of each revision, interleaved (the machine is shared and noisy):

    .venv/bin/python -m bench.grant_loop new
    (cd ../other-checkout && /path/to/.venv/bin/python -m bench.grant_loop old)

It prints the label and five rates (500 ``GrantCredits`` on one user each, fresh embedded
PostgreSQL), sorted. Revisions before the named commands (closures in domain.commands) work too.
"""

import pathlib
import sys
import tempfile
import time
import uuid

from eventstore.application import open_application
from eventstore.database import Database
from eventstore.executor import CommandExecutor
from eventstore.migrate import migrate

try:
    from domain.commands.usercredits import GrantCredits, OpenAccount

    def opening(user_id: uuid.UUID) -> object:
        return OpenAccount(user_id, "free", 1)

    def granting(user_id: uuid.UUID) -> object:
        return GrantCredits(user_id, 1, "bench")
except ImportError:  # an earlier revision: commands were closures
    from domain.commands.usercredits import grant_credits, open_account  # type: ignore

    def opening(user_id: uuid.UUID) -> object:
        return open_account(user_id, "free", 1)

    def granting(user_id: uuid.UUID) -> object:
        return grant_credits(user_id, 1, "bench")


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "this"
    with Database(None, pathlib.Path(tempfile.mkdtemp(prefix="chronicle-bench-"))) as db:
        migrate(db.dsn)
        app = open_application(db.dsn)
        executor = CommandExecutor(app)
        user_id = uuid.uuid4()
        executor.execute(opening(user_id))  # type: ignore[arg-type]
        rates = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(500):
                executor.execute(granting(user_id))  # type: ignore[arg-type]
            rates.append(500 / (time.perf_counter() - start))
        print(label, sorted(int(rate) for rate in rates))
        executor.close()
        app.close()


if __name__ == "__main__":
    main()
