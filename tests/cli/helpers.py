"""Running the real `watchbill` command as a subprocess, the way an operator does."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("watchbill")
COMMAND = (
    [str(SCRIPT)]
    if SCRIPT.is_file()
    else [sys.executable, "-c", "from watchbill.app.cli import main; main()"]
)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def run(
    *args: str, data_dir: Path, database_url: str | None = None, stdin: str | None = None
) -> Result:
    """`watchbill ARGS...` with its own data directory (and database, if given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env["WATCHBILL_DATA_DIR"] = str(data_dir)
    env["WATCHBILL_LOG_LEVEL"] = "warning"
    if database_url:
        env["WATCHBILL_DATABASE_URL"] = database_url
    proc = subprocess.run(
        [*COMMAND, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
