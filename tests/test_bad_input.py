"""The bad-input catalogue: every entry is sent to the real API (or import command) and must come back
as a clear 4xx whose message names the field at fault, with nothing stored.

Each entry is one `Bad`: what is sent, the status expected, and a word the `detail` must contain (the
field's name). Row counts of every table an input could touch are compared before and after.
Inputs that are *accepted* but must be handled safely (script tags, SQL-like filter values) have
their own tests at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from layers.grids.models import Department, DutyKind, Grid
from layers.incidents.models import Case, Open311Key, Photo, TrailEntry
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import image_bytes, make_category, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
CASES = "/api/v1/incidents/"
LOCATE = "/api/v1/locate/"
OPEN311 = "/open311/v2/requests.json"


@dataclass
class Bad:
    """One bad input: how it is sent, the 4xx expected and the field its message must name."""

    name: str
    method: str
    path: str
    body: object = None
    fmt: str = "json"
    status: int = 400
    names: str = ""
    headers: dict = field(default_factory=dict)
    who: str | None = None


def point(x, y, **extra):
    return {"type": "Point", "coordinates": [x, y], **extra}


def square(n: int):
    """A closed ring of n+1 positions around (105.41, 28.93)."""
    import math

    ring = [
        [105.41 + 0.001 * math.cos(2 * math.pi * i / n), 28.93 + 0.001 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    return ring + [ring[0]]


def intake(**body):
    return {"category": "0101", **body}


def bad_intake(name: str, names: str, **body) -> Bad:
    """A JSON case report, valid but for `body`, refused with a message naming `names`."""
    return Bad(name, "post", CASES, intake(**body), names=names)


def bad_geometry(name: str, geometry) -> Bad:
    """A case report whose `geometry` is refused, with a message naming the field."""
    return Bad(name, "post", CASES, intake(geometry=geometry), names="geometry")


def bad_open311_report(name: str, names: str, *, status: int = 400, **fields) -> Bad:
    """A form-encoded Open311 report, valid (key K, service 0101, a point in grid g1) but for `fields`;
    a field given as None is left out."""
    form = {"api_key": "K", "service_code": "0101", "lat": "28.93", "long": "105.41", **fields}
    body = {key: value for key, value in form.items() if value is not None}
    return Bad(name, "post", OPEN311, body, fmt="form", status=status, names=names)


def bad_open311_query(name: str, **param) -> Bad:
    """A GET of Open311 requests with one bad query parameter, which the message must name."""
    (named,) = param
    return Bad(name, "get", OPEN311, param, names=named)


BOWTIE = [[[105.40, 28.90], [105.42, 28.92], [105.42, 28.90], [105.40, 28.92], [105.40, 28.90]]]

CATALOGUE = [
    # --- intake: where ---
    bad_geometry("wkt instead of geojson", "POINT(105.41 28.93)"),
    bad_geometry("ewkt with srid", "SRID=4326;POINT(105.41 28.93)"),
    bad_geometry("hexewkb", "0101000020E61000005C8FC2F5285A5A40AE47E17A14EE3C40"),
    bad_geometry(
        "geojson crs member (named)", point(105.41, 28.93, crs={"type": "name", "properties": {"name": "EPSG:4490"}})
    ),
    bad_geometry(
        "geojson crs member (link to a file)",
        point(105.41, 28.93, crs={"type": "link", "properties": {"href": "file:///etc/passwd"}}),
    ),
    bad_geometry("polygon where a point is wanted", {"type": "Polygon", "coordinates": BOWTIE}),
    bad_geometry(
        "nested geometry collection",
        {
            "type": "GeometryCollection",
            "geometries": [{"type": "GeometryCollection", "geometries": [point(1, 2)]}],
        },
    ),
    bad_geometry("3D point", {"type": "Point", "coordinates": [105.41, 28.93, 300]}),
    bad_geometry("XYZM point", {"type": "Point", "coordinates": [105.41, 28.93, 3, 4]}),
    bad_geometry("empty point", {"type": "Point", "coordinates": []}),
    bad_geometry("geometry without coordinates", {"type": "Point"}),
    bad_geometry("unknown geometry type", {"type": "Circle", "coordinates": [1, 2]}),
    bad_geometry("coordinates as strings", {"type": "Point", "coordinates": ["105", "28"]}),
    Bad(
        "malformed geojson text (multipart)",
        "post",
        CASES,
        intake(geometry='{"type": "Point", "coord'),
        fmt="multipart",
        names="geometry",
    ),
    Bad("malformed json body", "post", CASES, '{"category": "0101", "lon": 105.4', fmt="raw", names="JSON"),
    Bad("NaN in a json body", "post", CASES, '{"category": "0101", "lon": NaN, "lat": 28.9}', fmt="raw", names="JSON"),
    bad_intake("lon/lat swapped", "lat", lon=28.93, lat=105.41),
    bad_geometry("lon/lat swapped in geojson", point(28.93, 105.41)),
    bad_intake("point far outside every district", "lon", lon=-74.0, lat=40.7),
    bad_intake("out-of-range longitude", "lon", lon=185.0, lat=28.9),
    Bad("infinite latitude (form)", "post", CASES, intake(lon="105.41", lat="inf"), fmt="multipart", names="lat"),
    Bad("nan longitude (form)", "post", CASES, intake(lon="nan", lat="28.93"), fmt="multipart", names="lon"),
    bad_intake("unknown srid", "srs", lon=105.41, lat=28.93, srs="EPSG:99999"),
    bad_intake("srs given as a proj string", "srs", lon=105.41, lat=28.93, srs="+proj=longlat +nadgrids=/etc/passwd"),
    bad_intake("srs given as a url", "srs", geometry=point(105.41, 28.93), srs="http://127.0.0.1:1/crs.wkt"),
    bad_intake("wrong srid: degrees sent as CGCS2000 GK metres", "lon", lon=105.41, lat=28.93, srs="EPSG:4543"),
    bad_intake("no location at all", "geometry", description="no place"),
    # --- intake: what ---
    Bad("unknown category", "post", CASES, {"category": "9999", "lon": 105.41, "lat": 28.93}, names="category"),
    Bad("category missing", "post", CASES, {"lon": 105.41, "lat": 28.93}, names="category"),
    bad_intake("source open311 through the json api", "source", lon=105.41, lat=28.93, source="open311"),
    bad_intake("description too long", "description", lon=105.41, lat=28.93, description="x" * 4001),
    Bad(
        "idempotency key too long",
        "post",
        CASES,
        intake(lon=105.41, lat=28.93),
        headers={"Idempotency-Key": "k" * 129},
        names="Idempotency-Key",
    ),
    Bad(
        "a text file posing as a JPEG",
        "post",
        CASES,
        intake(
            lon="105.41",
            lat="28.93",
            photos=[SimpleUploadedFile("photo.jpg", b"#!/bin/sh\necho not a photo\n", content_type="image/jpeg")],
        ),
        fmt="multipart",
        names="photos",
    ),
    Bad(
        "a truncated JPEG",
        "post",
        CASES,
        intake(
            lon="105.41",
            lat="28.93",
            photos=[SimpleUploadedFile("cut.jpg", image_bytes("JPEG", (64, 64))[:200], content_type="image/jpeg")],
        ),
        fmt="multipart",
        names="photos",
    ),
    Bad(
        "a GIF posing as a PNG",
        "post",
        CASES,
        intake(
            lon="105.41",
            lat="28.93",
            photos=[SimpleUploadedFile("x.png", image_bytes("GIF"), content_type="image/png")],
        ),
        fmt="multipart",
        names="photos",
    ),
    Bad(
        "too many photos",
        "post",
        CASES,
        intake(
            lon="105.41",
            lat="28.93",
            photos=[SimpleUploadedFile(f"p{i}.png", image_bytes(), content_type="image/png") for i in range(7)],
        ),
        fmt="multipart",
        names="photos",
    ),
    Bad(
        "oversized json body",
        "post",
        CASES,
        intake(lon=105.41, lat=28.93, description="x" * (3 * 1024 * 1024)),
        status=413,
        names="body",
    ),
    Bad(
        "a polygon with a million vertices",
        "post",
        CASES,
        intake(geometry={"type": "Polygon", "coordinates": [[[105.41, 28.93]] * 1_000_000]}),
        status=413,
        names="body",
    ),
    # --- listing (issue 7: case lists need a sign-in; a dispatcher sees every case) ---
    Bad("nan in bbox", "get", CASES, {"in_bbox": "nan,28.8,105.5,28.9"}, names="in_bbox", who="dispatcher"),
    Bad("inf in bbox", "get", CASES, {"in_bbox": "105.4,28.8,inf,28.9"}, names="in_bbox", who="dispatcher"),
    Bad("bbox with three numbers", "get", CASES, {"in_bbox": "105.4,28.8,105.5"}, names="in_bbox", who="dispatcher"),
    Bad("bbox out of range", "get", CASES, {"in_bbox": "105.4,28.8,200,28.9"}, names="in_bbox", who="dispatcher"),
    Bad("inverted bbox", "get", CASES, {"in_bbox": "105.5,28.9,105.4,28.8"}, names="in_bbox", who="dispatcher"),
    Bad(
        "bbox over the area cap (the whole world)",
        "get",
        CASES,
        {"in_bbox": "-180,-90,180,90"},
        names="in_bbox",
        who="dispatcher",
    ),
    Bad("sql in the status filter", "get", CASES, {"status": "reported' OR '1'='1"}, names="status", who="dispatcher"),
    Bad(
        "sql in a date filter",
        "get",
        CASES,
        {"reported_after": "2026-01-01'; DROP TABLE incidents_case; --"},
        names="reported_after",
        who="dispatcher",
    ),
    Bad(
        "sql in a choice filter",
        "get",
        CASES,
        {"escalation_level": "1 OR 1=1"},
        names="escalation_level",
        who="dispatcher",
    ),
    Bad("bad escalation level", "get", f"{CASES}overdue/", {"level": "9; DELETE"}, names="level", who="dispatcher"),
    # --- locate ---
    Bad("locate without lat", "get", LOCATE, {"lon": "105.41"}, names="lat"),
    Bad("locate with nan", "get", LOCATE, {"lon": "nan", "lat": "28.9"}, names="lon"),
    Bad("locate with swapped lon/lat", "get", LOCATE, {"lon": "28.93", "lat": "105.41"}, names="lat"),
    Bad("locate with unknown srs", "get", LOCATE, {"lon": "105.41", "lat": "28.93", "srs": "EPSG:3857"}, names="srs"),
    # --- workflow ---
    Bad(
        "transition not allowed from the current state",
        "post",
        "{case}close/",
        {"version": 1},
        status=409,
        names="status",
        who="dispatcher",
    ),
    Bad("stale version", "post", "{case}register/", {"version": 0}, names="version", who="dispatcher"),
    Bad("old version", "post", "{case}register/", {"version": 7}, status=409, names="version", who="dispatcher"),
    Bad(
        "non-numeric If-Match",
        "post",
        "{case}register/",
        {},
        headers={"If-Match": "abc"},
        names="If-Match",
        who="dispatcher",
    ),
    Bad(
        "unknown department in dispatch",
        "post",
        "{case}register/",
        {"version": 1, "department": "NOPE"},
        names="department",
        who="dispatcher",
    ),
    # Issue 7: a case outside the user's scope is answered as absent (404), not as forbidden.
    Bad(
        "another department's case",
        "post",
        "{dispatched}accept/",
        {"version": 3},
        status=404,
        names="no case",
        who="other_handler",
    ),
    Bad("a citizen acting on a case", "post", "{case}register/", {"version": 1}, status=403, names="log in"),
    Bad(
        "a non-image as the after-photo",
        "post",
        "{handling}handle/",
        {
            "version": 4,
            "note": "done",
            "photo": SimpleUploadedFile("after.jpg", b"GIF89a-not-really", content_type="image/jpeg"),
        },
        fmt="multipart",
        names="photo",
        who="handler",
    ),
    # --- Open311 ---
    bad_open311_report("open311 without api_key", "api_key", status=403, api_key=None),
    bad_open311_report("open311 unknown service", "service_code", status=404, service_code="9999"),
    bad_open311_report("open311 lat/long swapped", "lat", lat="105.41", long="28.93"),
    bad_open311_report("open311 nan latitude", "lat", lat="nan"),
    bad_open311_report("open311 point in New York", "lat", lat="40.7", long="-74.0"),
    bad_open311_report("open311 javascript media_url", "media_url", media_url="javascript:alert(1)"),
    bad_open311_query("open311 sql in service_request_id", service_request_id="1 OR 1=1"),
    bad_open311_query("open311 superscript digit in service_request_id", service_request_id="1,²"),
    bad_open311_query("open311 bad start_date", start_date="yesterday'--"),
]


@pytest.fixture
def world(api):
    grids = small_tree()
    make_department("JY-DISPATCH", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    cgj = make_department("JY-CGJ", name="城管局", district=grids["district"])
    other = make_department("JY-SW", name="水务局", district=grids["district"])
    make_category("0101", default_department=cgj)
    officer = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer)
    Open311Key.objects.create(key="K", name="test client")
    users = {
        "dispatcher": make_user("dispatcher"),
        "handler": make_user(department=cgj),
        "other_handler": make_user(department=other),
    }

    def report(lon, lat):
        return api.post(CASES, {"category": "0101", "lon": lon, "lat": lat}, format="json").json()["id"]

    def step(case_id, who, action, **body):
        api.force_authenticate(users[who])
        version = Case.objects.get(pk=case_id).version
        response = api.post(f"{CASES}{case_id}/{action}/", {"version": version, **body}, format="json")
        assert response.status_code == 200, response.json()
        api.force_authenticate(None)

    case = report(105.41, 28.93)
    dispatched = report(105.43, 28.91)
    step(dispatched, "dispatcher", "register")
    step(dispatched, "dispatcher", "dispatch")
    handling = report(105.47, 28.87)
    for who, action in (("dispatcher", "register"), ("dispatcher", "dispatch"), ("handler", "accept")):
        step(handling, who, action)
    return {"users": users, "case": case, "dispatched": dispatched, "handling": handling}


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in (Case, TrailEntry, Photo, Grid)} | {
        "versions": sorted(Case.objects.values_list("id", "version", "status"))
    }


def send(api, world, bad: Bad):
    path = bad.path.format(**{k: f"{CASES}{world[k]}/" for k in ("case", "dispatched", "handling")})
    api.force_authenticate(world["users"][bad.who] if bad.who else None)
    if bad.method == "get":
        return api.get(path, bad.body, headers=bad.headers)
    if bad.fmt == "raw":
        return api.generic("POST", path, bad.body, content_type="application/json", headers=bad.headers)
    if bad.fmt == "form":
        return api.post(path, bad.body, headers=bad.headers)
    return api.post(path, bad.body, format=bad.fmt, headers=bad.headers)


def detail_of(response) -> str:
    content_type = response.get("Content-Type", "")
    if "json" not in content_type:
        return response.content.decode()
    body = response.json()
    if isinstance(body, list):  # Open311 errors: [{"code": 400, "description": "..."}]
        return "; ".join(item.get("description", "") for item in body)
    return body.get("detail", "") + json.dumps(body.get("errors", {}), ensure_ascii=False)


def test_the_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 40
    assert len({bad.name for bad in CATALOGUE}) == len(CATALOGUE)


def assert_refused_and_nothing_stored(api, world, bad: Bad) -> None:
    """`bad` answers its 4xx with a message naming the field, and no table an input touches changes."""
    before = counts()
    response = send(api, world, bad)
    message = detail_of(response)
    assert response.status_code == bad.status, (response.status_code, message)
    assert bad.names.lower() in message.lower(), message
    assert counts() == before


@pytest.mark.parametrize("bad", CATALOGUE, ids=lambda bad: bad.name)
def test_bad_input_is_refused_with_a_clear_4xx_and_nothing_stored(api, world, bad):
    assert_refused_and_nothing_stored(api, world, bad)


def test_the_vertex_cap_refuses_a_big_geometry_within_the_body_limit(settings):
    """10,001 vertices fit in a 2 MB body (about 40 bytes each) but are over MAX_VERTICES (10,000)."""
    from rest_framework import serializers

    from common.geometry import GeoJSONGeometryField

    class PlotInput(serializers.Serializer):
        boundary = GeoJSONGeometryField(types=("Polygon",))

    form = PlotInput(data={"boundary": {"type": "Polygon", "coordinates": [square(10_000)]}})
    assert not form.is_valid()
    assert "more than 10000 vertices" in str(form.errors["boundary"])
    settings.GRIDGIS = {**settings.GRIDGIS, "MAX_VERTICES": 20_000}
    assert PlotInput(data={"boundary": {"type": "Polygon", "coordinates": [square(10_000)]}}).is_valid()


POLYGON_CATALOGUE = [
    ("self-intersecting polygon", {"type": "Polygon", "coordinates": BOWTIE}, "Self-intersection[105.41 28.91]"),
    (
        "unclosed ring",
        {"type": "Polygon", "coordinates": [[[105.4, 28.9], [105.41, 28.9], [105.41, 28.91], [105.4, 28.91]]]},
        "not closed",
    ),
    (
        "ring of three positions",
        {"type": "Polygon", "coordinates": [[[105.4, 28.9], [105.41, 28.9], [105.4, 28.9]]]},
        "at least 4",
    ),
    ("empty polygon", {"type": "Polygon", "coordinates": []}, "empty"),
    ("empty ring", {"type": "MultiPolygon", "coordinates": [[[]]]}, "empty"),
    (
        "3D polygon",
        {
            "type": "Polygon",
            "coordinates": [[[105.4, 28.9, 1], [105.41, 28.9, 1], [105.41, 28.91, 1], [105.4, 28.9, 1]]],
        },
        "3D/M",
    ),
    (
        "hole outside its shell",
        {
            "type": "Polygon",
            "coordinates": [
                [[105.40, 28.90], [105.41, 28.90], [105.41, 28.91], [105.40, 28.91], [105.40, 28.90]],
                [[105.50, 28.95], [105.51, 28.95], [105.51, 28.96], [105.50, 28.95]],
            ],
        },
        "Hole lies outside shell",
    ),
    (
        "line where a polygon is wanted",
        {"type": "LineString", "coordinates": [[105.4, 28.9], [105.5, 28.9]]},
        "not accepted here",
    ),
    (
        "nested collection",
        {"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": []}]},
        "not accepted here",
    ),
    (
        "crs member",
        {
            "type": "Polygon",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
            "coordinates": [square(4)],
        },
        '"crs"',
    ),
    ("WKT polygon", "POLYGON((105.4 28.9, 105.41 28.9, 105.41 28.91, 105.4 28.9))", "WKT"),
]


@pytest.mark.parametrize("name,value,says", POLYGON_CATALOGUE, ids=[c[0] for c in POLYGON_CATALOGUE])
def test_polygon_input_through_the_shared_field(name, value, says):
    """The field every layer takes polygons with (plots, projects, inspection areas) refuses these."""
    from rest_framework import serializers

    from common.geometry import GeoJSONGeometryField

    class PlotInput(serializers.Serializer):
        boundary = GeoJSONGeometryField(types=("Polygon", "MultiPolygon"))
        srs = serializers.CharField(required=False)

    form = PlotInput(data={"boundary": value})
    assert not form.is_valid()
    assert says in str(form.errors["boundary"][0])


def test_polygon_in_an_unknown_srs_names_srs():
    from rest_framework import serializers

    from common.geometry import GeoJSONGeometryField

    class PlotInput(serializers.Serializer):
        boundary = GeoJSONGeometryField(types=("Polygon",))

    form = PlotInput(data={"boundary": {"type": "Polygon", "coordinates": [square(8)]}, "srs": "EPSG:3857"})
    assert not form.is_valid() and "srs" in str(form.errors)


IMPORTS = [
    ("not json", "grids.geojson", b"this is not json", "not valid"),
    (
        "crs member",
        "grids.geojson",
        json.dumps(
            {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "features": []}
        ).encode(),
        "crs",
    ),
    ("unknown type", "grids.geojson", json.dumps({"type": "Topology"}).encode(), "Topology"),
    ("no such file", None, None, "no such file"),
]


@pytest.mark.parametrize("name,filename,content,says", IMPORTS, ids=[c[0] for c in IMPORTS])
def test_import_grids_refuses_bad_files_and_stores_nothing(tmp_path, name, filename, content, says):
    small_tree()
    path = tmp_path / (filename or "missing.geojson")
    if content is not None:
        path.write_bytes(content)
    before = counts()
    with pytest.raises(CommandError, match=says):
        call_command("import_grids", str(path), "--level", "street", "--parent", "510502", verbosity=0)
    assert counts() == before


def test_import_grids_refuses_an_unknown_srs(tmp_path):
    small_tree()
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(CommandError, match="unknown srs"):
        call_command("import_grids", str(path), "--level", "street", "--srs", "+proj=merc", verbosity=0)


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_script_tags_are_stored_as_text_and_escaped_where_rendered(api, world):
    response = api.post(CASES, intake(lon=105.41, lat=28.935, description=SCRIPT, address=SCRIPT), format="json")
    assert response.status_code == 201
    api.force_authenticate(world["users"]["dispatcher"])  # issue 7: reading a case needs a sign-in
    case = Case.objects.get(pk=response.json()["id"])
    assert case.description == SCRIPT and case.address == SCRIPT  # stored verbatim, as text
    assert response.json()["properties"]["description"] == SCRIPT  # JSON carries it as a string
    page = api.get(f"{CASES}{case.pk}/", HTTP_ACCEPT="text/html").content.decode()  # the browsable API
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    xml = api.get(f"/open311/v2/requests/{case.pk}.xml").content.decode()
    assert "<script>" not in xml and "&lt;script&gt;" in xml


@pytest.mark.parametrize(
    "param,value",
    [
        ("category", "0101' OR '1'='1"),
        ("grid", "510502' OR 1=1 --"),
        ("department", "x'; DROP TABLE grids_grid;--"),
        ("district", "510502') UNION SELECT password FROM auth_user --"),
    ],
)
def test_sql_like_filter_values_match_nothing_and_harm_nothing(api, world, param, value):
    api.force_authenticate(world["users"]["dispatcher"])  # issue 7: the case list needs a sign-in
    before = counts()
    response = api.get(CASES, {param: value})
    assert response.status_code == 200
    assert response.json()["features"] == []  # taken as a literal code that no case has
    assert counts() == before
