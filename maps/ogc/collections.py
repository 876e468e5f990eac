"""The feature collections served as OGC API - Features, and the reads behind them.

Each layer app owns its models; the map layer only describes how a model is published: which
geometry field, which properties, which rows. A collection is listed only when its model exists in
the running code (the layer apps land one by one), so /ogc/collections never names a table that is
not there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.gis.db.models import Extent, GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from layers.accounts.roles import Scope, visible

# OGC clients write booleans as JSON does; Django's BooleanField wants Python's spelling.
_BOOLEAN_WORDS = {"true": True, "false": False}

# Estimated from the planner's statistics (no table scan); NULL when the table was never analysed.
ESTIMATED_EXTENT = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ST_EstimatedExtent(%s, %s) AS e
"""

# Property names never published, whatever the model: contact details and request plumbing.
PRIVATE_NAMES = {
    "phone",
    "email",
    "first_name",
    "last_name",
    "idempotency_key",
    "api_key",
    "password",
    "reporter",
    "reporter_id",
    "reporter_phone",
    "reporter_email",
    "reporter_name",
    "contact",
    "user",
    "user_id",
    "media_url",
    "input_point",
}

_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.DecimalField,
    models.BooleanField,
    models.DateField,
    models.DateTimeField,
    models.ForeignKey,
)


@dataclass(frozen=True)
class Collection:
    """How one model is published: `model` is "app_label.ModelName"; `geometry` its geometry field.

    `properties` lists the published fields, each "name" or "name=lookup" (e.g.
    "category=category__code" publishes the related category's code as `category`); None publishes
    every plain field except PRIVATE_NAMES (foreign keys as their id). `id_field` names the field
    used as the feature id; `rows` narrows the queryset (e.g. active grids only); `kind` names the
    scoping rule (layers.accounts.roles.RULES) that narrows it to what the reader may see.
    """

    id: str
    title: str
    description: str
    model: str
    geometry: str
    properties: tuple[str, ...] | None = None
    id_field: str = "pk"
    rows: Callable[[models.QuerySet], models.QuerySet] = field(default=lambda qs: qs)
    kind: str = "audit"

    def model_class(self):
        """The model, or None if the app that owns it has not defined it (yet)."""
        app_label, name = self.model.split(".")
        try:
            model = apps.get_model(app_label, name)
        except LookupError:
            return None
        try:
            geometry = model._meta.get_field(self.geometry)
        except Exception:
            return None
        return model if isinstance(geometry, GeometryField) else None

    def property_names(self) -> list[str]:
        """The published property names, as they appear in the features."""
        model = self.model_class()
        if self.properties is not None:
            return [p.split("=", 1)[0] for p in self.properties]
        names = []
        for f in model._meta.concrete_fields:
            if f.primary_key or f.name == self.geometry or f.name in PRIVATE_NAMES:
                continue
            if isinstance(f, _PLAIN_FIELDS) and not isinstance(f, GeometryField):
                names.append(f.attname)
        return names

    def _values(self, qs: models.QuerySet, id_key: str, properties: list[str]) -> models.QuerySet:
        """qs as dicts of the id, the GeoJSON geometry and the chosen properties (renamed lookups too)."""
        lookups = dict(p.split("=", 1) for p in self.properties or () if "=" in p)
        plain = [name for name in properties if name not in lookups]
        # Annotated under a prefix: a published name may be a field's own name ("category").
        renamed = {f"ogc_{name}": models.F(lookups[name]) for name in properties if name in lookups}
        return qs.annotate(ogc_geometry=AsGeoJSON(self.geometry, precision=7)).values(
            id_key, "ogc_geometry", *plain, **renamed
        )

    def queryset(self, scope: Scope | None = None) -> models.QuerySet:
        """The published rows; those `scope` may see when given (None: every row, for batch jobs)."""
        rows = self.rows(self.model_class()._default_manager.all())
        return rows if scope is None else visible(self.kind, rows, scope)

    def extent(self, scope: Scope | None = None) -> tuple[float, float, float, float] | None:
        """The collection's bbox for its metadata.

        From the planner's statistics (ST_EstimatedExtent) when the table has them: an exact extent
        of 2.2 million cases reads the whole table on every /ogc/collections. Without statistics
        (a table never analysed, e.g. in a test) the exact extent of the collection's rows.
        """
        model = self.model_class()
        column = model._meta.get_field(self.geometry).column
        with connection.cursor() as cursor:
            cursor.execute(ESTIMATED_EXTENT, [model._meta.db_table, column])
            row = cursor.fetchone()
        if row and row[0] is not None:
            return tuple(round(v, 7) for v in row)
        return self.queryset(scope).aggregate(extent=Extent(self.geometry))["extent"]

    def lookup_of(self, name: str) -> str:
        """The ORM lookup behind a published property name ("grid" → "grid__code")."""
        lookups = dict(p.split("=", 1) for p in self.properties or () if "=" in p)
        return lookups.get(name, name)

    def items(
        self,
        *,
        bbox=None,
        limit: int,
        offset: int,
        properties: list[str],
        equals: dict[str, str] | None = None,
        scope: Scope | None = None,
    ) -> tuple[int, list[dict]]:
        """(numberMatched, features) for a page of this collection, ordered by id for stable paging.

        `equals` filters on published properties ({"status": "handling"}), as OGC API - Features
        Part 1 lets a server offer; a value the property cannot hold raises ValueError. Only the rows
        `scope` may see (all when None).
        """
        qs = self.queryset(scope)
        for name, value in (equals or {}).items():
            field_value = _BOOLEAN_WORDS.get(value.lower(), value) if isinstance(value, str) else value
            try:
                qs = qs.filter(**{self.lookup_of(name): field_value})
                qs.exists()  # surface a value of the wrong type here, as a ValueError
            except (ValueError, ValidationError) as exc:
                raise ValueError(f"{name}: {value!r} is not a valid value") from exc
        if bbox is not None:
            qs = qs.filter(**{f"{self.geometry}__intersects": Polygon.from_bbox(bbox)})
        matched = qs.count()
        order = "pk" if self.id_field == "pk" else self.id_field
        rows = self._values(qs.order_by(order), order, properties)[offset : offset + limit]
        return matched, [self._feature(row, order, properties) for row in rows]

    def item(self, fid: str, properties: list[str], scope: Scope | None = None) -> dict | None:
        """One feature by its id, or None (also when `scope` may not see it)."""
        order = "pk" if self.id_field == "pk" else self.id_field
        if order == "pk" and not fid.isdigit():
            return None
        row = self._values(self.queryset(scope).filter(**{order: fid}), order, properties).first()
        return None if row is None else self._feature(row, order, properties)

    @staticmethod
    def _feature(row: dict, id_key: str, properties: list[str]) -> dict:
        geometry = row["ogc_geometry"]
        return {
            "type": "Feature",
            "id": row[id_key],
            "geometry": json.loads(geometry) if geometry else None,
            # Dates, datetimes and decimals as DjangoJSONEncoder writes them (ISO 8601, strings).
            "properties": json.loads(
                json.dumps(
                    {name: row[name] if name in row else row[f"ogc_{name}"] for name in properties},
                    cls=DjangoJSONEncoder,
                )
            ),
        }


def _active(qs):
    return qs.filter(is_active=True)


def _open_cases(qs):
    from layers.incidents.models import OPEN_STATUSES

    return qs.filter(status__in=OPEN_STATUSES)


def _dead_corner_cases(qs):
    return qs.filter(dead_corner=True)


def _patrols_today(qs):
    return qs.filter(started_at__date=timezone.localdate(), track__isnull=False)


def _latest_findings(qs):
    """The findings (with a geometry) of the most recent finished audit run."""
    latest = (
        qs.model._meta.get_field("run")
        .related_model.objects.filter(status="done")
        .order_by("-finished_at", "-id")
        .values("id")[:1]
    )
    return qs.filter(run__in=latest, geometry__isnull=False)


# What a case publishes: where it stands and who holds it, never the reporter's contact details.
CASE_PROPERTIES = (
    "status",
    "category=category__code",
    "category_name=category__name_zh",
    "description",
    "address",
    "source",
    "district_code",
    "grid=grid__code",
    "department=department__name",
    "officer=officer_id",
    "dead_corner",
    "near_edge",
    "me_too_count",
    "rework_count",
    "escalation_level",
    "reported_at",
    "due_at",
    "final_due_at",
    "closed_at",
)


# Every layer a desktop GIS may want. Collections of apps still being built appear when their
# models land; the field names are those the layer issues specify.
REGISTRY: list[Collection] = [
    Collection(
        id="grids",
        title="Grids 网格",
        model="grids.Grid",
        geometry="boundary",
        id_field="code",
        description="The grid tree from district to micro-grid; level 1 district ... 5 micro-grid.",
        properties=("code", "name", "level", "district_code", "households", "population"),
        rows=_active,
        kind="grid",
    ),
    Collection(
        id="inspection-points",
        title="Inspection points 实地考察点位",
        model="inspections.InspectionPoint",
        geometry="location",
        description="Places officers check in at on patrol.",
        properties=(
            "code",
            "name",
            "category=category__code",
            "category_name=category__name",
            "address",
            "grid=grid__code",
            "street=street__code",
            "responsible_leader=responsible_leader__name",
            "task_group=task_group__name",
            "partner_department=partner_department__name",
        ),
        rows=_active,
        kind="point",
    ),
    Collection(
        id="patrols-today",
        title="Today's patrol tracks 今日巡查轨迹",
        model="inspections.Patrol",
        geometry="track",
        description="GPS tracks of the patrols started today (Asia/Shanghai).",
        properties=("officer=officer__name", "grid=grid__code", "started_at", "ended_at", "track_positions"),
        rows=_patrols_today,
        kind="patrol",
    ),
    Collection(
        id="estates",
        title="Estates 小区",
        model="estates.Estate",
        geometry="boundary",
        description="Old residential estates and their management type.",
        properties=(
            "code",
            "name",
            "community=community__code",
            "address",
            "buildings",
            "households",
            "year_built",
            "management_type",
            "has_party_organisation",
            "has_owners_committee",
        ),
        kind="estate",
    ),
    Collection(
        id="renovation-projects",
        title="Renovation footprints 改造项目",
        model="estates.RenovationProject",
        geometry="footprint",
        description="Old-estate renovation projects by batch and status.",
        properties=("name", "batch", "status", "starts_on", "ends_on", "budget", "description"),
        kind="project",
    ),
    Collection(
        id="cases",
        title="Cases 事件",
        model="incidents.Case",
        geometry="location",
        description="Reported problems and where they are in the case loop.",
        properties=CASE_PROPERTIES,
        kind="case",
    ),
    Collection(
        id="open-cases",
        title="Open cases 未结事件",
        model="incidents.Case",
        geometry="location",
        description="Cases not yet closed, rejected or merged as duplicates; due_at is the current stage's deadline.",
        properties=CASE_PROPERTIES,
        rows=_open_cases,
        kind="case",
    ),
    Collection(
        id="dead-corner-cases",
        title="Dead-corner cases 死角事件",
        model="incidents.Case",
        geometry="location",
        description="Cases that no grid covers.",
        properties=CASE_PROPERTIES,
        rows=_dead_corner_cases,
        kind="case",
    ),
    Collection(
        id="audit-findings",
        title="Audit findings 审计发现",
        model="audits.Finding",
        geometry="geometry",
        description="Dead corners found by the latest finished audit run: gaps, overlaps, parts outside "
        "their parent, orphan grids, hotspots, dead-corner cases.",
        properties=(
            "kind",
            "measure",
            "unit",
            "grid_code",
            "grid_name",
            "other_grid_code",
            "district_code",
            "run=run_id",
        ),
        rows=_latest_findings,
    ),
]


def available() -> list[Collection]:
    """The registered collections whose model exists, in registry order."""
    return [c for c in REGISTRY if c.model_class() is not None]


def get(collection_id: str) -> Collection | None:
    return next((c for c in available() if c.id == collection_id), None)
