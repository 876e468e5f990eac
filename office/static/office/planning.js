// The planner's footprint editor: draw or edit a renovation footprint with Leaflet-Geoman (vendored),
// preview what it touches (POST .../overlay-preview/, the same checks as saving, nothing stored), then
// save it to a new or the chosen project. A shape the server refuses gets its message on the map at
// the vertex the server names (GEOS reports e.g. "Self-intersection[105.445 28.875]").
import { announce, request, showError } from "../frontend/net.js";
import { createMap } from "../frontend/map.js";
import { nameControls } from "./mapcontrols.js";
import { format, gettext, language } from "../frontend/i18n.js";

const L = globalThis.L;
const form = document.getElementById("project-form");
const message = document.getElementById("plan-message");
const projectId = form.dataset.project;
const map = nameControls(createMap("plan-map", { label: gettext("Map for drawing the footprint") }));
const drawn = L.featureGroup().addTo(map);
let problem = null;

map.pm.setLang(language.startsWith("zh") ? "zh" : "en");
map.pm.addControls({
  position: "topleft",
  drawMarker: false,
  drawCircleMarker: false,
  drawPolyline: false,
  drawCircle: false,
  drawText: false,
  cutPolygon: false,
  rotateMode: false,
  dragMode: false,
});
map.pm.setGlobalOptions({ layerGroup: drawn, allowSelfIntersection: true });
// Geoman titles the wrapper of each toolbar button, not the button: give each button that name.
for (const button of map.getContainer().querySelectorAll(".leaflet-buttons-control-button")) {
  const titled = button.closest("[title]");
  if (titled) button.setAttribute("aria-label", titled.getAttribute("title"));
}

const existing = JSON.parse(document.getElementById("footprint").textContent);
if (existing) {
  L.geoJSON(existing, { style: { color: "#1d5c8f" } }).eachLayer((layer) => drawn.addLayer(layer));
  map.fitBounds(drawn.getBounds(), { padding: [24, 24] });
}
map.on("pm:create", () => clearProblem());
drawn.on("pm:edit", () => clearProblem());

function clearProblem() {
  if (problem) problem.remove();
  problem = null;
}

/** The drawn polygons as one GeoJSON MultiPolygon (null when nothing is drawn). */
function footprint() {
  const polygons = [];
  drawn.eachLayer((layer) => {
    const geometry = layer.toGeoJSON().geometry;
    if (geometry.type === "Polygon") polygons.push(geometry.coordinates);
    else if (geometry.type === "MultiPolygon") polygons.push(...geometry.coordinates);
  });
  return polygons.length ? { type: "MultiPolygon", coordinates: polygons } : null;
}

function feature() {
  const geometry = footprint();
  if (!geometry) {
    showError(gettext("Draw the footprint first."));
    return null;
  }
  return { type: "Feature", geometry, properties: { name: form.elements.name.value, batch: form.elements.batch.value } };
}

/** Puts the server's refusal on the map where it says the fault is, or in the error region. */
function showRefusal(error) {
  const errors = (error.body && error.body.errors) || {};
  const text = [].concat(errors.footprint || errors.geometry || []).join(" ") || error.message;
  message.textContent = text;
  const at = /\[(-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)\]/.exec(text);
  if (!at) return;
  clearProblem();
  const label = document.createElement("span");
  label.className = "vertex-error";
  label.textContent = text;
  problem = L.circleMarker([Number(at[2]), Number(at[1])], { radius: 9, color: "#b3261e", weight: 3 })
    .bindTooltip(label, { permanent: true, direction: "top" })
    .addTo(map);
}

function list(id, items) {
  const element = document.getElementById(id);
  element.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
}

document.getElementById("preview").addEventListener("click", async () => {
  const body = feature();
  if (!body) return;
  const query = projectId ? `?project=${projectId}` : "";
  try {
    const overlay = await request(`/api/v1/renovation-projects/overlay-preview/${query}`, { method: "POST", json: body, quiet: true });
    clearProblem();
    document.getElementById("overlay").hidden = false;
    list("overlay-grids", overlay.grids.map((g) => `${g.name} ${g.code} · ${Math.round(g.overlap_m2)} m²`));
    list("overlay-people", [...overlay.leaders, ...overlay.officers, ...overlay.departments].map((d) => [d.name, d.title, d.grid].filter(Boolean).join(" · ")));
    document.getElementById("overlay-cases").textContent = format(gettext("%(n)s open cases within %(m)s m"), { n: overlay.cases_total, m: overlay.buffer_m });
    list("overlay-conflicts", overlay.conflicts.map((c) => c.name));
    message.textContent = gettext("Preview ready: nothing saved yet.");
    announce(message.textContent);
  } catch (error) {
    showRefusal(error);
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = feature();
  if (!body) return;
  try {
    const saved = projectId
      ? await request(`/api/v1/renovation-projects/${projectId}/`, { method: "PATCH", json: body, quiet: true })
      : await request("/api/v1/renovation-projects/", { method: "POST", json: body, quiet: true });
    clearProblem();
    message.textContent = gettext("Footprint saved.");
    announce(message.textContent);
    if (!projectId) location.search = `?project=${saved.id}`;
  } catch (error) {
    showRefusal(error);
  }
});
