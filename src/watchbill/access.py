"""Who acts and with what rights: roles, ordered from least to most powerful (a role may
do whatever a lesser one may), and the principal carried into every service function and
the audit log. Plain values, so every layer can use them without knowing how a caller
was authenticated."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


ROLE_NAMES = [r.value for r in Role]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who acts: a user (page session), an API token, the local CLI, or the system itself."""

    kind: str
    name: str
    role: Role
    user_id: int | None = None
    source_ip: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def can(self, needed: Role) -> bool:
        return self.role.allows(needed)


def cli_principal() -> Principal:
    """The operator at the server's own shell: trusted like the owner, audited by OS user."""
    import getpass

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Principal(kind="cli", name=who, role=Role.OWNER, source_ip="local")


SYSTEM = Principal(kind="system", name="watchbill", role=Role.OWNER, source_ip="")
