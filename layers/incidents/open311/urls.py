"""Open311 GeoReport v2 under /open311/v2/: every resource with a .xml or .json suffix (XML without)."""

from django.urls import re_path

from layers.incidents.open311 import views

FORMAT = r"(?:\.(?P<fmt>xml|json))?$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.services, name="open311-services"),
    re_path(r"^services/(?P<code>[^/.]+)" + FORMAT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FORMAT, views.requests, name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/.]+)" + FORMAT, views.request_detail, name="open311-request"),
]
