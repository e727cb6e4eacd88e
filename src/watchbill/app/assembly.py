"""Reading the slices' declarations: each function turns one part of every declaration
into what the web app, the worker or the command line needs, importing slice code only
then."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from watchbill.adapters.db.base import Base
from watchbill.adapters.db.migrate import Migrations
from watchbill.app.slices import NAV_SECTIONS, SLICES
from watchbill.resources.kinds import Kinds
from watchbill.slice import NavLink, Slice

FLOOR_MODELS = ("watchbill.jobs.models",)
"""Tables that belong to no slice: the job queue."""


def load(target: str) -> Any:
    """The object a "module:attribute" string names (a module, without the colon)."""
    module, _, attribute = target.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded


def _folder(piece: Slice) -> Path:
    return Path(importlib.import_module(piece.package).__path__[0])


@cache
def metadata() -> MetaData:
    """Every table of every slice (and the floors')."""
    for module in (*FLOOR_MODELS, *(m for s in SLICES for m in s.models)):
        importlib.import_module(module)
    return Base.metadata


@cache
def migrations() -> Migrations:
    """The foundation's revisions and every slice's own branch."""
    folders = [_folder(s) / "migrations" for s in SLICES]
    return Migrations([f for f in folders if f.is_dir()], metadata())


@cache
def kinds() -> Kinds:
    resources = []
    for piece in SLICES:
        for kind in piece.kinds:
            res = load(kind.target)
            if res.plural != kind.plural:
                raise ValueError(f"{kind.target} is {res.plural!r}, declared {kind.plural!r}")
            resources.append(res)
    return Kinds(resources)


def template_dirs() -> list[Path]:
    folders = [_folder(s) / "templates" for s in SLICES]
    return [f for f in folders if f.is_dir()]


def nav() -> list[NavLink]:
    """Every slice's links, section by section in the order of NAV_SECTIONS."""
    links = [link for s in SLICES for link in s.nav]
    for link in links:
        if link.section not in NAV_SECTIONS:
            raise ValueError(f"{link.label!r} is filed under an unknown section {link.section!r}")
    return sorted(links, key=lambda link: NAV_SECTIONS.index(link.section))


def extensions(slices: list[Slice] = SLICES) -> dict[str, list[Any]]:
    """Every slice's contributions, by extension point, in slice order."""
    points: dict[str, list[Any]] = {}
    for piece in slices:
        for ext in piece.extensions:
            points.setdefault(ext.point, []).append(load(ext.target))
    return points


def register_jobs() -> None:
    """Import every module that registers job handlers (once per process)."""
    for module in (m for s in SLICES for m in s.jobs):
        importlib.import_module(module)
