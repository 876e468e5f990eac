"""The three map pages, built with folium: what each role sees, in the page's language.

- officer: the grids and micro-grids (the officer's own highlighted), inspection points, today's
  patrol tracks, open cases by time left (a signed-in officer's own);
- planner: communities and grids with their leaders, estates, renovation footprints by batch;
- supervisor: the grid tree by zoom, filtered by district and street, audit findings, case tiles
  and a case heatmap, and a box to jump to a grid by code.

Every overlay is a collection a layer published (common.publishing), read through the OGC API. No
feature is embedded in a page: every overlay asks the API for the visible bbox.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from common.scopes import scope_for
from layers.grids.models import Duty, Level
from maps import selectors
from maps.folium_offline import (
    BBoxLayer,
    CaseTileLayer,
    FilterControl,
    HeatLayer,
    Legend,
    OfflineMap,
    Setup,
    basemap_layer,
)
from maps.ogc import collections

# Which grid level the supervisor's adaptive layer asks for up to each zoom (see maps.tiles too).
SUPERVISOR_LEVELS = [[10, "district"], [12, "street"], [13, "community"], [15, "grid"], [22, "microgrid"]]

# The heatmap weighs the counts of grids finer than the tree shows: 450 communities for the whole city,
# a few thousand micro-grids in a zoom-13 view of the core.
HEAT_LEVELS = [[10, "community"], [12, "grid"], [22, "microgrid"]]

GRID_POPUP = [["code", "code"]]
# Properties gridmap.js's styles read (see G.styles), fetched even when no popup shows them.
STYLE_PROPERTIES = {"case": ("due_at",), "footprint": ("batch",)}
CASE_POPUP = ["description", "address", "status", "grid", "department", "due_at", ["rework_count", "rework"]]


def _trail_url() -> str:
    """The incidents API's trail of a case, with ID where the case's id goes (for gridmap.js)."""
    return reverse("incident-trail", kwargs={"pk": 0}).replace("/0/", "/ID/")


def _overlay_url() -> str:
    """The estates API's overlay of a renovation project (what its footprint touches)."""
    return reverse("renovation-project-overlay", kwargs={"pk": 0}).replace("/0/", "/ID/")


@dataclass(frozen=True)
class PageContext:
    """What a page is built for: the user (their area, their grids, their cases), its title and role."""

    user: object
    title: str
    role: str


def labels() -> dict[str, str]:
    """The words gridmap.js shows, translated into the active language (Django i18n)."""
    return {
        "code": _("Code"),
        "name": _("Name"),
        "level": _("Level"),
        "leaders": _("Responsible leaders"),
        "officers": _("Grid officers"),
        "departments": _("Partner departments"),
        "cases": _("Cases"),
        "open": _("Open"),
        "status": _("Status"),
        "district": _("District"),
        "street": _("Street"),
        "all_districts": _("All districts"),
        "all_streets": _("All streets"),
        "grid_code": _("Grid code"),
        "go": _("Go"),
        "not_found": _("No such grid"),
        "category": _("Category"),
        "description": _("Description"),
        "batch": _("Batch"),
        "households": _("Households"),
        "kind": _("Kind"),
        "measure": _("Measure"),
        "due_at": _("Due"),
        "address": _("Address"),
        "grid": _("Grid"),
        "department": _("Department"),
        "rework": _("Rework"),
        "trail": _("Trail"),
        "started_at": _("Started"),
        "ended_at": _("Ended"),
        "starts_on": _("Starts"),
        "ends_on": _("Ends"),
        "buildings": _("Buildings"),
        "year_built": _("Year built"),
        "management_type": _("Management"),
        "grids": _("Grids"),
        "open_cases_near": _("Open cases nearby"),
        "conflicts": _("Overlapping projects"),
        "unit": _("Unit"),
        "truncated": _("Not everything in view is drawn: zoom in to see all features."),
    }


def _grid_codes_of(user) -> list[str]:
    """Codes of the grids the signed-in user holds a duty for (drawn highlighted)."""
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    if person is None:
        return []
    return list(Duty.objects.active().filter(person=person).values_list("grid__code", flat=True).order_by("grid__code"))


def _new_map(page: PageContext, *, whole_city: bool, zoom: int | None = None) -> folium.Map:
    m = OfflineMap(
        location=list(reversed(settings.GRIDGIS["CITY_CENTRE"])),
        zoom_start=12,
        position="absolute",
        control_scale=True,
        prefer_canvas=False,
    )
    m.get_root().title = page.title
    Setup(
        {
            "view": selectors.initial_view(page.user, whole_city=whole_city, zoom=zoom),
            "labels": labels(),
            "language": get_language(),
            "myGrids": _grid_codes_of(page.user),
            "extentUrl": reverse("map-grid-extent", kwargs={"code": "000000"}).replace("000000", "CODE"),
            "dueSoonHours": 24,
        }
    ).add_to(m)
    base = basemap_layer(settings.GRIDGIS["BASEMAP"], settings.GRIDGIS["TIANDITU_TOKEN"])
    if base is not None:
        base.add_to(m)
    return m


def _grid_layer(
    m,
    name: str,
    key: str,
    *,
    level: str | None = None,
    levels_by_zoom=None,
    min_zoom: int = 0,
    uses_filter: bool = False,
    show: bool = True,
    label_min_zoom: int = 0,
) -> None:
    options = {
        "key": key,
        "url": reverse("map-grids"),
        "params": {"level": level} if level else {},
        "minZoom": min_zoom,
        "style": "grid",
        "titleField": "name",
        "popupFields": GRID_POPUP,
        "usesFilter": uses_filter,
        "detailUrl": reverse("map-grid-detail", kwargs={"code": "000000"}).replace("000000", "CODE"),
        # Finer levels draw above coarser ones (Leaflet's overlay pane is 400, markers 600).
        "zIndex": 400 + 10 * int(Level.from_name(level)) if level else 410,
    }
    if levels_by_zoom:
        options["levelByZoom"] = levels_by_zoom
    if label_min_zoom:
        options["labelMinZoom"] = label_min_zoom
    BBoxLayer(name, options, show=show).add_to(m)


def _collection_layer(
    m,
    collection_id: str,
    name: str,
    *,
    style: str,
    min_zoom: int,
    title_field: str,
    popup_fields: list[str | list[str]],
    z_index: int,
    show: bool = True,
    **extra,
) -> None:
    """Adds a published collection as a bbox overlay. A popup field is a property's name, or [name, label
    key] where the popup's label is not the property's own."""
    popup_fields = [[field, field] if isinstance(field, str) else field for field in popup_fields]
    collection = collections.get(collection_id)
    if collection is None:
        raise LookupError(f"no layer published the collection {collection_id!r}")
    offered = set(collection.property_names())
    # Ask only for the properties the layer shows and styles by: a fifth of the bytes for cases.
    wanted = [title_field, *(f[0] for f in popup_fields), *STYLE_PROPERTIES.get(style, ())]
    properties = ",".join(dict.fromkeys(p for p in wanted if p in offered))
    params = {"limit": settings.GRIDGIS["OGC_MAX_LIMIT"], "properties": properties, **extra.pop("params", {})}
    BBoxLayer(
        name,
        {
            **extra,
            "key": collection_id,
            "url": reverse("ogc-items", kwargs={"collection_id": collection_id}),
            "params": params,
            "minZoom": min_zoom,
            "style": style,
            "titleField": title_field,
            "popupFields": [f for f in popup_fields if f[0] in offered],
            "zIndex": z_index,
        },
        show=show,
    ).add_to(m)


def _swatch(label: str, shape: str, colour: str, fill: str | None = None) -> dict:
    """One row of the legend: a box, circle or line drawn in `colour` and filled with `fill` (the same
    colour unless given)."""
    return {"label": label, "colour": colour, "fill": fill or colour, "shape": shape}


def _level_entry(level: Level, label: str) -> dict:
    colours = {1: "#6a3d9a", 2: "#1f78b4", 3: "#33a02c", 4: "#ff7f00", 5: "#b15928"}
    return _swatch(label, "box", colours[int(level)], "transparent")


def _with_legend(m: folium.Map, legend: list[dict]) -> folium.Map:
    """The map with its legend and the control that turns its layers on and off."""
    Legend(_("Legend"), legend).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def officer_map(page: PageContext) -> folium.Map:
    m = _new_map(page, whole_city=False, zoom=15)
    _grid_layer(m, _("Grids"), "grids", level="grid", min_zoom=12, label_min_zoom=16)
    _grid_layer(m, _("Micro-grids"), "microgrids", level="microgrid", min_zoom=15, label_min_zoom=18)
    legend = [
        _level_entry(Level.GRID, _("Grid")),
        _level_entry(Level.MICROGRID, _("Micro-grid")),
        _swatch(_("My grids"), "box", "#ff7f00", "#e31a1c"),
    ]
    _collection_layer(
        m,
        "inspection-points",
        _("Inspection points"),
        style="point",
        min_zoom=13,
        z_index=480,
        title_field="name",
        popup_fields=["category"],
    )
    legend.append(_swatch(_("Inspection point"), "circle", "#08519c", "#3182bd"))
    _collection_layer(
        m,
        "patrols-today",
        _("Today's patrol tracks"),
        style="track",
        min_zoom=12,
        z_index=470,
        title_field="officer",
        popup_fields=["grid", "started_at", "ended_at"],
    )
    legend.append(_swatch(_("Patrol track"), "line", "#7b3294"))
    # A signed-in officer sees the open cases assigned to them; anyone else every open case in view,
    # from zoom 15 (a zoom-14 view of the city core holds 5,500 open cases of the 2.2-million-case city).
    person = getattr(page.user, "person", None) if getattr(page.user, "is_authenticated", False) else None
    mine = {"params": {"officer": person.id}} if person is not None else {}
    _collection_layer(
        m,
        "open-cases",
        _("My open cases") if mine else _("Open cases"),
        style="case",
        min_zoom=12 if mine else 15,
        z_index=490,
        title_field="category_name",
        popup_fields=CASE_POPUP,
        trailUrl=_trail_url(),
        **mine,
    )
    legend += [
        _swatch(_("On time"), "circle", "#333", "#1a9850"),
        _swatch(_("Due soon"), "circle", "#333", "#fee08b"),
        _swatch(_("Overdue"), "circle", "#333", "#d73027"),
    ]
    return _with_legend(m, legend)


def planner_map(page: PageContext) -> folium.Map:
    m = _new_map(page, whole_city=False, zoom=13)
    _grid_layer(m, _("Communities"), "communities", level="community", min_zoom=10, label_min_zoom=13)
    _grid_layer(m, _("Grids"), "grids", level="grid", min_zoom=13)
    legend = [_level_entry(Level.COMMUNITY, _("Community")), _level_entry(Level.GRID, _("Grid"))]
    _collection_layer(
        m,
        "estates",
        _("Estates"),
        style="estate",
        min_zoom=12,
        z_index=460,
        title_field="name",
        popup_fields=["households", "buildings", "year_built", "management_type"],
    )
    legend.append(_swatch(_("Estate"), "box", "#8c510a", "#dfc27d"))
    _collection_layer(
        m,
        "renovation-projects",
        _("Renovation footprints"),
        style="footprint",
        min_zoom=11,
        z_index=470,
        title_field="name",
        popup_fields=["batch", "status", "starts_on", "ends_on"],
        overlayUrl=_overlay_url(),
    )
    legend += [
        _swatch(_("Batch: implement"), "box", "#d7301f"),
        _swatch(_("Batch: plan"), "box", "#fc8d59"),
        _swatch(_("Batch: reserve"), "box", "#fdcc8a"),
    ]
    return _with_legend(m, legend)


def supervisor_map(page: PageContext) -> folium.Map:
    m = _new_map(page, whole_city=True)
    _grid_layer(m, _("Grid tree (by zoom)"), "tree", levels_by_zoom=SUPERVISOR_LEVELS, uses_filter=True)
    legend = [
        _level_entry(Level.DISTRICT, _("District")),
        _level_entry(Level.STREET, _("Street")),
        _level_entry(Level.COMMUNITY, _("Community")),
        _level_entry(Level.GRID, _("Grid")),
        _level_entry(Level.MICROGRID, _("Micro-grid")),
    ]
    _collection_layer(
        m,
        "audit-findings",
        _("Audit findings"),
        style="finding",
        min_zoom=0,
        z_index=480,
        title_field="grid_name",
        popup_fields=["kind", "measure", "unit", ["grid_code", "code"]],
    )
    legend.append(_swatch(_("Audit finding"), "box", "#e31a1c", "#fb9a99"))
    # From zoom 12: the case table has no index on dead_corner, so a whole-city query scans all cases.
    _collection_layer(
        m,
        "dead-corner-cases",
        _("Dead-corner cases"),
        style="dead_corner",
        min_zoom=12,
        z_index=495,
        title_field="category_name",
        popup_fields=CASE_POPUP,
        trailUrl=_trail_url(),
    )
    legend.append(_swatch(_("Dead-corner case"), "circle", "#333", "#4575b4"))
    CaseTileLayer(
        _("Cases (tiles)"),
        {
            "key": "case_tiles",
            "url": reverse("tiles-incidents", kwargs={"z": 0, "x": 0, "y": 0}).replace(
                "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
            ),
        },
        show=False,
    ).add_to(m)
    legend.append(_swatch(_("Cases per grid"), "circle", "#7f0000", "#ef6548"))
    HeatLayer(
        _("Case heatmap"),
        {"key": "heat", "url": reverse("map-case-counts"), "levelByZoom": HEAT_LEVELS, "params": {}},
        show=True,
    ).add_to(m)
    legend.append(_swatch(_("Case heatmap"), "circle", "#ff0000", "#ffff00"))
    FilterControl(selectors.districts_and_streets(scope_for(page.user))).add_to(m)
    return _with_legend(m, legend)


PAGES = {"officer": officer_map, "planner": planner_map, "supervisor": supervisor_map}


def render_parts(m: folium.Map, nonce: str = "") -> dict[str, str]:
    """folium's page in three parts (head, body, script) for the Django page template. folium writes
    inline <script> elements into the head: with `nonce` (the request's CSP nonce) each carries it,
    so the Content-Security-Policy need not allow inline scripts."""
    figure = m.get_root()
    figure.render()
    head = figure.header.render()
    if nonce:
        head = head.replace("<script>", f'<script nonce="{nonce}">')
    return {"head": head, "body": figure.html.render(), "script": figure.script.render()}
