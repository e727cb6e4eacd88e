"""Shared pieces of the API and YAML schemas."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

from watchbill.errors import FieldError, Invalid

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"

Name = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN, max_length=63),
]
"""Lower-case letters, digits and dashes, like a Kubernetes object name."""


def check_name(value: str, loc: str) -> str:
    """Validate a name outside a schema (CLI arguments, form fields)."""
    if not re.match(NAME_PATTERN, value) or len(value) > 63:
        raise Invalid(
            f"invalid name {value!r}",
            [FieldError(loc, "use 1-63 lower-case letters, digits and dashes")],
        )
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_no_control_chars)]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_control_chars)]


def _http_url(value: str) -> str:
    if value and not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)]


class CamelModel(BaseModel):
    """camelCase on the wire and in YAML (as Kubernetes and OpenSLO users expect);
    unknown fields are refused so that a typo is an error, not a silent no-op."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="forbid"
    )
