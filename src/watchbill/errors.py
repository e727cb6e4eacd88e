"""Domain errors: raised by service functions, shown as problem+json by the API and as a
message with a non-zero exit by the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field: where it is (a path like `spec.tier`) and what is wrong with it."""

    loc: str
    msg: str


@dataclass
class WatchbillError(Exception):
    detail: str
    status: int = 400
    title: str = "Bad request"
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.errors:
            return self.detail
        lines = [self.detail] + [f"  {e.loc}: {e.msg}" for e in self.errors]
        return "\n".join(lines)


class NotFound(WatchbillError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=404, title="Not found")


class Conflict(WatchbillError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=409, title="Conflict")


class Invalid(WatchbillError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, status=422, title="Invalid input", errors=errors or [])


class Forbidden(WatchbillError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=403, title="Forbidden")


class Unauthorized(WatchbillError):
    def __init__(self, detail: str = "authentication required") -> None:
        super().__init__(detail, status=401, title="Unauthorized")
