"""The registry of published feature collections (OGC API - Features and the map pages' layers).

Each layer declares how its models are published, in its own AppConfig.ready():
`register_collection(Collection(...))`: which geometry field, which properties, which rows, and which
visibility rule (common.scopes) narrows them to the reader. maps reads `collections()` and names no
layer; the listing follows the order in which the layers registered (INSTALLED_APPS).
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

from common.scopes import Scope, visible

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
    visibility rule (common.scopes) that narrows it to what the reader may see.
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
        app_label, name = self.model.split(".")
        return apps.get_model(app_label, name)

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


_COLLECTIONS: dict[str, Collection] = {}


def register_collection(collection: Collection) -> None:
    """Publish `collection` (called from the owning layer's AppConfig.ready()). Its geometry field is
    checked here, so a wrong name fails at start-up rather than on the first request."""
    model = collection.model_class()
    if not isinstance(model._meta.get_field(collection.geometry), GeometryField):
        raise ValueError(f"collection {collection.id!r}: {collection.model}.{collection.geometry} is no geometry")
    if collection.id in _COLLECTIONS and _COLLECTIONS[collection.id] != collection:
        raise ValueError(f"the collection {collection.id!r} is already registered with another definition")
    _COLLECTIONS[collection.id] = collection


def collections() -> list[Collection]:
    """Every published collection, in the order the layers registered them."""
    return list(_COLLECTIONS.values())


def get(collection_id: str) -> Collection | None:
    return _COLLECTIONS.get(collection_id)
