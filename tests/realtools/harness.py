"""Real tools beside a real `watchbill serve`: Alertmanager, PagerDuty's client, kill -9.

The server comes from tests/e2e/server.py (`db upgrade`, then `serve` on a free loopback
port); here we add a service with an Alertmanager and an Events API v2 integration, read
its keys and ids back from the database, and look at the database
directly with SQLAlchemy. Everything waits with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.e2e.server import Server, free_port, run_cli, running_server, stop

SERVICE = "api"
PD_KEY = "0123456789abcdef0123456789abcdef"
SERVICE_YAML = f"""\
apiVersion: watchbill/v1
kind: Service
metadata: {{name: {SERVICE}}}
spec:
  tier: 1
  grouping: {{by: [alertname]}}
  integrations:
    - {{name: prom, type: alertmanager}}
    - {{name: pd, type: events-v2, key: {PD_KEY}}}
"""
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
REQUIRE_ALERTMANAGER = "WATCHBILL_REQUIRE_ALERTMANAGER"


@dataclass
class Watchbill:
    """A running server with the `api` service applied, and its integration keys."""

    server: Server
    keys: dict[str, str]  # integration name -> key
    ids: dict[str, int]  # integration name -> id
    engine: Engine

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def count(self, sql: str, **params: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one() or 0)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())


def database_url(data_dir: Path) -> str:
    """Where `watchbill serve` keeps its SQLite database when no URL is configured."""
    return f"sqlite:///{data_dir / 'watchbill.db'}"


def apply_service(extra_env: dict[str, str] | None = None) -> Callable[[dict[str, str]], None]:
    """For `running_server(prepare=...)`: apply the `api` service, set extra server env."""

    def prepare(env: dict[str, str]) -> None:
        spec = Path(env["WATCHBILL_DATA_DIR"]).parent / "service.yaml"
        spec.write_text(SERVICE_YAML, encoding="utf-8")
        run_cli(env, "apply", "-f", str(spec))
        # The same dict becomes the environment of `watchbill serve`.
        env.update(extra_env or {})

    return prepare


@contextlib.contextmanager
def watchbill(
    data_dir: Path,
    *,
    tls: tuple[Path, Path] | None = None,
    extra_env: dict[str, str] | None = None,
    worker: bool = True,
    restart: bool = False,
) -> Iterator[Watchbill]:
    """`watchbill serve` on a SQLite data directory with the `api` service applied.

    With `restart=True` the directory is a previous server's: the service is not applied
    again (CLI calls cost seconds on a busy machine), the database is used as it is.
    """
    prepare = (lambda env: env.update(extra_env or {})) if restart else apply_service(extra_env)
    with running_server(data_dir, tls=tls, worker=worker, prepare=prepare) as server:
        engine = create_engine(database_url(data_dir))
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT name, id, key FROM integrations")).all()
        try:
            yield Watchbill(
                server, {r.name: r.key for r in rows}, {r.name: r.id for r in rows}, engine
            )
        finally:
            engine.dispose()


# ------------------------------------------------------------------ Alertmanager
def alertmanager_binary() -> str:
    """Debian's Alertmanager, or a skip (a failure when WATCHBILL_REQUIRE_ALERTMANAGER=1)."""
    found = ALERTMANAGER_BIN if os.access(ALERTMANAGER_BIN, os.X_OK) else None
    found = found or shutil.which("prometheus-alertmanager")
    if found:
        return found
    reason = f"{ALERTMANAGER_BIN} is missing (apt-get install prometheus-alertmanager)"
    if os.environ.get(REQUIRE_ALERTMANAGER) == "1":
        pytest.fail(f"{reason} but {REQUIRE_ALERTMANAGER}=1")
    pytest.skip(reason)


@dataclass
class Alertmanager:
    base_url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def alertmanager(binary: str, workdir: Path, config: str) -> Iterator[Alertmanager]:
    """Alertmanager on a free loopback port, clustering off, state in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "alertmanager.yml"
    config_file.write_text(config, encoding="utf-8")
    log = workdir / "alertmanager.log"
    for _attempt in range(3):
        port = free_port()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_file}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                    f"--storage.path={workdir / 'data'}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        am = Alertmanager(f"http://127.0.0.1:{port}", proc, log)
        if _wait_ready(am, 20.0):
            break
        stop(proc)  # type: ignore[arg-type]
        if "address already in use" not in am.output():
            raise RuntimeError(f"Alertmanager did not start:\n{am.output()}")
    else:
        raise RuntimeError(f"Alertmanager found no free port:\n{am.output()}")
    try:
        yield am
    finally:
        stop(proc)  # type: ignore[arg-type]


def _wait_ready(am: Alertmanager, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if am.proc.poll() is not None:
            return False
        try:
            if httpx.get(f"{am.base_url}/-/ready", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False
