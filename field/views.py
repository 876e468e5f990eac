"""The officer's app: its screens (server-rendered shells that work offline), the data they read, the
web-app manifest, the icons and the service worker. Writes go to the layers' API with an
Idempotency-Key (static/field/queue.js), never through views of this app."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.geometry import LonLatSerializer
from field import icons, selectors
from layers.accounts.permissions import SignedIn
from layers.accounts.roles import ADMIN, OFFICER, request_scope


def field_settings() -> dict:
    return settings.GRIDGIS["FIELD"]


def may_use_field(request) -> bool:
    return request_scope(request).has(OFFICER, ADMIN)


class FieldScreen(LoginRequiredMixin, TemplateView):
    """A screen of the app, for a signed-in grid officer. The first screen of a session starts the shift:
    the session then lasts GRIDGIS FIELD SESSION_HOURS (the queue keeps its items past the end and asks
    the officer to sign in again)."""

    screen = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_use_field(request):
            raise PermissionDenied(_("The officer app is for grid officers on duty."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and "field_shift_started" not in request.session:
            request.session["field_shift_started"] = timezone.now().isoformat()
            request.session.set_expiry(int(field_settings()["SESSION_HOURS"] * 3600))
        return super().get(request, *args, **kwargs)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        # The page's language as a cookie: the service worker's own requests (the screens and the
        # catalogue it keeps for offline use) then come back in the same language as the page.
        language = translation.get_language()
        if self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 86400, samesite="Lax")
        return response

    def get_template_names(self):
        return [f"field/{self.screen}.html"]

    def get_context_data(self, **kwargs):
        limits = field_settings()
        return {
            **super().get_context_data(**kwargs),
            "screen": self.screen,
            "screen_module": "queue-screen.js" if self.screen == "queue" else f"{self.screen}.js",
            "field_config": {
                "screen": self.screen,
                "urls": {
                    "home": reverse("field-home"),
                    "data": reverse("field-data"),
                    "nearby": reverse("field-nearby"),
                    "queue": reverse("field-queue"),
                    "task": reverse("field-task"),
                    "report": reverse("field-report"),
                    "patrol": reverse("field-patrol"),
                    "serviceWorker": reverse("field-sw"),
                    "login": reverse("login"),
                    "me": reverse("auth-me"),
                    "incidents": "/api/v1/incidents/",
                    "patrols": "/api/v1/patrols/",
                },
                "scope": reverse("field-home"),
                "photoMaxPixels": limits["PHOTO_MAX_SIDE_PX"],
                "maxAccuracyM": limits["MAX_ACCURACY_M"],
                "maxSpeedMps": limits["MAX_SPEED_MPS"],
                "gapSeconds": limits["GAP_SECONDS"],
                "checkinMaxDistanceM": settings.GRIDGIS["CHECKIN_MAX_DISTANCE_M"],
                "duplicateMetres": settings.GRIDGIS["DUPLICATE_METRES"],
            },
        }


class HomeDataView(APIView):
    """Everything the app shows and keeps for offline use, in one answer: the officer, their grids, their
    tasks with photos and trail, the inspection points of their grids, the categories and their recent ones."""

    permission_classes = [SignedIn]

    @extend_schema(operation_id="field_home_data", responses={200: OpenApiTypes.OBJECT}, tags=["field"])
    def get(self, request):
        if not may_use_field(request):
            raise PermissionDenied(_("The officer app is for grid officers on duty."))
        return Response(selectors.home_document(request))


class NearbyView(APIView):
    """The open cases of a category near a point that a report there would join as "me too"."""

    permission_classes = [SignedIn]

    @extend_schema(
        operation_id="field_nearby",
        parameters=[LonLatSerializer, OpenApiParameter("category", str, required=True)],
        responses={200: OpenApiTypes.OBJECT},
        tags=["field"],
    )
    def get(self, request):
        where = LonLatSerializer(data=request.query_params)
        where.is_valid(raise_exception=True)
        code = request.query_params.get("category", "")
        category = selectors.category_by_code(code)
        if category is None:
            raise ValidationError({"category": f"no active category has code {code!r}"})
        return Response(selectors.nearby_document(request, where.validated_data["point"], category))


def manifest(request):
    """The web-app manifest: installable, opens full-screen on /field/, in the request's language."""
    document = {
        "name": _("gridgis officer app"),
        "short_name": _("Grid officer"),
        "description": _("Tasks, patrols and reports of a grid officer, online or offline."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("field-home"),
        "scope": reverse("field-home"),
        "id": reverse("field-home"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f3f5f7",
        "theme_color": "#1d5c8f",
        "icons": [
            {
                "src": reverse("field-icon", args=[size]),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in icons.SIZES
        ]
        + [
            {
                "src": reverse("field-icon", args=[icons.SIZES[-1]]),
                "sizes": f"{icons.SIZES[-1]}x{icons.SIZES[-1]}",
                "type": "image/png",
                "purpose": "maskable",
            }
        ],
    }
    return JsonResponse(document, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


def icon(request, size: int):
    try:
        content = icons.icon_png(size)
    except ValueError:
        return HttpResponse(status=404)
    response = HttpResponse(content, content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# What the service worker keeps for offline use from the first visit: the screens and their assets.
SHELL_SCREENS = ("field-home", "field-report", "field-patrol", "field-task", "field-queue")
SHELL_STATIC = (
    "frontend/base.css",
    "frontend/base.js",
    "frontend/i18n.js",
    "frontend/net.js",
    "frontend/map.js",
    "frontend/icon.svg",
    "vendor/leaflet-1.9.4/leaflet.css",
    "vendor/leaflet-1.9.4/leaflet.js",
    "field/field.css",
    "field/app.js",
    "field/db.js",
    "field/queue.js",
    "field/data.js",
    "field/geo.js",
    "field/photos.js",
    "field/home.js",
    "field/report.js",
    "field/patrol.js",
    "field/task.js",
    "field/queue-screen.js",
)


def _shell_version() -> str:
    """A digest of the shell's static files and the worker itself: a change to any gives a new cache."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        path = finders.find(name)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    worker = finders.find("field/sw.js")
    with open(worker, "rb") as handle:
        digest.update(handle.read())
    return digest.hexdigest()[:16]


class ServiceWorkerView(View):
    """The service worker, served under /field/ so that its scope is the app (see static/field/sw.js).
    The list of what to keep and the cache version are prepended as a constant."""

    def get(self, request):
        worker = finders.find("field/sw.js")
        with open(worker, encoding="utf-8") as handle:
            body = handle.read()
        shell = {
            "version": _shell_version(),
            "screens": [reverse(name) for name in SHELL_SCREENS],
            "static": [static(name) for name in SHELL_STATIC] + [reverse("javascript-catalog")],
            "data": reverse("field-data"),
            "scope": reverse("field-home"),
        }
        preamble = f"const SHELL = {json.dumps(shell)};\n"
        response = HttpResponse(preamble + body, content_type="text/javascript; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        response["Service-Worker-Allowed"] = reverse("field-home")
        return response
