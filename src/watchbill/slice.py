"""What a slice brings to Watchbill, declared in one place.

A slice is a domain package (alerts, incidents, schedules …). Its `__init__.py` ends
with one `Slice`, the way a Django app has its AppConfig: the tables, YAML kinds, HTTP
routers, CLI commands, job handlers, recurring jobs, start-up hooks and navigation
links it adds. The composition root (`watchbill.app`) lists the slices and assembles
the web application, the worker, the command line and the schema from these
declarations, so adding a slice touches no shared file but that list, and nothing
below the slices imports them.

Everything is named by a "module:attribute" (or module) string, imported only when
the root needs it: reading every declaration, as `watchbill --help` does, imports no
slice code. A slice's `templates/` folder and its own Alembic branch in `migrations/`
are found by convention beside its `__init__.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of named object (a `Resource`): YAML kind, `/api/v1/<plural>` routes and
    `watchbill <plural> list|show|delete`. `plural` is repeated here so that the command
    line can list it without importing the slice; the root checks the two agree."""

    plural: str
    target: str


@dataclass(frozen=True, slots=True)
class Command:
    """A command group, `watchbill <name> …`: `target` names a `typer.Typer`."""

    name: str
    target: str
    help: str


@dataclass(frozen=True, slots=True)
class NavLink:
    """An entry of the page navigation, shown under its section's heading."""

    label: str
    href: str
    section: str


@dataclass(frozen=True, slots=True)
class Extension:
    """A contribution to another slice's extension point: `point` is the name that slice
    publishes (e.g. `incidents.panels`), `target` the function it will call."""

    point: str
    target: str


@dataclass(frozen=True, slots=True)
class Slice:
    """Everything one domain package adds to the application.

    - `models`: modules defining tables (imported so the metadata knows them);
    - `kinds`: Resources, each placed after the kinds it refers to (`Resource.references`);
    - `routers`: FastAPI routers (API and pages), included in this order;
    - `commands`: CLI command groups;
    - `jobs`: modules whose import registers job handlers (`watchbill.jobs.handlers`);
    - `recurring`: functions `(connection, now)` that start self-rescheduling jobs,
      called whenever a worker starts (they must be idempotent);
    - `installs`: functions `(app, runtime)` run when the web app is built, for
      middleware and state; they may return a function making a context manager that
      is held open while the app runs (a writer thread, say), each time it runs;
    - `nav`: navigation links;
    - `extensions`: contributions to other slices' extension points (a panel on the
      incident page, say), so that a slice adds to another's page without the other
      importing it.
    """

    name: str
    package: str
    models: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    routers: tuple[str, ...] = ()
    commands: tuple[Command, ...] = ()
    jobs: tuple[str, ...] = ()
    recurring: tuple[str, ...] = ()
    installs: tuple[str, ...] = ()
    nav: tuple[NavLink, ...] = ()
    extensions: tuple[Extension, ...] = ()
