"""A real `watchbill serve` in a subprocess, for end-to-end, browser and screenshot runs.

Everything goes through the installed `watchbill` command, exactly as an operator would
run it: `db upgrade`, then `serve` on a free loopback port from a fresh data directory.
Readiness is polled with a deadline (never a fixed sleep), and stopping escalates from
SIGTERM to SIGKILL so a wedged server cannot hang the test run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "demo"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
SETUP_LINK = re.compile(r"(https?://\S+/setup\?token=\S+)")
WORKER_READY = re.compile(r"watchbill worker: \d+ thread")

T = TypeVar("T")


def watchbill_command() -> list[str]:
    """The console script installed beside this interpreter (the one `make` installs)."""
    script = Path(sys.executable).parent / "watchbill"
    if script.exists():
        return [str(script)]
    found = shutil.which("watchbill")
    if found:
        return [found]
    return [sys.executable, "-c", "from watchbill.app.cli import main; main()"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    data_dir: Path, database_url: str | None = None, extra_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of the server and of CLI calls against it: nothing inherited from
    the developer's own WATCHBILL_* settings, unbuffered output so the setup link is seen,
    then `extra_env` (SMTP, secret key, worker tuning) for the server and its CLI alike."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env.update(
        WATCHBILL_DATA_DIR=str(data_dir),
        WATCHBILL_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["WATCHBILL_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    return env


def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def run_cli(
    env: dict[str, str], *args: str, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*watchbill_command(), *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"watchbill {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@dataclass
class Server:
    """A running server: its URL, its environment (for CLI calls) and its output so far."""

    base_url: str
    env: dict[str, str]
    data_dir: Path
    proc: subprocess.Popen[str]
    verify: object = True
    output: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _admin: str | None = None

    @property
    def database_url(self) -> str:
        """The database this server uses, for tests that look at its rows directly."""
        configured = self.env.get("WATCHBILL_DATABASE_URL")
        return configured or f"sqlite:///{self.data_dir / 'watchbill.db'}"

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(self.env, *args, input=input, check=check)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no lease given back, as in a power cut."""
        self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)

    def token(self, role: str, name: str | None = None, user: str | None = None) -> str:
        """A new API token made with `watchbill tokens create`, for `user` or else a service
        account; the secret is the last line."""
        name = name or f"{role}-{uuid.uuid4().hex[:8]}"
        owner = ["--user", user] if user else ["--service-account"]
        out = self.cli("tokens", "create", "--name", name, "--role", role, *owner).stdout
        return out.strip().splitlines()[-1]

    def admin_token(self) -> str:
        """One admin token per server, made with the CLI on first use."""
        if self._admin is None:
            self._admin = self.token("admin", name="e2e-admin")
        return self._admin

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.base_url,
            headers=headers,
            verify=self.verify,  # type: ignore[arg-type]
            timeout=10.0,
            **kwargs,  # type: ignore[arg-type]
        )

    def text(self) -> str:
        with self._lock:
            return "".join(self.output)

    def wait_for_output(self, pattern: re.Pattern[str], timeout: float = 10.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = pattern.search(self.text())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern.pattern!r} not in server output:\n{self.text()}")

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.output.append(line)


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | str = "no attempt"
    with server.client() as http:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(
                    f"watchbill serve exited {server.proc.returncode}:\n{server.text()}"
                )
            try:
                if http.get("/healthz", timeout=1.0).status_code == 200:
                    return
                last = "not 200"
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.05)
    raise RuntimeError(f"watchbill serve not healthy after {timeout}s ({last}):\n{server.text()}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running_server(
    data_dir: Path,
    *,
    database_url: str | None = None,
    tls: tuple[Path, Path] | None = None,
    worker: bool = True,
    prepare: Callable[[dict[str, str]], None] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`watchbill db upgrade`, then `prepare(env)` (e.g. CLI calls), then `watchbill serve`.

    The port is picked free just before starting; if another process grabs it in
    between, the server exits and we retry on a new port. Run it again on the same
    `data_dir` (and `database_url`) to restart a server on what it left behind.
    """
    env = server_env(data_dir, database_url, extra_env)
    run_cli(env, "db", "upgrade")
    if prepare is not None:
        prepare(env)
    scheme = "https" if tls else "http"
    for attempt in range(3):
        port = free_port()
        cmd = [*watchbill_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if tls:
            cmd += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        if not worker:
            cmd.append("--no-worker")
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        server = Server(
            base_url=f"{scheme}://127.0.0.1:{port}",
            env=env,
            data_dir=data_dir,
            proc=proc,
            verify=_ssl_context(tls[0]) if tls else True,
        )
        pump = threading.Thread(target=server._pump, daemon=True)
        pump.start()
        try:
            _wait_healthy(server, START_TIMEOUT)
        except RuntimeError:
            stop(proc)
            pump.join(STOP_TIMEOUT)
            if attempt < 2 and "address already in use" in server.text().lower():
                continue
            raise
        break
    try:
        yield server
    finally:
        stop(server.proc)
        pump.join(STOP_TIMEOUT)


@dataclass
class WorkerProcess:
    """A `watchbill worker` process and its output so far."""

    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.output)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)


@contextlib.contextmanager
def running_worker(env: Mapping[str, str], threads: int = 1) -> Iterator[WorkerProcess]:
    """`watchbill worker` with a server's environment (its database), until the block ends.

    Ready once it prints its banner, which comes after it checked the migrations and
    started its threads; stopped with SIGTERM, which lets running jobs finish.
    """
    proc = subprocess.Popen(
        [*watchbill_command(), "worker", "--threads", str(threads)],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    worker = WorkerProcess(proc)
    pump = threading.Thread(target=worker._pump, daemon=True)
    pump.start()
    try:
        wait_until(
            lambda: WORKER_READY.search(worker.text()) or proc.poll() is not None,
            START_TIMEOUT,
            "watchbill worker to start",
        )
        if proc.poll() is not None:
            raise RuntimeError(f"watchbill worker exited {proc.returncode}:\n{worker.text()}")
        yield worker
    finally:
        stop(proc)
        pump.join(STOP_TIMEOUT)


def _ssl_context(cert: Path) -> object:
    import ssl

    return ssl.create_default_context(cafile=str(cert))


@contextlib.contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `admin_url`, dropped afterwards."""
    from watchbill.adapters.db.scratch import scratch_postgres as throwaway

    with throwaway(admin_url, prefix="watchbill_e2e") as url:
        yield url


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 made with the `openssl` command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def demo_documents(kind: str) -> list[dict[str, Any]]:
    """The demo organisation's documents of one kind, as written in demo/*.yaml."""
    docs = []
    for path in sorted(DEMO_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            docs.extend(d for d in yaml.safe_load_all(fh) if d and d.get("kind") == kind)
    return docs


def prepare_demo(owner: str, password: str) -> Callable[[dict[str, str]], None]:
    """For `running_server(prepare=...)`: apply demo/ and add an owner who can sign in."""

    def prepare(env: dict[str, str]) -> None:
        run_cli(env, "apply", "-f", str(DEMO_DIR))
        run_cli(
            env,
            *("users", "create", owner, "--email", f"{owner}@example.com"),
            *("--role", "owner", "--full-name", owner.replace("-", " ").title()),
            "--password-stdin",
            input=password + "\n",
        )

    return prepare
