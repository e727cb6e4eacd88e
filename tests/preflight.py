"""Run by `make test` before pytest: says plainly what the suite needs and what is missing."""

from __future__ import annotations

import os
import shutil
import sys

CHECKS = [
    ("chromium", "WATCHBILL_REQUIRE_BROWSER", "browser tests", "apt-get install chromium"),
    (
        "prometheus-alertmanager",
        "WATCHBILL_REQUIRE_ALERTMANAGER",
        "Alertmanager compatibility tests",
        "apt-get install prometheus-alertmanager",
    ),
    (
        "promtool",
        "WATCHBILL_REQUIRE_PROMTOOL",
        "Prometheus rule tests",
        "apt-get install prometheus",
    ),
]


def main() -> int:
    problems = 0
    for binary, required_by, what, fix in CHECKS:
        if shutil.which(binary):
            continue
        if os.environ.get(required_by) == "1":
            print(f"MISSING: {binary} (needed for {what}): {fix}", file=sys.stderr)
            problems += 1
        else:
            print(f"note: {binary} not found, {what} will be skipped ({fix})")
    if os.environ.get("WATCHBILL_TEST_DATABASE_URL"):
        print(f"PostgreSQL tests: {os.environ['WATCHBILL_TEST_DATABASE_URL']}")
    elif os.environ.get("WATCHBILL_REQUIRE_POSTGRES") == "1":
        print(
            "MISSING: WATCHBILL_TEST_DATABASE_URL (PostgreSQL tests are required)", file=sys.stderr
        )
        problems += 1
    else:
        print(
            "note: WATCHBILL_TEST_DATABASE_URL is unset: PostgreSQL tests will be skipped "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
