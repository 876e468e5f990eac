"""The screen base's URLs: the language switch (Django's set_language), the JavaScript catalogue and the
notifications page."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from frontend import views
from frontend.registry import catalogue_packages


class ScreensCatalog(JavaScriptCatalog):
    """The djangojs catalogue of the screen apps (frontend/registry.py) in the request's language; the
    field app's service worker keeps a copy for offline use."""

    def get(self, request, *args, **kwargs):
        self.packages = catalogue_packages()
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", ScreensCatalog.as_view(), name="javascript-catalog"),
    path("notifications/", views.notifications_page, name="notifications-page"),
]
