"""Reading uploaded GPS tracks: GeoJSON (LineString / MultiLineString, bare, as a Feature or as a
FeatureCollection of one) or GPX 1.0/1.1 (tracks' segments, else routes), via gpxpy.

A track comes back as a MultiLineString in EPSG:4326, one part per GPX segment or GeoJSON line, so
that a signal gap is never drawn as a straight walk, plus the first and last timestamps when the file
has them. Anything malformed raises TrackError with a message that says what and where, which the API
returns as a 400 on the `track` field.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass

import gpxpy
import gpxpy.gpx
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiLineString
from django.utils import timezone

from common.crs import SRS, WGS84, to_storage
from common.geometry import extent_problem


class TrackError(ValueError):
    """An uploaded track that cannot be read; the message names what is wrong."""


@dataclass
class Track:
    geometry: MultiLineString
    positions: int
    started_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None


def _max_positions() -> int:
    return int(settings.GRIDGIS.get("TRACK_MAX_POSITIONS", 50_000))


def _position(value, where: str, srs: SRS) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise TrackError(f"{where}: a position is [lon, lat], got {json.dumps(value)[:60]}")
    lon, lat = value[0], value[1]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (lon, lat)):
        raise TrackError(f"{where}: coordinates must be numbers, got {json.dumps(value)[:60]}")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise TrackError(f"{where}: coordinates must be finite")
    if srs.is_geographic and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise TrackError(f"{where}: ({lon}, {lat}) is outside longitude -180..180 / latitude -90..90")
    return float(lon), float(lat)


def _line(coordinates, where: str, srs: SRS) -> LineString:
    if not isinstance(coordinates, list):
        raise TrackError(f"{where}: coordinates must be a list of positions")
    positions = [_position(value, f"{where} position {i}", srs) for i, value in enumerate(coordinates)]
    if len(positions) < 2:
        raise TrackError(f"{where}: a line needs at least 2 positions, got {len(positions)}")
    if len(set(positions)) < 2:
        raise TrackError(f"{where}: all positions are the same place; that is not a walk")
    return LineString(positions, srid=srs.srid or 4326)


def _geojson_geometry(data) -> dict:
    if not isinstance(data, dict):
        raise TrackError("GeoJSON must be an object")
    if "crs" in data:
        raise TrackError("GeoJSON 'crs' members are not read; pass the srs parameter instead")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or len(features) != 1:
            count = len(features) if isinstance(features, list) else "no"
            raise TrackError(f"a FeatureCollection track must hold exactly one feature, it holds {count}")
        return _geojson_geometry(features[0])
    if kind == "Feature":
        geometry = data.get("geometry")
        if geometry is None:
            raise TrackError("the Feature has no geometry")
        return _geojson_geometry(geometry)
    if kind in ("LineString", "MultiLineString"):
        return data
    if kind is None:
        raise TrackError("GeoJSON object has no 'type'")
    raise TrackError(f"geometry type {kind}: a track is a LineString or MultiLineString")


def read_geojson(data, srs: SRS = WGS84) -> Track:
    """Read a GeoJSON track (an object, or its text) given in `srs`."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise TrackError(f"not valid JSON: {exc}") from None
    geometry = _geojson_geometry(data)
    if "coordinates" not in geometry:
        raise TrackError(f"the {geometry['type']} has no 'coordinates'")
    coordinates = geometry["coordinates"]
    if geometry["type"] == "LineString":
        lines = [_line(coordinates, "LineString", srs)]
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise TrackError("MultiLineString: coordinates must be a non-empty list of lines")
        lines = [_line(part, f"MultiLineString line {i}", srs) for i, part in enumerate(coordinates)]
    return _finish(lines, srs)


def read_gpx(text: str | bytes) -> Track:
    """Read a GPX track (always WGS84, by the GPX standard): all track segments, else all routes."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrackError(f"GPX is not UTF-8 text: {exc}") from None
    try:
        gpx = gpxpy.parse(text)
    except gpxpy.gpx.GPXXMLSyntaxException as exc:
        raise TrackError(f"GPX is not well-formed XML: {exc.__cause__ or exc}") from None
    except gpxpy.gpx.GPXException as exc:
        raise TrackError(f"GPX could not be read: {exc}") from None
    parts = [segment.points for track in gpx.tracks for segment in track.segments if segment.points]
    if not parts:
        parts = [route.points for route in gpx.routes if route.points]
    if not parts:
        raise TrackError("the GPX file has no track points (trk/trkseg/trkpt) and no route points (rte/rtept)")
    lines = []
    times = []
    for i, points in enumerate(parts):
        coordinates = [[p.longitude, p.latitude] for p in points]
        lines.append(_line(coordinates, f"GPX segment {i}", WGS84))
        times += [p.time for p in points if p.time is not None]
    track = _finish(lines, WGS84)
    if times:
        times = [t if timezone.is_aware(t) else timezone.make_aware(t, datetime.UTC) for t in times]
        track.started_at, track.ended_at = min(times), max(times)
    return track


def _finish(lines: list[LineString], srs: SRS) -> Track:
    positions = sum(len(line) for line in lines)
    if positions > _max_positions():
        raise TrackError(f"the track has {positions} positions; at most {_max_positions()} are accepted")
    geometry = to_storage(MultiLineString(lines, srid=srs.srid or 4326), srs)
    lon_min, lat_min, lon_max, lat_max = geometry.extent
    if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
        raise TrackError(f"the track does not lie on the earth in {srs}: check the srs")
    problem = extent_problem(geometry)
    if problem:
        raise TrackError(f"the track is too large: {problem}")
    return Track(geometry=geometry, positions=positions)


def read_upload(name: str, content: bytes, srs: SRS = WGS84) -> Track:
    """Read an uploaded file: GPX by its .gpx name or an XML start, else GeoJSON."""
    stripped = content.lstrip()
    if name.lower().endswith(".gpx") or stripped.startswith(b"<"):
        return read_gpx(content)
    return read_geojson(content, srs)
