"""Template tags of the screen base: the map configuration every screen's map.js reads."""

from __future__ import annotations

from django import template
from django.conf import settings

from common.basemap import basemap_spec

register = template.Library()


@register.simple_tag
def map_config() -> dict:
    """What map.js needs from the server: the basemap (None: plain background) and the city centre.
    Rendered with json_script, a data block that a strict CSP allows (it is never executed)."""
    lon, lat = settings.GRIDGIS["CITY_CENTRE"]
    return {
        "basemap": basemap_spec(settings.GRIDGIS["BASEMAP"], settings.GRIDGIS["TIANDITU_TOKEN"]),
        "centre": [lat, lon],
        "zoom": settings.GRIDGIS["MAP_START_ZOOM"],
        "leaflet": "vendor/leaflet-1.9.4",
    }
