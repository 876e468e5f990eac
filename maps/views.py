"""The map pages: folium builds the map, a Django template (map_templates/maps/page.html) frames it.

The language is zh-hans unless the browser or the user asks for English: ?lang=en (or zh-hans)
switches and remembers the choice in Django's language cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import View

from common.scopes import request_scope
from maps import pages

# "Maps" titles map_templates/maps/index.html; named here so that makemessages run in maps/ keeps it.
INDEX_TITLE = gettext_noop("Maps")
TITLES = {
    "officer": gettext_noop("Grid officer's map"),
    "planner": gettext_noop("Planner's map"),
    "supervisor": gettext_noop("Supervisor's map"),
}


def _chosen_language(request) -> str | None:
    wanted = request.GET.get("lang", "")
    return wanted if wanted in dict(settings.LANGUAGES) else None


class MapIndexView(View):
    """A page listing the three maps."""

    def get(self, request):
        language = _chosen_language(request)
        with translation.override(language or translation.get_language()):
            response = render(request, "maps/index.html", {"languages": settings.LANGUAGES})
        if language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response


class MapPageView(LoginRequiredMixin, View):
    """A staff map: sign-in first (to /accounts/login/), then a staff role; every layer it draws asks
    the API, which answers with the reader's scope, and the map opens on the reader's own grids."""

    role = ""

    def get(self, request):
        if not request_scope(request).is_staff:
            raise PermissionDenied("the maps are for staff; the public can use Open311 at /open311/v2/")
        language = _chosen_language(request)
        with translation.override(language or translation.get_language()):
            title = _(TITLES[self.role])
            page = pages.PageContext(user=request.user, title=title, role=self.role)
            parts = pages.render_parts(pages.PAGES[self.role](page), nonce=str(request.csp_nonce))
            response = render(
                request,
                "maps/page.html",
                {
                    "title": title,
                    "role": self.role,
                    "parts": parts,
                    "languages": settings.LANGUAGES,
                    "roles": [(role, _(name)) for role, name in TITLES.items()],
                },
            )
        if language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response
