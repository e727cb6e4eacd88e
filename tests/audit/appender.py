"""A process appending audit entries, for the tests of concurrent appenders.

    python -m tests.audit.appender --url URL --name a1 --count 40 --go DIR/go

Waits for the `--go` file so that every appender starts at once, then commits `--count`
transactions of one or two entries each; every third transaction also records an entry
inside a savepoint it rolls back, which must leave no trace in the chain.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tests.conftest import OWNER, TEST_SERVER_KEY
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.audit.chain import session_info
from watchbill.audit.service import record
from watchbill.context import Ctx

MAX_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--go", type=Path, required=True)
    args = parser.parse_args()
    db = Database(args.url, pool_size=1, info=session_info(TEST_SERVER_KEY))
    deadline = time.monotonic() + MAX_SECONDS
    while not args.go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never told to go")
        time.sleep(0.005)
    for i in range(args.count):
        with db.transaction() as session:
            ctx = Ctx(session, OWNER, system_clock)
            record(ctx, action="test.append", object_type="Appender", object_id=f"{args.name}-{i}")
            if i % 3 == 0:
                try:
                    with session.begin_nested():
                        record(ctx, action="test.undone", object_type="Appender", object_id="x")
                        raise RuntimeError
                except RuntimeError:
                    pass
            if i % 2 == 0:
                record(
                    ctx, action="test.second", object_type="Appender", object_id=f"{args.name}-{i}"
                )
    db.dispose()


if __name__ == "__main__":
    main()
