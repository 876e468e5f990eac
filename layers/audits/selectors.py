"""Reads of the audits layer: runs, and their findings as GeoJSON or as ledger rows."""

from __future__ import annotations

import json

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from layers.audits import sql
from layers.audits.models import AuditRun, Finding


def runs():
    """Audit runs, newest first, with who asked for them."""
    return AuditRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def findings_geojson(run: AuditRun, *, kind: str | None = None, bbox_wkt: str | None = None) -> dict:
    """The run's findings as a GeoJSON FeatureCollection (EPSG:4326), built in the database."""
    with connection.cursor() as cursor:
        cursor.execute(sql.FINDINGS_GEOJSON, {"run": run.pk, "kind": kind, "bbox": bbox_wkt})
        collection = cursor.fetchone()[0]
    # psycopg2 decodes json columns itself; a driver that does not would hand back the text.
    if isinstance(collection, str):
        collection = json.loads(collection)
    return collection


def findings_for_ledger(run: AuditRun, *, kind: str | None = None, bbox_wkt: str | None = None):
    """The run's findings in ledger order, each with a point on its surface (`anchor`) for the lon/lat columns."""
    findings = Finding.objects.filter(run=run)
    if kind:
        findings = findings.filter(kind=kind)
    if bbox_wkt:
        findings = findings.filter(geometry__bboverlaps=GEOSGeometry(bbox_wkt, srid=4326))
    return findings.annotate(anchor=PointOnSurface("geometry")).order_by("kind", "grid_code", "other_grid_code", "id")
