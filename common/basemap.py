"""The basemap a deployment configured (GRIDGIS["BASEMAP"]), described once for every map in the app.

"none": no tiles (the layers draw on the page's plain background); "osm": OpenStreetMap's public tiles;
"tianditu": the national map service (needs a token; its vec_w tiles are Web Mercator in CGCS2000, so
the layers line up without an offset); anything else: a tile URL template, e.g.
"/static/tiles/{z}/{x}/{y}.png" for a local tile folder. The folium pages (maps/) and the screens'
map.js (frontend/) both read this description, so the two never disagree.
"""

from __future__ import annotations


def basemap_spec(config: str, token: str = "") -> dict | None:
    """{"url", "attribution", "subdomains", "max_zoom", "name"} for `config`, or None for no basemap."""
    config = (config or "none").strip()
    if config.lower() == "none":
        return None
    if config.lower() == "osm":
        return {
            "name": "OpenStreetMap",
            "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "attribution": "&copy; OpenStreetMap contributors",
            "subdomains": "abc",
            "max_zoom": 19,
        }
    if config.lower() == "tianditu":
        if not token:
            raise ValueError("GRIDGIS_BASEMAP=tianditu needs GRIDGIS_TIANDITU_TOKEN")
        url = (
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + token
        )
        return {
            "name": "天地图 Tianditu",
            "url": url,
            "attribution": "&copy; 天地图 Tianditu",
            "subdomains": "01234567",
            "max_zoom": 18,
        }
    return {"name": "basemap", "url": config, "attribution": "local tiles", "subdomains": "abc", "max_zoom": 20}
