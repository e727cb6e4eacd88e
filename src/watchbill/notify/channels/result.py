"""What one send attempt came to, in the terms the delivery log and retries need."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SendResult:
    """`permanent` failures (a refused address, a missing setting) are not retried."""

    ok: bool
    code: int | None = None
    error: str = ""
    permanent: bool = False

    @classmethod
    def failed(cls, error: str, *, code: int | None = None, permanent: bool = False) -> SendResult:
        return cls(ok=False, code=code, error=error[:2000], permanent=permanent)
