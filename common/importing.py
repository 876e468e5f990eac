"""Reading polygon layers from GeoJSON, Shapefile and GeoPackage files, for every importer.

`read_source()` opens a file through GDAL (GeoJSON is parsed here so that the bare geometries of the
cnmaps boundary files, with their non-standard top-level `properties`, work too), decides its CRS,
and yields `SourceFeature`s whose geometry is already valid and in EPSG:4326. It refuses, with a
message saying what to do, everything that would otherwise be guessed:

- a file that declares no CRS (a Shapefile without .prj) and no `srs` given;
- a declared CRS outside the allow-list of common.crs;
- Gauss-Krüger eastings that do not match the code family (zone-prefixed 35xxxxxx eastings under a
  central-meridian code, or the reverse);
- text that is not valid in the file's encoding, or that looks like GBK read as Latin-1 (mojibake),
  typical of Chinese Shapefiles shipped without a .cpg file;
- positions that land outside China after conversion (swapped axes, wrong CRS).

Invalid rings are repaired with GEOS MakeValid and reported as a warning naming the feature; a
feature whose repair leaves no polygon is rejected with its reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.utils.encoding import DjangoUnicodeDecodeError

from common.crs import (
    ALLOWED_SRIDS,
    GK_CENTRAL_MERIDIAN_SRIDS,
    GK_ZONE_PREFIX_SRIDS,
    SRS,
    WGS84,
    to_storage,
)

GEOJSON_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
CHINA_BOUNDS = (72.0, 0.8, 138.0, 56.0)  # lon_min, lat_min, lon_max, lat_max
# Latin-1 letters that GBK bytes turn into when read as Latin-1/CP1252, e.g. "南城" → "ÄÏ³Ç".
_MOJIBAKE = re.compile(r"[\u00c0-\u00ff][\u0080-\u00ff]|[\u0080-\u00bf]{2}")
_CJK = re.compile(r"[\u3400-\u9fff]")


class SourceError(ValueError):
    """The file cannot be imported as given; the message says why and what to pass."""


@dataclass
class SourceFeature:
    """One feature of a source file: its position (1-based), attributes and geometry in EPSG:4326."""

    number: int
    properties: dict
    geometry: GEOSGeometry | None
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None  # set when the feature must be rejected


@dataclass
class Source:
    path: Path
    srs: SRS
    count: int
    features: Iterator[SourceFeature]


def read_source(
    path: str | Path,
    *,
    srs: SRS | None = None,
    encoding: str | None = None,
    layer: str | int = 0,
    polygons: bool = True,
) -> Source:
    """Open `path` and return its features in EPSG:4326. `srs` overrides what the file declares.

    With `polygons`, every geometry must be (Multi)Polygon and comes back as a valid MultiPolygon.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.suffix.lower() in {".geojson", ".json"}:
        records, declared = _read_geojson(path)
    else:
        records, declared = _read_with_gdal(path, encoding=encoding, layer=layer)
    chosen = srs or declared
    if chosen is None:
        raise SourceError(
            f"{path.name}: the file does not say its coordinate system (no .prj); pass --srs, e.g. "
            "--srs EPSG:4490, --srs EPSG:4544 (CGCS2000 GK, central meridian 105°E) or --srs gcj02"
        )
    records = list(records)
    _check_gauss_kruger_family(path, chosen, records)
    return Source(
        path=path,
        srs=chosen,
        count=len(records),
        features=(_prepare(n, props, geom, chosen, polygons) for n, (props, geom) in enumerate(records, start=1)),
    )


def _read_geojson(path: Path):
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path.name}: not valid UTF-8 GeoJSON ({exc})") from exc
    if not isinstance(document, dict) or "type" not in document:
        raise SourceError(f"{path.name}: a GeoJSON object with a 'type' member was expected")
    if "crs" in document:
        # Old-style GeoJSON named its CRS; reading it could make GDAL open files or URLs. Ask instead.
        raise SourceError(f"{path.name}: GeoJSON 'crs' members are not read; remove it and pass --srs")
    kind = document["type"]
    if kind == "FeatureCollection":
        items = [(f.get("properties") or {}, f.get("geometry")) for f in document.get("features", [])]
    elif kind == "Feature":
        items = [(document.get("properties") or {}, document.get("geometry"))]
    elif kind in GEOJSON_GEOMETRY_TYPES:
        # A bare geometry, as in the cnmaps boundary files, which keep their adcode beside it.
        items = [(document.get("properties") or {}, document)]
    else:
        raise SourceError(f"{path.name}: unsupported GeoJSON type {kind!r}")
    records = []
    for number, (props, geometry) in enumerate(items, start=1):
        if not isinstance(geometry, dict) or geometry.get("type") not in GEOJSON_GEOMETRY_TYPES:
            records.append((props, None))
            continue
        clean = {"type": geometry["type"], "coordinates": geometry.get("coordinates")}
        try:
            records.append((props, OGRGeometry(json.dumps(clean)).geos))
        except (GDALException, GEOSException, ValueError, TypeError) as exc:
            raise SourceError(f"{path.name}: feature {number} has an unreadable geometry ({exc})") from exc
    # RFC 7946: GeoJSON is WGS84 unless the caller says otherwise (the boundary files are GCJ-02).
    return records, WGS84


def _read_with_gdal(path: Path, *, encoding: str | None, layer: str | int):
    try:
        source = DataSource(str(path), encoding=encoding or "utf-8")
    except GDALException as exc:
        raise SourceError(f"{path.name}: GDAL cannot open it ({exc})") from exc
    try:
        ogr_layer = source[layer]
    except (IndexError, KeyError, GDALException) as exc:
        raise SourceError(f"{path.name}: no layer {layer!r}; layers: {[lyr.name for lyr in source]}") from exc
    declared = None
    if ogr_layer.srs is not None:
        srid = ogr_layer.srs.srid
        if srid is None:
            try:
                ogr_layer.srs.identify_epsg()
                srid = ogr_layer.srs.srid
            except GDALException:
                srid = None
        if srid not in ALLOWED_SRIDS:
            raise SourceError(
                f"{path.name}: its coordinate system ({ogr_layer.srs.name}, EPSG {srid}) is not one gridgis "
                "accepts; reproject it or pass --srs with the right code"
            )
        declared = SRS(srid)
    records = []
    for feature in ogr_layer:
        props = {}
        for name in feature.fields:
            try:
                value = feature[name].value
            except (DjangoUnicodeDecodeError, UnicodeDecodeError) as exc:
                raise SourceError(
                    f"{path.name}: feature {feature.fid + 1} field {name!r} is not valid "
                    f"{encoding or 'UTF-8'} text; Chinese Shapefiles without a .cpg are usually GBK: "
                    "pass --encoding gbk"
                ) from exc
            if isinstance(value, str) and _looks_like_mojibake(value):
                raise SourceError(
                    f"{path.name}: feature {feature.fid + 1} field {name!r} reads as {value!r}, which looks "
                    "like Chinese text decoded with the wrong encoding; pass --encoding gbk (or the right one)"
                )
            props[name] = value
        records.append((props, feature.geom.geos if feature.geom is not None else None))
    return records, declared


def _looks_like_mojibake(text: str) -> bool:
    return bool(_MOJIBAKE.search(text)) and not _CJK.search(text)


def _check_gauss_kruger_family(path: Path, srs: SRS, records) -> None:
    """Zone-prefixed GK codes expect eastings like 35,xxx,xxx; central-meridian ones under 1,000,000."""
    if srs.srid not in GK_ZONE_PREFIX_SRIDS | GK_CENTRAL_MERIDIAN_SRIDS:
        return
    eastings = [g.extent[0] for _, g in records if g is not None and not g.empty]
    if not eastings:
        return
    prefixed = min(eastings) >= 1_000_000
    if srs.srid in GK_CENTRAL_MERIDIAN_SRIDS and prefixed:
        raise SourceError(
            f"{path.name}: eastings like {min(eastings):,.0f} carry a zone number, but {srs} expects "
            "eastings without it; use the zone-prefixed code (EPSG:4513-4533 for 3° zones)"
        )
    if srs.srid in GK_ZONE_PREFIX_SRIDS and not prefixed:
        raise SourceError(
            f"{path.name}: eastings like {min(eastings):,.0f} have no zone number, but {srs} expects one; "
            "use the central-meridian code (EPSG:4534-4554 for 3° zones)"
        )


def _prepare(number: int, props: dict, geometry: GEOSGeometry | None, srs: SRS, polygons: bool) -> SourceFeature:
    feature = SourceFeature(number=number, properties=props, geometry=None)
    if geometry is None or geometry.empty:
        feature.problem = "no geometry"
        return feature
    if geometry.hasz:
        geometry = _drop_z(geometry)
    try:
        stored = to_storage(geometry, srs)
    except (GDALException, GEOSException) as exc:
        feature.problem = f"cannot convert from {srs}: {exc}"
        return feature
    lon_min, lat_min, lon_max, lat_max = stored.extent
    if lon_min < CHINA_BOUNDS[0] or lat_min < CHINA_BOUNDS[1] or lon_max > CHINA_BOUNDS[2] or lat_max > CHINA_BOUNDS[3]:
        feature.problem = (
            f"lies at ({lon_min:.4f}, {lat_min:.4f})..({lon_max:.4f}, {lat_max:.4f}) after "
            f"conversion from {srs}, outside China: wrong --srs or swapped coordinates?"
        )
        return feature
    if polygons:
        if stored.geom_type not in {"Polygon", "MultiPolygon"}:
            feature.problem = f"a {stored.geom_type} where a polygon was expected"
            return feature
        if not stored.valid:
            reason = stored.valid_reason
            repaired = _polygonal_part(stored.make_valid())
            if repaired is None:
                feature.problem = f"invalid geometry that cannot be repaired ({reason})"
                return feature
            feature.warnings.append(f"invalid geometry repaired ({reason})")
            stored = repaired
        stored = stored if isinstance(stored, MultiPolygon) else MultiPolygon(stored, srid=stored.srid)
    feature.geometry = stored
    return feature


def _drop_z(geometry: GEOSGeometry) -> GEOSGeometry:
    ogr = geometry.ogr
    ogr.coord_dim = 2
    return ogr.geos


def _polygonal_part(geometry: GEOSGeometry) -> MultiPolygon | None:
    """The polygons of a MakeValid result (which may mix in lines and points), or None."""
    if isinstance(geometry, Polygon):
        parts = [geometry]
    elif isinstance(geometry, MultiPolygon):
        parts = list(geometry)
    else:
        parts = []
        for member in getattr(geometry, "__iter__", lambda: iter(()))():
            if isinstance(member, Polygon):
                parts.append(member)
            elif isinstance(member, MultiPolygon):
                parts.extend(member)
    parts = [p for p in parts if not p.empty and p.area > 0]
    if not parts:
        return None
    return MultiPolygon(*parts, srid=geometry.srid)
