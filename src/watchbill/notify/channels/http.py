"""One HTTP request to a receiver, with its answer sorted into success, retry or give up."""

from __future__ import annotations

from functools import cache

import httpx

from watchbill import __version__
from watchbill.notify.channels.result import SendResult

# Worth retrying: the receiver is overloaded, rate-limits us, or timed out on its side.
_TRANSIENT_4XX = {408, 425, 429}
USER_AGENT = f"Watchbill/{__version__}"


@cache
def _shared_client() -> httpx.Client:
    """One client per process: building one loads the CA certificates into a new TLS
    context (tens of milliseconds, most of a page's latency), and a shared one keeps
    connections to receivers alive between pages. httpx clients are thread-safe."""
    return httpx.Client(follow_redirects=False)


def send(
    method: str,
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout: float,
) -> SendResult:
    """Send and classify: 2xx sent; 5xx, 408/425/429 and network errors retried; other
    3xx and 4xx permanent (a revoked Slack hook or a wrong URL will not heal by itself)."""
    try:
        response = _shared_client().request(
            method,
            url,
            content=content,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        return SendResult.failed(f"{type(exc).__name__}: {exc}")
    code = response.status_code
    if 200 <= code < 300:
        return SendResult(ok=True, code=code)
    snippet = response.text[:300].strip()
    return SendResult.failed(
        f"HTTP {code}{': ' + snippet if snippet else ''}",
        code=code,
        permanent=code < 500 and code not in _TRANSIENT_4XX,
    )
