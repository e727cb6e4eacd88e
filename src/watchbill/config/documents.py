"""Reading YAML files into validated documents, with errors that name file, document and field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from watchbill.errors import FieldError, Invalid
from watchbill.resources.base import Resource
from watchbill.resources.kinds import Kinds
from watchbill.resources.schema import NAME_PATTERN

API_VERSION = "watchbill/v1"
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    """One validated document and where it came from."""

    source: str
    index: int
    resource: Resource
    name: str
    spec: BaseModel

    @property
    def where(self) -> str:
        return f"{self.source}: document {self.index} ({self.resource.kind} {self.name})"


def yaml_files(path: Path) -> list[Path]:
    """The file itself, or every .yaml/.yml file below a directory, in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if path.is_file():
        return [path]
    raise Invalid(f"{path}: no such file or directory")


def _loc(doc_where: str, loc: str) -> str:
    return f"{doc_where}: {loc}"


def parse_document(raw: Any, source: str, index: int, kinds: Kinds) -> Document:
    where = f"{source}: document {index}"
    if not isinstance(raw, dict):
        raise Invalid(
            "invalid document",
            [FieldError(where, "expected a mapping with apiVersion, kind, metadata and spec")],
        )
    errors: list[FieldError] = []
    unknown = sorted(set(raw) - {"apiVersion", "kind", "metadata", "spec"})
    if unknown:
        errors.append(FieldError(_loc(where, unknown[0]), "unknown top-level field"))
    if raw.get("apiVersion") != API_VERSION:
        errors.append(FieldError(_loc(where, "apiVersion"), f"must be {API_VERSION!r}"))
    kind = raw.get("kind")
    res = kinds.by_kind.get(kind) if isinstance(kind, str) else None
    if res is None:
        known = ", ".join(sorted(kinds.by_kind))
        errors.append(FieldError(_loc(where, "kind"), f"unknown kind {kind!r}; known: {known}"))
    meta = raw.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
        errors.append(
            FieldError(
                _loc(where, "metadata.name"), "required: 1-63 lower-case letters, digits and dashes"
            )
        )
    if errors or res is None or not isinstance(name, str):
        raise Invalid("invalid document", errors)
    where = f"{source}: document {index} ({res.kind} {name})"
    spec_raw = raw.get("spec") or {}
    if not isinstance(spec_raw, dict):
        raise Invalid("invalid document", [FieldError(_loc(where, "spec"), "must be a mapping")])
    try:
        spec = res.spec.model_validate(spec_raw)
    except ValidationError as exc:
        raise Invalid(
            "invalid document",
            [
                FieldError(_loc(where, "spec." + ".".join(str(p) for p in e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ],
        ) from exc
    return Document(source, index, res, name, spec)


def load_documents(paths: list[Path], kinds: Kinds) -> list[Document]:
    """Every document of every file, all validated before anything is written."""
    docs: list[Document] = []
    errors: list[FieldError] = []
    for file in [f for p in paths for f in yaml_files(p)]:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise Invalid(f"{file}: larger than {MAX_FILE_BYTES} bytes")
        try:
            raws = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise Invalid(f"{file}: not valid YAML: {exc}") from exc
        for index, raw in enumerate((r for r in raws if r is not None), start=1):
            try:
                docs.append(parse_document(raw, str(file), index, kinds))
            except Invalid as exc:
                errors.extend(exc.errors or [FieldError(str(file), exc.detail)])
    if errors:
        raise Invalid("the configuration has errors; nothing was applied", errors)
    seen: dict[tuple[str, str], Document] = {}
    for doc in docs:
        key = (doc.resource.kind, doc.name)
        if key in seen:
            errors.append(FieldError(doc.where, f"also defined at {seen[key].where}"))
        seen[key] = doc
    if errors:
        raise Invalid("duplicate documents; nothing was applied", errors)
    return docs
