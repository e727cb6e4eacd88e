"""Timing helpers of the in-process benchmarks: repeated calls, wall and CPU figures,
one JSON line per figure."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    """p50 and p99 wall time and p50 CPU time of `runs` calls, in milliseconds."""
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - c) * 1000)
        walls.append((time.perf_counter() - w) * 1000)
    walls.sort()
    return {
        "p50_ms": round(statistics.median(walls), 2),
        "p99_ms": round(walls[min(len(walls) - 1, int(len(walls) * 0.99))], 2),
        "cpu_p50_ms": round(statistics.median(cpus), 2),
    }


def emit(name: str, figures: dict[str, float], **extra: Any) -> None:
    print(json.dumps({"figure": name, **figures, **extra}), flush=True)
