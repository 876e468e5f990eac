// The area map of the dashboard and the wall: child grids shaded by their overdue cases (a click drills
// down), and a unit grid's open cases as dots (a click opens the case). Data from #area-features.
import { createMap } from "../frontend/map.js";
import { nameControls } from "./mapcontrols.js";
import { gettext } from "../frontend/i18n.js";

const L = globalThis.L;
const COLOURS = { overdue: "#b3261e", due_soon: "#8a5a00", on_time: "#1e6b34", "": "#4f5a66" };

function shade(feature, most) {
  const share = most ? feature.properties.overdue / most : 0;
  return { color: "#1d5c8f", weight: 1.5, fillColor: "#b3261e", fillOpacity: 0.08 + 0.6 * share };
}

/** Draws (or redraws, given the previous layer) the area's features; answers the new layer. */
export function drawArea(map, previous, { link = true } = {}) {
  const element = document.getElementById("area-features");
  if (previous) previous.remove();
  if (!element) return null;
  const collection = JSON.parse(element.textContent);
  const grids = collection.features.filter((f) => f.geometry && f.geometry.type !== "Point");
  const most = Math.max(0, ...grids.map((f) => f.properties.overdue));
  const layer = L.geoJSON(collection, {
    style: (feature) => shade(feature, most),
    pointToLayer: (feature, latlng) =>
      L.circleMarker(latlng, { radius: 7, weight: 2, color: "#fff", fillOpacity: 0.9, fillColor: COLOURS[feature.properties.time_left] || COLOURS[""] }),
    onEachFeature: (feature, shape) => {
      const props = feature.properties;
      const label = props.case ? `#${props.case}` : `${props.name} · ${gettext("Overdue")} ${props.overdue} / ${props.open}`;
      shape.bindTooltip(label);
      if (!link) return;
      shape.on("click", () => {
        const params = new URLSearchParams(location.search);
        if (props.case) params.set("case", props.case);
        else {
          params.set("grid", props.code);
          params.delete("case");
        }
        location.search = params.toString();
      });
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
  return layer;
}

export function areaMap() {
  return nameControls(createMap("area-map", { label: gettext("Map of the area") }));
}
