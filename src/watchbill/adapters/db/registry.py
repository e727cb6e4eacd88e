"""Imports every domain's tables so that the metadata (and Alembic) sees all of them."""

from watchbill.adapters.db.base import Base
from watchbill.alerts import models as alert_models
from watchbill.audit import models as audit_models
from watchbill.auth import models as auth_models
from watchbill.catalog import models as catalog_models
from watchbill.escalation import models as escalation_models
from watchbill.incidents import models as incident_models
from watchbill.integrations import models as integration_models
from watchbill.jobs import models as job_models
from watchbill.notify import models as notify_models
from watchbill.routing import models as routing_models
from watchbill.schedules import models as schedule_models
from watchbill.users import models as user_models

metadata = Base.metadata

__all__ = [
    "alert_models",
    "audit_models",
    "auth_models",
    "catalog_models",
    "escalation_models",
    "incident_models",
    "integration_models",
    "job_models",
    "metadata",
    "notify_models",
    "routing_models",
    "schedule_models",
    "user_models",
]
