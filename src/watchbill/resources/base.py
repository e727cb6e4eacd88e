"""What a kind of named object must say about itself to get API, CLI and YAML support."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from sqlalchemy import Select

from watchbill.access import Role
from watchbill.context import Ctx


class FilterModel(BaseModel):
    """Query filters of a listing; other query parameters (limit, cursor) pass beside them."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="ignore")


class NoFilters(FilterModel):
    pass


class Resource(ABC):
    """A kind of catalog object, identified by a unique `name`.

    Subclasses describe the table, the spec schema, and how a spec is read from and
    written to a row; the generic service functions do the rest, with audit.
    """

    kind: ClassVar[str]
    plural: ClassVar[str]
    model: ClassVar[type[Any]]
    spec: ClassVar[type[BaseModel]]
    filters: ClassVar[type[BaseModel]] = NoFilters
    write_role: ClassVar[Role] = Role.ADMIN
    self_referencing: ClassVar[bool] = False
    references: ClassVar[tuple[str, ...]] = ()
    """The kinds this one refers to by name: `apply` writes those first."""

    @abstractmethod
    def to_spec(self, obj: Any) -> BaseModel:
        """The row as its spec: what `export` writes and the API returns."""

    @abstractmethod
    def write_spec(self, ctx: Ctx, obj: Any, spec: BaseModel) -> None:
        """Set the row from the spec, resolving references; raise Invalid naming the field."""

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        return stmt

    def check_delete(self, ctx: Ctx, obj: Any) -> None:  # noqa: B027 - optional hook
        """Raise Conflict when other objects still depend on this one."""

    def spec_json(self, obj: Any) -> dict[str, Any]:
        return self.to_spec(obj).model_dump(mode="json", by_alias=True)

    def view(self, obj: Any) -> dict[str, Any]:
        """The API representation: name, spec fields, and timestamps."""
        created: datetime = obj.created_at
        updated: datetime = obj.updated_at
        return {
            "name": obj.name,
            **self.spec_json(obj),
            "createdAt": created.isoformat(),
            "updatedAt": updated.isoformat(),
        }
