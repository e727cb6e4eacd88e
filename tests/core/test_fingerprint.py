"""Alert fingerprints as Alertmanager computes them (prometheus/common LabelSet.Fingerprint).

The reference here is written from the documented byte layout, independently of the code
under test: FNV-1a 64 over, for each label in byte order of its name, the name, a 0xff
byte, the value and a 0xff byte. A last test asks a real Alertmanager.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.fingerprint import fingerprint

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def fnv1a_64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) % 2**64
    return h


def reference(labels: dict[str, str]) -> str:
    layout = b"".join(
        name.encode("utf-8") + b"\xff" + labels[name].encode("utf-8") + b"\xff"
        for name in sorted(labels, key=lambda n: n.encode("utf-8"))
    )
    return format(fnv1a_64(layout), "016x")


def test_the_reference_fnv1a_matches_published_vectors() -> None:
    # From the FNV reference test suite (Fowler/Noll/Vo): the reference itself is right.
    assert fnv1a_64(b"") == 0xCBF29CE484222325
    assert fnv1a_64(b"a") == 0xAF63DC4C8601EC8C
    assert fnv1a_64(b"foobar") == 0x85944171F73967E8


def test_empty_label_set_is_the_offset_basis() -> None:
    assert fingerprint({}) == "cbf29ce484222325"


@pytest.mark.parametrize(
    "labels",
    [
        {"alertname": "HighLatency"},
        {"alertname": "HighLatency", "service": "checkout", "severity": "critical"},
        # byte order: "B" (0x42) < "_x" (0x5f) < "a" < "ab"
        {"a": "1", "ab": "2", "B": "3", "_x": "4"},
        {"msg": "héllo ☃ 😀", "rtl": "שלום"},
        {"empty": ""},
    ],
)
def test_known_vectors_match_an_independent_implementation(labels: dict[str, str]) -> None:
    assert fingerprint(labels) == reference(labels)


def test_a_fixed_vector() -> None:
    # Computed by Alertmanager 0.25 (see the live test below) for these labels.
    labels = {"alertname": "HighLatency", "service": "checkout", "severity": "critical", "z": "é☃"}
    assert fingerprint(labels) == "95dfa23d0590cbb4"


def test_the_separator_keeps_name_and_value_apart() -> None:
    # Without the 0xff separators these three would hash the same bytes.
    prints = {fingerprint({"ab": "c"}), fingerprint({"a": "bc"}), fingerprint({"abc": ""})}
    assert len(prints) == 3


def test_any_change_to_a_label_changes_the_fingerprint() -> None:
    base = {"alertname": "DiskFull", "instance": "db1:9100"}
    assert fingerprint(base) != fingerprint({**base, "instance": "db2:9100"})
    assert fingerprint(base) != fingerprint({**base, "extra": ""})
    assert fingerprint(base) != fingerprint({"alertname": "DiskFull"})


utf8_text = st.text(st.characters(codec="utf-8"), max_size=12)


@given(st.dictionaries(utf8_text, utf8_text, max_size=8), st.randoms())
def test_order_independent_and_equal_to_the_reference(labels: dict[str, str], rnd) -> None:  # type: ignore[no-untyped-def]
    items = list(labels.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    got = fingerprint(shuffled)
    assert got == fingerprint(labels) == reference(labels)
    assert len(got) == 16 and all(c in "0123456789abcdef" for c in got)


# ---------------------------------------------------------------- a real Alertmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bytes(response.read())


LIVE_LABEL_SETS = [
    {"alertname": "HighLatency", "service": "checkout", "severity": "critical", "z": "é☃"},
    {"alertname": "DiskFull", "instance": "db1:9100", "job": "node", "mountpoint": "/var"},
    {"alertname": "Emoji", "a": "1", "ab": "2", "B": "3", "_x": "😀 שלום"},
    {"alertname": "Watchdog"},
]


@pytest.mark.skipif(
    shutil.which(ALERTMANAGER) is None and os.environ.get("WATCHBILL_REQUIRE_ALERTMANAGER") != "1",
    reason=f"{ALERTMANAGER} is not installed (Debian package prometheus-alertmanager)",
)
def test_equals_what_a_real_alertmanager_computes(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _get(f"{base}/-/ready")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"alertmanager did not start (exit code {proc.poll()})")
                time.sleep(0.1)
        body = json.dumps([{"labels": labels} for labels in LIVE_LABEL_SETS]).encode()
        request = urllib.request.Request(
            f"{base}/api/v2/alerts",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        alerts = json.loads(_get(f"{base}/api/v2/alerts"))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    theirs = {a["labels"]["alertname"]: a["fingerprint"] for a in alerts}
    assert len(theirs) == len(LIVE_LABEL_SETS)
    for labels in LIVE_LABEL_SETS:
        assert fingerprint(labels) == theirs[labels["alertname"]], labels
