// The screens' map: Leaflet (vendored, loaded by frontend/leaflet.html) on the app's own background, with
// the basemap the deployment configured (GRIDGIS_BASEMAP, none by default) read from #map-config.

/** The server's map settings: {basemap: {url, attribution, subdomains, max_zoom} | null, centre, zoom}. */
export function mapConfig() {
  const element = document.getElementById("map-config");
  return element ? JSON.parse(element.textContent) : { basemap: null, centre: [28.8717, 105.4425], zoom: 12 };
}

/** A Leaflet map in `element` (an element or its id), with the configured basemap if any. */
export function createMap(element, { centre, zoom, label } = {}) {
  const L = globalThis.L;
  if (!L) throw new Error("Leaflet is not loaded: include frontend/leaflet.html");
  const config = mapConfig();
  const container = typeof element === "string" ? document.getElementById(element) : element;
  if (label) {
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", label);
  }
  const map = L.map(container, { zoomControl: true, attributionControl: Boolean(config.basemap) });
  map.setView(centre || config.centre, zoom || config.zoom);
  if (config.basemap) {
    L.tileLayer(config.basemap.url, {
      attribution: config.basemap.attribution,
      subdomains: config.basemap.subdomains,
      maxZoom: config.basemap.max_zoom,
    }).addTo(map);
  }
  return map;
}

/** A GeoJSON geometry's [lat, lon] bounds fitted into `map` (with padding), or nothing for no geometry. */
export function fitGeometry(map, geojson, options = {}) {
  if (!geojson) return;
  const layer = globalThis.L.geoJSON(geojson);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], ...options });
}
