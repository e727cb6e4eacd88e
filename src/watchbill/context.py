"""The unit every service function works in: one transaction, one caller, one clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watchbill.access import Principal
from watchbill.core.clock import Clock


@dataclass(frozen=True, slots=True)
class Ctx:
    session: Session
    principal: Principal
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()
