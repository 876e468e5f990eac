"""Form widgets that work offline."""

from django.conf import settings
from django.contrib.gis.forms.widgets import OpenLayersWidget


class LocalMapWidget(OpenLayersWidget):
    """Django's OpenLayers geometry widget, with OpenLayers served locally and a configurable basemap."""

    template_name = "gis/gridgis_openlayers.html"

    class Media:
        extend = False  # replace the CDN links of OpenLayersWidget.Media, do not add to them
        css = {"all": ("vendor/ol-7.2.2/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol-7.2.2/ol.js", "gis/js/OLMapWidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        basemap = settings.GRIDGIS["BASEMAP"]
        context["tile_url"] = basemap if "{z}" in basemap else ""
        return context
