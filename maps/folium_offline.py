"""folium, made to work offline: every script, stylesheet and tile the map pages load comes from gridgis.

folium's defaults point at public CDNs (jsdelivr, cdnjs, code.jquery.com, bootstrapcdn), which
government intranets cannot reach. OfflineMap replaces that list with the vendored copies under
static/vendor/ (see static/vendor/README.md), and adds no jQuery, Bootstrap or Font Awesome: the
pages do not use them. The map elements in this module render templates from map_templates/folium/
that call static/maps/gridmap.js.
"""

from __future__ import annotations

from pathlib import Path

import folium
from branca.element import MacroElement
from django.conf import settings
from django.templatetags.static import static
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from common.basemap import basemap_spec

LEAFLET = "vendor/leaflet-1.9.4"
VECTORGRID = "vendor/leaflet.vectorgrid-1.3.0"
HEAT = "vendor/leaflet.heat-0.2.0"

TEMPLATES = Path(settings.BASE_DIR) / "map_templates" / "folium"


def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


class OfflineMap(folium.Map):
    """A folium.Map that links Leaflet from the app's own static files and nothing else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("tiles", None)
        super().__init__(**kwargs)
        # Instance attributes: folium's add_js_link would otherwise edit the class-wide lists.
        self.default_js = [("leaflet", static(f"{LEAFLET}/leaflet.js"))]
        self.default_css = [("leaflet_css", static(f"{LEAFLET}/leaflet.css"))]


def basemap_layer(config: str, token: str = "") -> folium.TileLayer | None:
    """The basemap that GRIDGIS["BASEMAP"] asks for (see common.basemap), or None for a plain background."""
    spec = basemap_spec(config, token)
    if spec is None:
        return None
    return folium.TileLayer(
        tiles=spec["url"],
        name=spec["name"],
        attr=spec["attribution"],
        max_zoom=spec["max_zoom"],
        subdomains=spec["subdomains"],
    )


class Setup(JSCSSMixin, MacroElement):
    """Loads gridmap.js and its plugins (from the app) and hands the page's settings to gridgis.init."""

    _template = _template("setup.j2")

    def __init__(self, config: dict):
        super().__init__()
        self._name = "GridgisSetup"
        self.config = config
        self.default_js = [
            ("vectorgrid", static(f"{VECTORGRID}/Leaflet.VectorGrid.bundled.min.js")),
            ("leaflet_heat", static(f"{HEAT}/leaflet-heat.js")),
            ("gridmap", static("maps/gridmap.js")),
        ]
        self.default_css = [("gridmap_css", static("maps/gridmap.css"))]


class _OverlayLayer(Layer):
    """An overlay in the layer control that gridmap.js fills from the app: its template hands `options`
    to gridmap.js; the element is named after its class."""

    def __init__(self, name: str, options: dict, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = type(self).__name__
        self.options = options


class BBoxLayer(_OverlayLayer):
    """An overlay that gridmap.js refills from `url` with the visible bbox after each pan or zoom.

    `options` go to gridgis.bboxLayer: key, url, params, minZoom, levelByZoom, style, titleField,
    popupFields, usesFilter. Nothing of the data is in the page; it all comes from the API.
    """

    _template = _template("bbox_layer.j2")


class CaseTileLayer(_OverlayLayer):
    """Case vector tiles (Leaflet.VectorGrid reading /tiles/incidents/{z}/{x}/{y}.pbf)."""

    _template = _template("case_tiles.j2")


class HeatLayer(_OverlayLayer):
    """A heat layer of case counts per grid (Leaflet.heat), loaded by bbox."""

    _template = _template("heat_layer.j2")


class Legend(MacroElement):
    """The legend: entries of {label, colour, fill, shape} ("box", "circle", "line")."""

    _template = _template("legend.j2")

    def __init__(self, title: str, entries: list[dict]):
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.entries = entries


class FilterControl(MacroElement):
    """The supervisor's filter by district and street, and the jump-to-grid-code box."""

    _template = _template("filter_control.j2")

    def __init__(self, districts: list[dict]):
        super().__init__()
        self._name = "FilterControl"
        self.districts = districts
