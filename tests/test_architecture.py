"""The house reads top to bottom: the floors never import a slice, and nothing imports the
composition root. Slices are read from the root's own list, so a new slice is covered
the moment it is added there."""

from __future__ import annotations

import grimp
import pytest

from watchbill.app.slices import SLICES

FLOORS = [
    "watchbill.core",
    "watchbill.adapters",
    "watchbill.jobs",
    "watchbill.web",
    "watchbill.resources",
    "watchbill.config",
    "watchbill.cli",
    "watchbill.access",
    "watchbill.context",
    "watchbill.errors",
    "watchbill.settings",
    "watchbill.slice",
]
AUDIT_RECORDING = {"watchbill.audit.service", "watchbill.audit.models", "watchbill.audit.chain"}
"""The audit log's recording: every layer writes its events there (resources audit each
change, sealed into a hash chain), so the floors may reach these modules of the audit
slice, and only these."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("watchbill", cache_dir=None)


def _chains(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    return [
        " -> ".join(chain)
        for chain in graph.find_shortest_chains(
            importer=importer, imported=imported, as_packages=True
        )
        if not (imported == "watchbill.audit" and chain[-1] in AUDIT_RECORDING)
    ]


@pytest.mark.parametrize("floor", [*FLOORS, *sorted(AUDIT_RECORDING)])
def test_floors_import_no_slice(graph: grimp.ImportGraph, floor: str) -> None:
    found = [
        c
        for s in SLICES
        if not floor.startswith(s.package)
        for c in _chains(graph, floor, s.package)
    ]
    assert found == [], f"{floor} reaches up into slices:\n" + "\n".join(found)


def test_nothing_imports_the_composition_root(graph: grimp.ImportGraph) -> None:
    importers = {
        m for m in graph.find_modules_that_directly_import("watchbill.app", as_package=True)
    }
    assert {m for m in importers if not m.startswith("watchbill.app")} == set()


def test_core_imports_only_core(graph: grimp.ImportGraph) -> None:
    outside = {
        imported
        for module in graph.find_children("watchbill.core") | {"watchbill.core"}
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("watchbill") and not imported.startswith("watchbill.core")
    }
    assert outside == set()


def test_every_slice_package_is_declared_once() -> None:
    packages = [s.package for s in SLICES]
    assert len(packages) == len(set(packages))
    assert all(p.startswith("watchbill.") and p.count(".") == 1 for p in packages)
