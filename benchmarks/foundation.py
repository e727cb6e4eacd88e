"""Foundation benchmark: fresh clone to /healthz, idle memory, and /healthz throughput.

Run from the repository root:

    python3 benchmarks/foundation.py            # fresh clone of this repository
    python3 benchmarks/foundation.py --in-place # this checkout and its .venv: no clone

Prints one JSON object per line on stdout, one per figure; progress goes to stderr.
Figures (see benchmarks/README.md):

    clone_seconds              git clone of the repository (not part of the targets)
    install_seconds            `make .venv/.runtime` in the clone: venv + pip install
    db_upgrade_seconds         `make run` start until "database at revision" is printed
    start_seconds              `make run` start until the first /healthz 200
    make_run_to_healthz_seconds install_seconds + start_seconds
    idle_rss_mb                VmRSS of the `watchbill serve` process after idling
    healthz_requests_per_second wrk against /healthz on loopback
    healthz_requests_per_server_cpu_second  wrk's requests / CPU time the server used
    healthz_latency_p50_ms, healthz_latency_p99_ms   from wrk --latency
    rss_after_load_mb          VmRSS of the server after the wrk run

Targets (issue): idle RSS <= 150 MB; /healthz >= 3,000 requests/s.
Every process started here runs in its own process group and is stopped at the end;
every temporary directory is removed (unless --keep).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_IDLE_RSS_MB = 150.0
TARGET_HEALTHZ_RPS = 3000.0


def log(message: str) -> None:
    print(f"[foundation] {message}", file=sys.stderr, flush=True)


def emit(figure: str, value: float | int | None, unit: str, **extra: Any) -> None:
    line = {"benchmark": "foundation", "figure": figure, "value": value, "unit": unit, **extra}
    print(json.dumps(line), flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc/<pid>/stat of every process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name (field 2) is in parentheses and may contain spaces
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def serve_pid(make_pid: int) -> int | None:
    """The python process running `watchbill serve`, somewhere below make."""
    for pid in descendants(make_pid):
        args = cmdline(pid)
        if "serve" in args and any(a.endswith("watchbill") for a in args):
            return pid
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (all its threads) so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MakeRun:
    """`make run` in its own process group, with its output timestamped line by line."""

    def __init__(self, workdir: Path, env: dict[str, str], port: int, logfile: Path) -> None:
        self.start = time.perf_counter()
        self.upgraded_at: float | None = None
        self.logfile = logfile
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.logfile.open("wb") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                if self.upgraded_at is None and b"database at revision" in line:
                    self.upgraded_at = time.perf_counter()

    def stop(self) -> None:
        """SIGTERM to the whole group (uvicorn shuts down gracefully), SIGKILL if it hangs."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # make may be gone while a grandchild lingers in the group: make sure of it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.reader.join(timeout=5)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if rps is None:
        raise ValueError("wrk printed no Requests/sec line:\n" + output)
    result: dict[str, Any] = {"rps": float(rps[1])}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        result[f"p{pct}_ms"] = to_ms(m[1]) if m else None
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+)", output, re.M)
    result["requests"] = int(total[1]) if total else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non2xx[1]) if non2xx else 0
    errors = re.search(r"Socket errors: (.*)", output)
    result["socket_errors"] = errors[1].strip() if errors else ""
    return result


def run_wrk(url: str, threads: int, connections: int, duration: int) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        url,
    ]
    log("running " + " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True)
    return parse_wrk(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="repository to clone")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="run `make run` in --repo itself with its existing .venv (no clone, no install)",
    )
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--start-timeout", type=float, default=600.0)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=32)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    for tool in ("git", "make"):
        if shutil.which(tool) is None:
            log(f"{tool} is not installed")
            return 2

    tmp = Path(tempfile.mkdtemp(prefix="watchbill-bench-"))
    run: MakeRun | None = None
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env["WATCHBILL_DATA_DIR"] = str(tmp / "data")
    env.pop("VIRTUAL_ENV", None)
    machine = {"cpus": os.cpu_count()}
    try:
        if args.in_place:
            workdir = args.repo.resolve()
            # bring the venv up to date first (untimed), so start_seconds never includes pip
            log("make .venv/.runtime (in place, not timed)")
            subprocess.run(
                ["make", "--no-print-directory", ".venv/.runtime"],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                check=True,
            )
            install = None
        else:
            workdir = tmp / "watchbill"
            log(f"cloning {args.repo} into {workdir}")
            t0 = time.perf_counter()
            subprocess.run(
                ["git", "clone", "--quiet", str(args.repo), str(workdir)],
                check=True,
                stdin=subprocess.DEVNULL,
            )
            emit("clone_seconds", round(time.perf_counter() - t0, 2), "s")
            log("installing: make .venv/.runtime")
            t0 = time.perf_counter()
            with (tmp / "install.log").open("wb") as out:
                done = subprocess.run(
                    ["make", "--no-print-directory", ".venv/.runtime"],
                    cwd=workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            install = time.perf_counter() - t0
            if done.returncode != 0:
                log("install failed:\n" + (tmp / "install.log").read_text(errors="replace"))
                return 1
            emit("install_seconds", round(install, 2), "s", note="venv + pip install")

        port = free_port()
        url = f"http://127.0.0.1:{port}/healthz"
        log(f"make run on port {port}")
        run = MakeRun(workdir, env, port, tmp / "run.log")
        deadline = run.start + args.start_timeout
        healthy_at = None
        while time.perf_counter() < deadline:
            if healthz_ok(url):
                healthy_at = time.perf_counter()
                break
            if run.proc.poll() is not None:
                break
            time.sleep(0.02)
        if healthy_at is None:
            log("no /healthz 200; make run printed:\n" + run.logfile.read_text(errors="replace"))
            return 1
        start = healthy_at - run.start
        if run.upgraded_at is not None:
            emit("db_upgrade_seconds", round(run.upgraded_at - run.start, 2), "s")
        emit("start_seconds", round(start, 2), "s", note="make run until the first /healthz 200")
        if install is not None:
            emit(
                "make_run_to_healthz_seconds",
                round(install + start, 2),
                "s",
                note="fresh clone: install_seconds + start_seconds",
            )

        pid = serve_pid(run.proc.pid)
        if pid is None:
            log("could not find the `watchbill serve` process below make")
            return 1
        log(f"serve pid {pid}; idling {args.idle_seconds}s")
        time.sleep(args.idle_seconds)
        rss = status_kb(pid, "VmRSS")
        emit(
            "idle_rss_mb",
            round(rss / 1024, 1) if rss is not None else None,
            "MB",
            target=f"<= {TARGET_IDLE_RSS_MB:g}",
            met=rss is not None and rss / 1024 <= TARGET_IDLE_RSS_MB,
        )

        if shutil.which("wrk") is None:
            log("wrk is not installed (Debian: apt-get install wrk): /healthz throughput skipped")
            emit(
                "healthz_requests_per_second",
                None,
                "req/s",
                skipped="wrk not installed; apt-get install wrk",
            )
        else:
            run_wrk(url, args.wrk_threads, args.wrk_connections, 2)  # warm-up, not reported
            cpu_before = cpu_seconds(pid)
            result = run_wrk(url, args.wrk_threads, args.wrk_connections, args.wrk_seconds)
            cpu_after = cpu_seconds(pid)
            load = {
                "wrk": f"-t{args.wrk_threads} -c{args.wrk_connections} -d{args.wrk_seconds}s",
                **machine,
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
            emit(
                "healthz_requests_per_second",
                round(result["rps"], 1),
                "req/s",
                target=f">= {TARGET_HEALTHZ_RPS:g}",
                met=result["rps"] >= TARGET_HEALTHZ_RPS,
                requests=result["requests"],
                non_2xx=result["non_2xx"],
                socket_errors=result["socket_errors"],
                **load,
            )
            if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
                # Requests per CPU-second of the server: what one dedicated core would
                # serve. Unlike req/s it does not drop when other processes share the CPUs.
                emit(
                    "healthz_requests_per_server_cpu_second",
                    round(result["requests"] / (cpu_after - cpu_before), 1),
                    "req/cpu-s",
                    server_cpu_seconds=round(cpu_after - cpu_before, 2),
                    **load,
                )
            emit("healthz_latency_p50_ms", result["p50_ms"], "ms", **load)
            emit("healthz_latency_p99_ms", result["p99_ms"], "ms", **load)
            after = status_kb(pid, "VmRSS")
            emit("rss_after_load_mb", round(after / 1024, 1) if after is not None else None, "MB")
        return 0
    finally:
        if run is not None:
            log("stopping make run")
            run.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
