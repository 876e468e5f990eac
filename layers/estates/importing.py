"""Importing estates and renovation footprints from files: the services behind `manage.py
import_estates` and `manage.py import_footprints`.

Files are read by common.importing.read_source, the reader every importer shares (GeoJSON,
Shapefile, GeoPackage; the same --srs / --encoding options and checks as import_grids). Both imports
are all or nothing unless rejects are allowed, and re-running the same file updates in place.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.db import transaction

from common.crs import SRS
from common.importing import Source, read_source
from layers.estates import services
from layers.estates.models import Batch, Estate, ManagementType, ProjectStatus, RenovationProject
from layers.grids.importing import ImportSummary, all_or_nothing, features_of, first_value
from layers.grids.models import Grid, Level

NAME_FIELDS = ("name", "NAME", "xqmc", "XQMC", "mc", "MC")
CODE_FIELDS = ("code", "CODE", "xqbm", "XQBM")
COMMUNITY_FIELDS = ("community", "community_code", "COMMUNITY", "sqdm", "SQDM")
HOUSEHOLD_FIELDS = ("households", "HOUSEHOLDS", "hs", "HS")
BUILDING_FIELDS = ("buildings", "BUILDINGS", "ld", "LD", "ds", "DS")
YEAR_FIELDS = ("year_built", "YEAR_BUILT", "year", "jcnd", "JCND")
MANAGEMENT_FIELDS = ("management_type", "management", "MANAGEMENT", "glfs", "GLFS")
# Management as written in the seeds' spreadsheets, mapped to ManagementType.
MANAGEMENT_WORDS = {
    "property": ManagementType.PROPERTY,
    "物业": ManagementType.PROPERTY,
    "物业管理": ManagementType.PROPERTY,
    "self": ManagementType.SELF,
    "自管": ManagementType.SELF,
    "自治": ManagementType.SELF,
    "none": ManagementType.NONE,
    "无": ManagementType.NONE,
    "三无": ManagementType.NONE,
    "无物业": ManagementType.NONE,
    "": ManagementType.NONE,
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "有"}


def _named_features(summary: ImportSummary, source: Source, name_field: str | None, progress: bool):
    """(feature, name, label) for each feature of the source that has a name and no problem; the
    others are recorded in the summary as rejects, with the reason."""
    for feature in features_of(source, progress=progress):
        name = first_value(feature.properties, name_field, NAME_FIELDS)
        label = f"feature {feature.number}" + (f" ({name})" if name else "")
        if feature.problem:
            summary.rejected.append((label, feature.problem))
        elif not name:
            summary.rejected.append((label, f"no name (looked in {name_field or ', '.join(NAME_FIELDS)})"))
        else:
            yield feature, name, label


def _count(value, what: str) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if number < 0:
        raise ValueError(f"{what} {value!r} is negative")
    return number


def _community_of(code, geometry) -> Grid:
    """The community named by `code`, else the one answering for a point inside the outline."""
    if code not in (None, ""):
        community = Grid.objects.filter(code=str(code).strip(), level=Level.COMMUNITY).first()
        if community is None:
            raise ValueError(f"no community has code {code!r}")
        return community
    grid = Grid.objects.smallest_covering(geometry.point_on_surface)
    community = Grid.objects.chain(grid).filter(level=Level.COMMUNITY).first() if grid else None
    if community is None:
        raise ValueError("the outline lies in no community; give a community code")
    return community


@transaction.atomic
def import_estates(
    *,
    path: str | Path,
    srs: SRS | None = None,
    encoding: str | None = None,
    layer=0,
    name_field: str | None = None,
    code_field: str | None = None,
    community_field: str | None = None,
    allow_rejects: bool = False,
    progress: bool = False,
) -> ImportSummary:
    """Create or update estates from a polygon file; keyed by code when the file has one, else by
    name within the community. The community comes from an attribute or from where the estate is."""
    source = read_source(path, srs=srs, encoding=encoding, layer=layer)
    summary = ImportSummary()
    for feature, name, label in _named_features(summary, source, name_field, progress):
        props = feature.properties
        try:
            community = _community_of(first_value(props, community_field, COMMUNITY_FIELDS), feature.geometry)
            management = str(first_value(props, None, MANAGEMENT_FIELDS) or "").strip().lower()
            if management not in MANAGEMENT_WORDS:
                raise ValueError(f"management {management!r} is not one of property/self/none (物业/自管/无)")
            year = _count(first_value(props, None, YEAR_FIELDS), "year built") or None
            if year is not None and not 1900 <= year <= 2100:
                raise ValueError(f"year built {year} is not plausible")
            fields = {
                "households": _count(first_value(props, None, HOUSEHOLD_FIELDS), "households"),
                "buildings": _count(first_value(props, None, BUILDING_FIELDS), "buildings"),
                "year_built": year,
                "management_type": MANAGEMENT_WORDS[management],
                "has_party_organisation": str(props.get("party_org", props.get("has_party_organisation", "")))
                .strip()
                .lower()
                in TRUE_WORDS,
                "has_owners_committee": str(props.get("owners_committee", props.get("has_owners_committee", "")))
                .strip()
                .lower()
                in TRUE_WORDS,
                "address": str(props.get("address") or "")[:200],
            }
        except ValueError as exc:
            summary.rejected.append((label, str(exc)))
            continue
        summary.warnings += [f"{label}: {w}" for w in feature.warnings]
        code = str(first_value(props, code_field, CODE_FIELDS) or "").strip()
        existing = (
            Estate.objects.filter(code=code) if code else Estate.objects.filter(name=str(name), community=community)
        ).first()
        if existing is None:
            services.create_estate(name=str(name), code=code, community=community, boundary=feature.geometry, **fields)
            summary.created.append(str(name))
        else:
            services.update_estate(
                estate=existing, name=str(name), community=community, boundary=feature.geometry, **fields
            )
            summary.updated.append(str(name))
    return all_or_nothing(summary, allow_rejects=allow_rejects)


def _date(value, what: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


@transaction.atomic
def import_footprints(
    *,
    path: str | Path,
    batch: str,
    by=None,
    srs: SRS | None = None,
    encoding: str | None = None,
    layer=0,
    name_field: str | None = None,
    allow_rejects: bool = False,
    progress: bool = False,
) -> ImportSummary:
    """Create or update renovation projects of `batch` from a polygon file, keyed by name.

    Dates come from `starts_on`/`ends_on` attributes and the budget from `budget` (yuan) if present.
    Each project is linked to the estates its footprint shares area with. New projects start
    planned, recorded as created by `by`.
    """
    if batch not in Batch.values:
        raise ValueError(f"unknown batch {batch!r}; use one of {', '.join(Batch.values)}")
    source = read_source(path, srs=srs, encoding=encoding, layer=layer)
    summary = ImportSummary()
    for feature, name, label in _named_features(summary, source, name_field, progress):
        props = feature.properties
        try:
            starts_on = _date(props.get("starts_on"), "starts_on")
            ends_on = _date(props.get("ends_on"), "ends_on")
            if starts_on and ends_on and ends_on < starts_on:
                raise ValueError(f"ends_on {ends_on} is before starts_on {starts_on}")
            budget = props.get("budget")
            budget = None if budget in (None, "") else round(float(budget), 2)
        except (TypeError, ValueError) as exc:
            summary.rejected.append((label, str(exc)))
            continue
        summary.warnings += [f"{label}: {w}" for w in feature.warnings]
        estates = list(Estate.objects.sharing_area_with(feature.geometry))
        fields = {
            "footprint": feature.geometry,
            "batch": batch,
            "estates": estates,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "budget": budget,
        }
        existing = RenovationProject.objects.filter(name=str(name)).first()
        if existing is None:
            services.create_project(by=by, name=str(name), status=ProjectStatus.PLANNED, **fields)
            summary.created.append(str(name))
        else:
            services.update_project(project=existing, **fields)
            summary.updated.append(str(name))
    return all_or_nothing(summary, allow_rejects=allow_rejects)
