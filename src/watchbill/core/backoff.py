"""Retry delays for durable jobs and outbound deliveries."""

from __future__ import annotations


def retry_delay(attempt: int, *, base: float = 1.0, cap: float = 600.0) -> float:
    """Seconds to wait before retry number `attempt` (1 = first retry).

    Exponential, so a receiver that is down is not hammered, and capped, so a long
    outage is still retried at a steady pace once it ends.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if base <= 0 or cap <= 0:
        raise ValueError("base and cap must be positive")
    exponent = min(attempt - 1, 62)
    return float(min(cap, base * (2**exponent)))
