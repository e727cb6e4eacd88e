"""Security headers on every response: what the browser may load, frame and send on.

The pages' policy allows scripts from this site only (htmx and our own files under
/static, no inline script, no eval) and inline `style` attributes only (the schedule
timeline places its bars with them). Nobody may frame a page (clickjacking), links
send no Referer (pages and one-click links carry incident numbers and tokens in their
paths), and HTTPS is remembered once seen. A header a route set itself is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# FastAPI's interactive API docs load Swagger UI and ReDoc from their CDN and start them
# with an inline script; those two pages show no data and take no input from the URL.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
DOCS_PATHS = frozenset({"/api/docs", "/api/redoc"})


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


class SecurityHeaders:
    """A plain ASGI middleware adding the headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, https_site: bool, hsts_seconds: int) -> None:
        self.app = app
        common = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        self.pages = _encode({**common, "Content-Security-Policy": PAGE_POLICY})
        self.docs = _encode({**common, "Content-Security-Policy": DOCS_POLICY})
        self.hsts = _encode(
            {"Strict-Transport-Security": f"max-age={hsts_seconds}"} if hsts_seconds else {}
        )
        # Behind a TLS-terminating proxy the request may look like plain HTTP; the
        # configured public URL says what the browser sees.
        self.https_site = https_site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs if scope["path"] in DOCS_PATHS else self.pages
        if self.https_site or scope.get("scheme") == "https":
            extra = extra + self.hsts

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
