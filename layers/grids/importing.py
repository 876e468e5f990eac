"""Importing grid boundaries from files: the service behind `manage.py import_grids`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from tqdm import tqdm

from common.crs import SRS
from common.importing import Source, SourceFeature, read_source
from layers.grids.models import Grid, Level, code_problem

DEFAULT_CODE_FIELDS = ("code", "adcode", "CODE", "ADCODE")
DEFAULT_NAME_FIELDS = ("name", "NAME", "mc", "MC")


class ImportRejected(Exception):
    """Some features were rejected; nothing was written. Carries the summary."""

    def __init__(self, summary: ImportSummary):
        super().__init__(f"{len(summary.rejected)} feature(s) rejected; nothing was imported")
        self.summary = summary


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (feature label, reason)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"created {len(self.created)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"rejected {len(self.rejected)}"
        ]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"rejected: {label}: {reason}" for label, reason in self.rejected]
        return out


def first_value(props: dict, explicit: str | None, defaults: tuple[str, ...]):
    """The attribute `explicit` names (a command's --x-field), else the first of `defaults` that is set."""
    if explicit:
        return props.get(explicit)
    for name in defaults:
        if props.get(name) not in (None, ""):
            return props[name]
    return None


def features_of(source: Source, *, progress: bool) -> Iterable[SourceFeature]:
    """The source's features, with a progress bar on stderr when asked for and the file is large."""
    return tqdm(
        source.features,
        total=source.count,
        desc=f"importing {source.path.name}",
        file=sys.stderr,
        disable=not progress or source.count < 200,
    )


def all_or_nothing(summary: ImportSummary, *, allow_rejects: bool) -> ImportSummary:
    """The import's summary; when features were rejected and that is not allowed, the import's
    transaction is rolled back and ImportRejected raised (call it last, inside the atomic block)."""
    if summary.rejected and not allow_rejects:
        transaction.set_rollback(True)
        raise ImportRejected(summary)
    return summary


@transaction.atomic
def import_grids(
    *,
    path: str | Path,
    level: Level,
    parent_code: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    name: str | None = None,
    srs: SRS | None = None,
    encoding: str | None = None,
    allow_rejects: bool = False,
    progress: bool = False,
) -> ImportSummary:
    """Create or update grids of `level` from a file, keyed by code; all or nothing.

    A feature's parent is `parent_code` when given, else the grid whose code is the feature's code
    less its last three digits (streets and below). Re-importing the same codes updates them in
    place; a changed boundary bumps the grid's version. If any feature is rejected the transaction
    is rolled back and ImportRejected raised, unless `allow_rejects`.
    """
    source = read_source(path, srs=srs, encoding=encoding)
    summary = ImportSummary()
    explicit_parent = Grid.objects.get(code=parent_code) if parent_code else None
    seen: set[str] = set()
    for feature in features_of(source, progress=progress):
        code = first_value(feature.properties, code_field, DEFAULT_CODE_FIELDS)
        code = str(code).strip() if code is not None else ""
        label = f"feature {feature.number}" + (f" (code {code})" if code else "")
        if feature.problem:
            summary.rejected.append((label, feature.problem))
            continue
        if not code:
            summary.rejected.append((label, f"no code (looked in {code_field or ', '.join(DEFAULT_CODE_FIELDS)})"))
            continue
        if code in seen:
            summary.rejected.append((label, "the same code appears twice in the file"))
            continue
        seen.add(code)
        parent = explicit_parent
        if parent is None and level >= Level.STREET:
            parent = Grid.objects.filter(code=code[:-3]).first()
        problem = code_problem(level, code, parent)
        if problem:
            summary.rejected.append((label, problem))
            continue
        summary.warnings += [f"{label}: {w}" for w in feature.warnings]
        grid_name = name or first_value(feature.properties, name_field, DEFAULT_NAME_FIELDS) or code
        _upsert(summary, code=code, level=level, parent=parent, name=str(grid_name), boundary=feature.geometry)
    return all_or_nothing(summary, allow_rejects=allow_rejects)


def _upsert(summary: ImportSummary, *, code, level, parent, name, boundary) -> None:
    existing = Grid.objects.filter(code=code).first()
    if existing is None:
        Grid.objects.create(code=code, level=level, parent=parent, name=name, boundary=boundary)
        summary.created.append(code)
        return
    redrawn = not existing.boundary.equals_exact(boundary, tolerance=1e-9)
    if (
        not redrawn
        and existing.name == name
        and existing.parent_id == (parent.id if parent else None)
        and existing.level == level
    ):
        summary.unchanged.append(code)
        return
    existing.name, existing.level, existing.parent = name, level, parent
    if redrawn:
        existing.boundary = boundary
        existing.version += 1
    existing.save()
    summary.updated.append(code)
