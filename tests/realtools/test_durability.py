"""kill -9 under load loses no accepted event (the pytest version of
benchmarks/intake_durability.py, small: a few thousand events, one kill).

Eight senders post PagerDuty v2 triggers, each with a dedup key of its own, and note
which ones got a 2xx. Half-way through, the server gets SIGKILL; a new server on the
same database must hold every accepted event as a firing alert, and nothing that was
never sent.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import wait_until
from tests.realtools.harness import PD_KEY, Watchbill, watchbill

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EVENTS = 2000
SENDERS = 8
NO_RATE_LIMIT = {"WATCHBILL_INTAKE_RATE_PER_KEY": "0"}


class Load:
    """Senders sharing one list of events; each stops at its first connection error."""

    def __init__(self, base_url: str, run: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.keys = [f"durability-{run}-{i}" for i in range(EVENTS)]
        self.next = 0
        self.lock = threading.Lock()
        self.accepted: set[str] = set()
        self.unanswered: set[str] = set()  # sent, but the connection died first
        self.refused: list[int] = []  # answered with something else than 2xx
        self.threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)
        assert not any(t.is_alive() for t in self.threads), "senders did not stop"

    def _body(self, key: str) -> bytes:
        event = {
            "routing_key": PD_KEY,
            "event_action": "trigger",
            "dedup_key": key,
            "payload": {"summary": f"durability {key}", "source": "pytest", "severity": "info"},
        }
        return json.dumps(event).encode()

    def _send(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        try:
            while True:
                with self.lock:
                    if self.next >= len(self.keys):
                        return
                    key = self.keys[self.next]
                    self.next += 1
                try:
                    conn.request("POST", "/v2/enqueue", self._body(key), headers)
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException):
                    with self.lock:
                        self.unanswered.add(key)
                    return
                with self.lock:
                    if 200 <= resp.status < 300:
                        self.accepted.add(key)
                    else:
                        self.refused.append(resp.status)
        finally:
            conn.close()


def _stored(wb: Watchbill) -> dict[str, str]:
    rows = wb.rows("SELECT dedup_key, status FROM alerts WHERE integration_id = :i", i=wb.ids["pd"])
    return {r.dedup_key: r.status for r in rows}


def test_kill_9_mid_run_loses_no_accepted_event(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run = uuid.uuid4().hex[:8]
    with watchbill(data_dir, extra_env=NO_RATE_LIMIT) as wb:
        load = Load(wb.base_url, run)
        load.start()
        wait_until(lambda: len(load.accepted) >= EVENTS // 2, 120.0, "half the events accepted")
        wb.server.proc.kill()  # SIGKILL: no shutdown, no flush
        wb.server.proc.wait(15)
        load.join(30.0)
    assert not load.refused, load.refused
    assert load.accepted and len(load.accepted) < EVENTS, "the kill came too late to matter"
    sent = load.accepted | load.unanswered

    with watchbill(data_dir, extra_env=NO_RATE_LIMIT, restart=True) as restarted:
        stored = _stored(restarted)
        missing = load.accepted - stored.keys()
        assert not missing, f"{len(missing)} accepted events lost, e.g. {sorted(missing)[:5]}"
        assert stored.keys() <= sent, "rows for events that were never sent"
        assert set(stored.values()) == {"firing"}
        print(f"accepted={len(load.accepted)} unanswered={len(load.unanswered)} rows={len(stored)}")

        # The restarted server takes events again, on the same database.
        after = Load(restarted.base_url, f"{run}-after")
        after.keys = after.keys[:200]
        after.start()
        after.join(60.0)
        assert len(after.accepted) == 200 and not after.unanswered
        assert set(after.keys) <= _stored(restarted).keys()
