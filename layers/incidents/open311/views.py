"""GeoReport v2 endpoints: discovery, services, service definitions, requests (GET and POST).

Categories are the services (minors; the major is the `group`). A request is a case; its status is
`open` while the case is in the loop and `closed` once closed or rejected (a "me too" duplicate shows
its original's). `agency_responsible` names the case's department and the extension `grid_code`
its grid. A request with `address_string` and no lat/long is placed by the place search
(layers.grids.places), as the citizen's report page places a name. Public reads carry no personal data: the reporter's name, email and phone are stored on
the case but never returned.
"""

from __future__ import annotations

import datetime
from functools import wraps

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from common.text import is_ascii_number
from common.throttling import refused_by_throttles
from layers.grids import places
from layers.incidents.models import FINAL_STATUSES, OPEN_STATUSES, Case, Category, Open311Key, Source, Status
from layers.incidents.open311.render import errors, respond
from layers.incidents.selectors import outside_service_area, published_cases
from layers.incidents.services import report_case

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
MAX_DESCRIPTION = 4000


def _fmt(fmt: str | None) -> str:
    return fmt or "xml"


def _bad_jurisdiction(request, fmt: str):
    """A 404 error body if the request names a jurisdiction this server does not serve."""
    given = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
    if given and given != settings.GRIDGIS["OPEN311_JURISDICTION"]:
        return errors(
            fmt, 404, f"jurisdiction_id {given!r} is not served here; use {settings.GRIDGIS['OPEN311_JURISDICTION']!r}"
        )
    return None


def _served_here(view):
    """A read of the spec's: the format defaults to XML, and a jurisdiction_id this server does not
    serve is answered 404 before the view runs."""

    @wraps(view)
    def read(request, *args, fmt=None, **kwargs):
        fmt = _fmt(fmt)
        return _bad_jurisdiction(request, fmt) or view(request, *args, fmt=fmt, **kwargs)

    return read


def _w3c(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).isoformat(timespec="seconds")


@require_GET
def discovery(request, fmt=None):
    fmt = _fmt(fmt)
    root = request.build_absolute_uri("/open311/v2/")
    return respond(
        fmt,
        "discovery",
        None,
        {
            "changeset": "2026-11-23T00:00:00+08:00",
            "contact": "泸州市网格化服务管理指挥中心 Luzhou grid management dispatch centre",
            "key_service": "api_key from the dispatch centre",
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": root,
                    "changeset": "2026-11-23T00:00:00+08:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


def _service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": f"{category.name_zh} {category.name_en}",
        "description": f"{category.name_en} ({category.parent.name_en if category.parent else ''})",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.parent.name_zh if category.parent else category.name_zh,
    }


def _minors():
    return Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent").order_by("code")


@require_GET
@_served_here
def services(request, fmt):
    return respond(fmt, "services", "service", [_service(c) for c in _minors()])


@require_GET
@_served_here
def service_definition(request, code, fmt):
    category = _minors().filter(code=code).first()
    if category is None:
        return errors(fmt, 404, f"service_code {code!r} not found")
    return respond(fmt, "service_definition", None, {"service_code": category.code, "attributes": category.attributes})


def _status(case: Case) -> str:
    if case.status == Status.DUPLICATE and case.duplicate_of is not None:
        return _status(case.duplicate_of)
    return "closed" if case.status in FINAL_STATUSES else "open"


def _public(case: Case) -> dict:
    """A case as a GeoReport request, with no personal data."""
    return {
        "service_request_id": str(case.pk),
        "status": _status(case),
        "status_notes": case.get_status_display(),
        "service_name": case.category.name_zh,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": case.department.name if case.department else "",
        "service_notice": "",
        "requested_datetime": _w3c(case.reported_at),
        "updated_datetime": _w3c(case.updated_at),
        "expected_datetime": _w3c(case.final_due_at),
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": case.location.y,
        "long": case.location.x,
        "media_url": case.media_url,
        "grid_code": case.grid.code if case.grid else "",
    }


def _public_queryset():
    """The cases Open311 publishes (selectors.published_cases)."""
    return (
        published_cases()
        .select_related("category", "department", "grid", "duplicate_of")
        .order_by("-reported_at", "-id")
    )


@require_GET
@_served_here
def request_detail(request, request_id, fmt):
    case = _public_queryset().filter(pk=int(request_id)).first() if is_ascii_number(request_id) else None
    if case is None:
        return errors(fmt, 404, f"service_request_id {request_id!r} not found")
    return respond(fmt, "service_requests", "request", [_public(case)])


def _parse_date(request, name: str, fmt: str):
    text = request.GET.get(name)
    if not text:
        return None, None
    example = "a w3 date-time such as 2026-01-01T00:00:00Z"
    try:
        moment = parse_datetime(text.replace(" ", "+"))
    except ValueError:  # well-formed but not a real date or time (month 13, day 45, hour 25)
        return None, errors(fmt, 400, f"{name}: {text!r} is not a real date and time; send {example}")
    if moment is None:
        return None, errors(fmt, 400, f"{name}: {text!r} is not {example}")
    if not 1900 <= moment.year <= 2999:  # the 90-day window arithmetic stays within datetime's range
        return None, errors(fmt, 400, f"{name}: the year must be within 1900..2999")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, None


def _list_requests(request, fmt: str):
    queryset = _public_queryset()
    ids = request.GET.get("service_request_id")
    if ids:
        wanted = [part.strip() for part in ids.split(",") if part.strip()]
        if not all(is_ascii_number(part) for part in wanted):
            return errors(fmt, 400, "service_request_id: a comma-separated list of numbers")
        return respond(fmt, "service_requests", "request", [_public(c) for c in queryset.filter(pk__in=wanted)])
    start, problem = _parse_date(request, "start_date", fmt)
    if problem:
        return problem
    end, problem = _parse_date(request, "end_date", fmt)
    if problem:
        return problem
    if start and end and end - start > datetime.timedelta(days=DEFAULT_DAYS):
        return errors(fmt, 400, f"start_date..end_date may not span more than {DEFAULT_DAYS} days")
    if start is None:
        start = (end or timezone.now()) - datetime.timedelta(days=DEFAULT_DAYS)
    queryset = queryset.filter(reported_at__gte=start)
    if end:
        queryset = queryset.filter(reported_at__lte=end)
    codes = request.GET.get("service_code")
    if codes:
        queryset = queryset.filter(category__code__in=[c.strip() for c in codes.split(",")])
    statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        return errors(fmt, 400, "status: open, closed or both, comma-separated")
    if statuses == {"open"}:
        queryset = queryset.filter(
            Q(status__in=OPEN_STATUSES) | Q(status=Status.DUPLICATE, duplicate_of__status__in=OPEN_STATUSES)
        )
    elif statuses == {"closed"}:
        queryset = queryset.filter(
            Q(status__in=(Status.CLOSED, Status.REJECTED))
            | Q(status=Status.DUPLICATE, duplicate_of__status__in=(Status.CLOSED, Status.REJECTED))
        )
    return respond(fmt, "service_requests", "request", [_public(c) for c in queryset[:MAX_REQUESTS]])


def _create_request(request, fmt: str):
    data = request.POST
    for name, values in data.lists():
        if any("\x00" in value for value in values):  # PostgreSQL text cannot hold NUL (a 500 otherwise)
            return errors(fmt, 400, f"{name}: NUL characters are not accepted")
    key = data.get("api_key", "")
    if not key:
        return errors(fmt, 403, "api_key is required to create a request")
    if not Open311Key.objects.filter(key=key, is_active=True).exists():
        return errors(fmt, 403, "api_key is not valid")
    code = data.get("service_code", "")
    if not code:
        return errors(fmt, 400, "service_code is required")
    category = _minors().filter(code=code).first()
    if category is None:
        return errors(fmt, 404, f"service_code {code!r} not found")
    lat, lon = data.get("lat", ""), data.get("long", "")
    address = data.get("address_string", "").strip()
    input_point = {"lat": lat, "long": lon}
    if not (lat and lon):
        if not address:
            if data.get("address_id"):
                return errors(fmt, 400, "lat and long (or address_string) are required: address_id is not used here")
            return errors(fmt, 400, "lat and long, or address_string, are required")
        # Placed by the place search of the report page: the best match among the names of streets,
        # communities, grids, estates and inspection points.
        found = places.search(address[: places.MAX_QUERY_LENGTH], limit=1)
        if not found:
            return errors(
                fmt,
                400,
                f"address_string {address[:50]!r} matches no street, community, estate or point; send lat and long",
            )
        place = found[0]
        lat, lon = str(place.point.y), str(place.point.x)
        input_point = {"address_string": address[:300], "place": {"kind": place.kind, "name": place.name}}
    try:
        lat_value, lon_value = float(lat), float(lon)
    except ValueError:
        return errors(fmt, 400, "lat and long must be decimal degrees (WGS84)")
    if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
        return errors(fmt, 400, "lat must be within -90..90 and long within -180..180")
    if (far := outside_service_area(Point(lon_value, lat_value, srid=4326))) is not None:
        return errors(
            fmt,
            400,
            f"lat/long: the point is {far / 1000:,.0f} km from the nearest district served "
            "here; are lat and long swapped?",
        )
    description = data.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        return errors(fmt, 400, f"description is longer than {MAX_DESCRIPTION} characters")
    email = data.get("email", "")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            return errors(fmt, 400, "email is not a valid address")
    media_url = data.get("media_url", "")
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except DjangoValidationError:
            return errors(fmt, 400, "media_url is not an http(s) URL")
    attributes = {
        name[len("attribute[") : -1]: data.get(name)
        for name in data
        if name.startswith("attribute[") and name.endswith("]")
    }
    for attribute in category.attributes:
        value = attributes.get(attribute["code"])
        if attribute.get("required") and not value:
            return errors(fmt, 400, f"attribute[{attribute['code']}] is required for service {code}")
        allowed = {v["key"] for v in attribute.get("values", [])}
        if value and allowed and value not in allowed:
            return errors(fmt, 400, f"attribute[{attribute['code']}] must be one of {', '.join(sorted(allowed))}")
    name = " ".join(part for part in (data.get("first_name", ""), data.get("last_name", "")) if part)
    case, _ = report_case(
        category=category,
        point=Point(lon_value, lat_value, srid=4326),
        input_point=input_point,
        input_srs="EPSG:4326",
        description=description,
        address=data.get("address_string", "")[:300],
        source=Source.OPEN311,
        reporter_name=name[:100],
        reporter_phone=data.get("phone", "")[:32],
        reporter_email=email,
        media_url=media_url,
        attributes=attributes,
    )
    notice = "已受理，将派遣至责任部门 / received; it will be dispatched to the responsible department"
    return respond(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": str(case.pk), "service_notice": notice, "account_id": ""}],
        status=201,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests(request, fmt=None):
    fmt = _fmt(fmt)
    # Open311 is a plain Django view, outside DRF's throttling: the same per-IP, per-user and (for a new
    # request) intake rates apply here.
    wait = refused_by_throttles(request, "intake" if request.method == "POST" else None)
    if wait is not None:
        response = errors(fmt, 429, f"too many requests; retry in {wait:.0f} s")
        response["Retry-After"] = str(max(1, round(wait)))
        return response
    refusal = _bad_jurisdiction(request, fmt)
    if refusal:
        return refusal
    if request.method == "POST":
        return _create_request(request, fmt)
    return _list_requests(request, fmt)
