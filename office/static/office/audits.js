// Supervisor's audits: start a run (POST /api/v1/audits/, it works in the background), watch its
// progress until it is done, then open it; the selected run's findings on the map.
import { announce, request } from "../frontend/net.js";
import { createMap } from "../frontend/map.js";
import { nameControls } from "./mapcontrols.js";
import { format, gettext } from "../frontend/i18n.js";

const L = globalThis.L;
const map = nameControls(createMap("findings-map", { label: gettext("Map of the findings") }));
const data = document.getElementById("findings");
if (data) {
  const layer = L.geoJSON(JSON.parse(data.textContent), {
    style: { color: "#b3261e", weight: 2, fillOpacity: 0.3 },
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 6, color: "#b3261e" }),
    onEachFeature: (feature, shape) => shape.bindTooltip(`${feature.properties.kind} ${feature.properties.grid_code || ""}`),
  }).addTo(map);
  if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [16, 16] });
}

const form = document.getElementById("start-audit");
const box = document.getElementById("audit-progress");
const bar = document.getElementById("audit-progress-bar");
const text = document.getElementById("audit-progress-text");

async function watch(id) {
  box.hidden = false;
  for (;;) {
    const run = await request(`/api/v1/audits/${id}/?kind=gap`, { channel: "audit" });
    bar.value = run.progress;
    text.textContent = format(gettext("Run #%(id)s: %(status)s, %(percent)s%"), {
      id,
      status: run.status,
      percent: Math.round(run.progress * 100),
    });
    if (run.status === "done" || run.status === "failed") {
      announce(text.textContent);
      location.search = `?run=${id}`;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const kinds = Array.from(form.querySelectorAll("input[name=kinds]:checked"), (box) => box.value);
  const body = { kinds };
  if (form.elements.district.value) body.district = form.elements.district.value;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const run = await request("/api/v1/audits/", { method: "POST", json: body });
    await watch(run.id);
  } catch {
    button.disabled = false;
  }
});
