"""How alerts group into incidents: the group key and whether an open incident still
accepts alerts (Alertmanager users know this as group_by)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

MAX_KEY = 512


def group_key(labels: Mapping[str, str], group_by: Sequence[str], dedup_key: str) -> str:
    """Alerts with the same key join one incident. Without group_by each alert stands alone
    (its dedup key is the group); `...` groups every alert of the service together."""
    if not group_by:
        return f"alert:{dedup_key}"
    if list(group_by) == ["..."]:
        return "all"
    key = "{" + ",".join(f"{n}={labels.get(n, '')!r}" for n in sorted(group_by)) + "}"
    if len(key) > MAX_KEY:
        # incidents.group_key holds 512 characters; label values may be far longer.
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def accepts(opened_at: datetime, now: datetime, window: timedelta | None) -> bool:
    """An open incident takes new alerts of its group while the window since it opened
    lasts; no window means for as long as it stays open."""
    return window is None or now - opened_at <= window
