"""Coordinate reference systems gridgis accepts, and conversion to the storage CRS (EPSG:4326).

Accepted input systems form an allow-list: WGS84 (EPSG:4326), CGCS2000 geographic (EPSG:4490), the
CGCS2000 Gauss-Krüger projections (EPSG:4491-4554, 6° and 3° zones, with and without the zone number
prefixed to the easting) and GCJ-02, the offset that Gaode/Tencent maps and the boundary files in
fixtures/boundaries/ use. Nothing else is looked up: a client-given SRS string never makes the server
read a file or fetch a URL.

GCJ-02 has no EPSG code and no PROJ definition. Its forward formula (WGS84 → GCJ-02) is the widely
published one (the same constants as googollee/eviltransform and wandergis/coordtransform); the
inverse is found by fixed-point iteration on the forward formula until the residual is below 1e-9°
(about 0.1 mm), so a round trip is exact to well under the 1 m the design asks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry

STORAGE_SRID = 4326
GCJ02 = "gcj02"

# CGCS2000 Gauss-Krüger: 4491-4501 6° zones with zone prefix, 4502-4512 6° by central meridian,
# 4513-4533 3° zones with zone prefix, 4534-4554 3° by central meridian.
GK_ZONE_PREFIX_SRIDS = frozenset(range(4491, 4502)) | frozenset(range(4513, 4534))
GK_CENTRAL_MERIDIAN_SRIDS = frozenset(range(4502, 4513)) | frozenset(range(4534, 4555))
GEOGRAPHIC_SRIDS = frozenset({4326, 4490})
ALLOWED_SRIDS = GEOGRAPHIC_SRIDS | GK_ZONE_PREFIX_SRIDS | GK_CENTRAL_MERIDIAN_SRIDS

_GCJ_AXIS = 6378245.0  # Krasovsky 1940 semi-major axis, as the published formula uses
_GCJ_EE = 0.00669342162296594323  # its first eccentricity squared


class UnknownSRS(ValueError):
    """An SRS that is not on the allow-list."""


@dataclass(frozen=True)
class SRS:
    """An accepted input CRS: an EPSG code from the allow-list, or GCJ-02 (srid None)."""

    srid: int | None

    @property
    def is_gcj02(self) -> bool:
        return self.srid is None

    @property
    def is_geographic(self) -> bool:
        return self.is_gcj02 or self.srid in GEOGRAPHIC_SRIDS

    @property
    def label(self) -> str:
        return GCJ02 if self.is_gcj02 else f"EPSG:{self.srid}"

    def __str__(self) -> str:
        return self.label


WGS84 = SRS(STORAGE_SRID)


def parse_srs(value: str | int | None) -> SRS:
    """Read 'EPSG:4490', '4490', 4490, 'gcj02' or 'GCJ-02'; None means WGS84. Raises UnknownSRS."""
    if value is None or value == "":
        return WGS84
    text = str(value).strip().lower()
    if text in {"gcj02", "gcj-02", "gcj_02"}:
        return SRS(None)
    for prefix in ("epsg:", "urn:ogc:def:crs:epsg::"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not (text.isascii() and text.isdigit()) or int(text) not in ALLOWED_SRIDS:
        raise UnknownSRS(
            f"unknown srs {value!r}: use EPSG:4326, EPSG:4490, a CGCS2000 Gauss-Krüger code EPSG:4491-4554, or gcj02"
        )
    return SRS(int(text))


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    # Outside this box GCJ-02 applies no offset.
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    result += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    result += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    result += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return result


def _offset_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    result += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    result += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    result += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return result


def wgs84_to_gcj02(lon, lat):
    """Forward GCJ-02 offset; takes and returns numpy arrays (or scalars) of degrees."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_AXIS * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_AXIS / sqrt_magic * np.cos(rad_lat) * math.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def gcj02_to_wgs84(lon, lat, tolerance: float = 1e-9, max_iterations: int = 30):
    """Inverse GCJ-02 offset by fixed-point iteration; converges to `tolerance` degrees."""
    gcj_lon = np.asarray(lon, dtype=float)
    gcj_lat = np.asarray(lat, dtype=float)
    wgs_lon, wgs_lat = gcj_lon.copy(), gcj_lat.copy()
    for _ in range(max_iterations):
        fwd_lon, fwd_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
        err_lon, err_lat = gcj_lon - fwd_lon, gcj_lat - fwd_lat
        wgs_lon = wgs_lon + err_lon
        wgs_lat = wgs_lat + err_lat
        if err_lon.size == 0 or max(np.max(np.abs(err_lon)), np.max(np.abs(err_lat))) < tolerance:
            break
    return wgs_lon, wgs_lat


def _gcj02_geometry_to_wgs84(geom: GEOSGeometry) -> GEOSGeometry:
    def inverse(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    converted = shapely.transform(shapely.from_wkb(bytes(geom.wkb)), inverse)
    return GEOSGeometry(memoryview(shapely.to_wkb(converted)), srid=STORAGE_SRID)


def to_storage(geom: GEOSGeometry, srs: SRS) -> GEOSGeometry:
    """Return `geom` (given in `srs`) as a new geometry in EPSG:4326, the storage CRS."""
    if srs.is_gcj02:
        return _gcj02_geometry_to_wgs84(geom)
    clone = geom.clone()
    clone.srid = srs.srid
    if srs.srid != STORAGE_SRID:
        clone.transform(STORAGE_SRID)
    return clone


def storage_to(geom: GEOSGeometry, srs: SRS) -> GEOSGeometry:
    """Return `geom` (in EPSG:4326) expressed in `srs`; GCJ-02 results carry srid 4326 as a label."""
    if srs.is_gcj02:
        converted = shapely.transform(
            shapely.from_wkb(bytes(geom.wkb)),
            lambda coords: np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1])),
        )
        return GEOSGeometry(memoryview(shapely.to_wkb(converted)), srid=STORAGE_SRID)
    return geom.transform(srs.srid, clone=True)
