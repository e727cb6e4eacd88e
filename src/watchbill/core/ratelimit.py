"""Token buckets per key: a sender may burst, then is held to a steady rate."""

from __future__ import annotations

from collections import OrderedDict


class RateLimiter:
    """`allow(key, cost, now)` with `now` in seconds from any monotonic source.

    Remembers at most `max_keys` keys (least recently used go first), so a flood of
    made-up keys cannot exhaust memory.
    """

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, cost: float, now: float) -> bool:
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
        need = min(cost, self.burst)  # one huge batch is allowed when the bucket is full
        allowed = tokens >= need
        if allowed:
            tokens -= need
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed
