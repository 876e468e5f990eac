// Report a problem here: where (GPS or a pin moved on the map), what (a category found by search or
// among my recent ones), photos shrunk on the phone, description and address. Before sending, the
// open cases of that category nearby are shown ("already reported: add me too"). The report goes into
// the outbox, which sends it (now, or when the network is back).
import { gettext } from "../frontend/i18n.js";
import { request } from "../frontend/net.js";
import { createMap, loadLeaflet, mapConfig } from "../frontend/map.js";
import { categoryName, config, element, loadHome, showQueued } from "./data.js";
import { get, put } from "./db.js";
import { preview, shrink } from "./photos.js";
import { enqueue } from "./queue.js";

const MAX_PHOTOS = 6;
const form = document.getElementById("report-form");
const problem = document.getElementById("report-problem");
const chosenText = document.getElementById("category-chosen");
const positionText = document.getElementById("position-text");
const photos = [];
let home = null;
let chosen = null;
let where = null; // [lon, lat]
let marker = null;
let map = null;

function say(text) {
  problem.textContent = text;
  problem.hidden = !text;
}

function setPosition(lon, lat, how) {
  where = [lon, lat];
  positionText.textContent = `${how}: ${lat.toFixed(6)}, ${lon.toFixed(6)}`;
  if (marker) marker.setLatLng([lat, lon]);
}

async function showMap() {
  const L = await loadLeaflet();
  const centre = where ? [where[1], where[0]] : mapConfig().centre;
  map = createMap("report-map", { centre, zoom: 17, label: gettext("Map: drag the pin to the problem") });
  marker = L.marker(centre, { draggable: true, keyboard: true, title: gettext("Problem location"), alt: gettext("Problem location") }).addTo(map);
  marker.on("dragend", () => {
    const point = marker.getLatLng();
    setPosition(point.lng, point.lat, gettext("Pin"));
  });
  map.on("click", (event) => {
    marker.setLatLng(event.latlng);
    setPosition(event.latlng.lng, event.latlng.lat, gettext("Pin"));
  });
  if (!where) setPosition(centre[1], centre[0], gettext("Pin"));
}

function useGps() {
  if (!navigator.geolocation) return say(gettext("This phone gives no position; move the pin instead."));
  positionText.textContent = gettext("Finding your position…");
  navigator.geolocation.getCurrentPosition(
    (fix) => {
      setPosition(fix.coords.longitude, fix.coords.latitude, `${gettext("GPS")} ±${Math.round(fix.coords.accuracy)} m`);
      if (map) map.setView([fix.coords.latitude, fix.coords.longitude], Math.max(map.getZoom(), 17));
    },
    () => say(gettext("Your position is not available; move the pin instead.")),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 10000 },
  );
}

function choose(category) {
  chosen = category;
  chosenText.textContent = `${gettext("Category:")} ${categoryName(category)}`;
  for (const input of document.querySelectorAll("#category-options input")) input.checked = input.value === category.code;
}

function categoryOption(category) {
  const id = `category-${category.code}`;
  const input = element("input", { attrs: { type: "radio", name: "category", id, value: category.code } });
  input.addEventListener("change", () => choose(category));
  const major = category.major ? ` (${category.major_en && document.documentElement.lang === "en" ? category.major_en : category.major})` : "";
  return element("div", { className: "option" }, [input, element("label", { attrs: { for: id }, text: categoryName(category) + major })]);
}

function showOptions(query) {
  const words = query.trim().toLowerCase();
  const matches = home.categories.filter((category) =>
    !words ||
    [category.name, category.name_en, category.major, category.major_en, category.keywords, category.code]
      .join(" ")
      .toLowerCase()
      .includes(words),
  );
  document.getElementById("category-options").replaceChildren(...matches.slice(0, 30).map(categoryOption));
  if (chosen) choose(chosen);
}

async function showRecent() {
  const mine = (await get("state", "recent-categories")) || [];
  const codes = [...new Set([...mine, ...home.recent_categories])].slice(0, 5);
  const byCode = new Map(home.categories.map((c) => [c.code, c]));
  const buttons = codes
    .filter((code) => byCode.has(code))
    .map((code) => {
      const button = element("button", { attrs: { type: "button" }, text: categoryName(byCode.get(code)), className: "chip" });
      button.addEventListener("click", () => choose(byCode.get(code)));
      return button;
    });
  document.getElementById("recent-categories").replaceChildren(...buttons);
}

async function addPhotos(files) {
  for (const file of files) {
    if (photos.length >= MAX_PHOTOS) {
      say(gettext("At most 6 photos."));
      break;
    }
    try {
      photos.push(await shrink(file, config.photoMaxPixels));
    } catch {
      say(gettext("That file is not a photo this phone can read."));
    }
  }
  showPhotos();
}

function showPhotos() {
  document.getElementById("photo-list").replaceChildren(
    ...photos.map((photo, index) => {
      const remove = element("button", { attrs: { type: "button", "aria-label": `${gettext("Remove photo")} ${index + 1}` }, text: "×" });
      remove.addEventListener("click", () => {
        photos.splice(index, 1);
        showPhotos();
      });
      return element("li", {}, [preview(photo.blob, `${gettext("Photo")} ${index + 1}`), remove]);
    }),
  );
}

function problems() {
  if (!where) return gettext("Choose where the problem is.");
  if (!chosen) return gettext("Choose a category.");
  return "";
}

/** The open cases of the category nearby, or null when they cannot be asked for (offline). */
async function nearby() {
  try {
    const url = `${config.urls.nearby}?lon=${where[0]}&lat=${where[1]}&category=${encodeURIComponent(chosen.code)}`;
    return (await request(url, { channel: "nearby", quiet: true, timeout: 8000 })).cases;
  } catch {
    return null;
  }
}

function showNearby(cases) {
  document.getElementById("nearby-list").replaceChildren(
    ...cases.map((c) =>
      element("li", {}, [
        element("strong", { text: `#${c.id} · ${Math.round(c.distance_m)} m` }),
        element("span", { className: "muted", text: ` ${c.address || c.description}` }),
      ]),
    ),
  );
  document.getElementById("nearby").hidden = false;
  document.getElementById("report-send").hidden = true;
  document.getElementById("me-too").focus();
}

async function queueReport() {
  const fields = {
    category: chosen.code,
    lon: where[0].toFixed(7),
    lat: where[1].toFixed(7),
    source: "officer",
    description: document.getElementById("description").value,
    address: document.getElementById("address").value,
  };
  const files = photos.map((photo) => ({ field: "photos", blob: photo.blob, name: photo.name }));
  await enqueue({
    kind: "report",
    label: `${gettext("Report:")} ${categoryName(chosen)}`,
    request: { url: config.urls.incidents, fields, files },
  });
  const recent = (await get("state", "recent-categories")) || [];
  await put("state", [chosen.code, ...recent.filter((code) => code !== chosen.code)].slice(0, 5), "recent-categories");
  form.hidden = true;
  const done = document.getElementById("report-done");
  showQueued(done, gettext("Your report is in the outbox and will be sent as soon as there is a network."), {
    href: config.urls.report,
    text: gettext("Report another"),
  });
  done.focus?.();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const missing = problems();
  say(missing);
  if (missing) return;
  const button = document.getElementById("report-send");
  button.disabled = true;
  const cases = await nearby();
  button.disabled = false;
  if (cases && cases.length) return showNearby(cases);
  await queueReport();
});
document.getElementById("me-too").addEventListener("click", () => queueReport());
document.getElementById("nearby-cancel").addEventListener("click", () => {
  document.getElementById("nearby").hidden = true;
  document.getElementById("report-send").hidden = false;
});
document.getElementById("use-gps").addEventListener("click", useGps);
document.getElementById("photo-input").addEventListener("change", (event) => {
  addPhotos([...event.target.files]).then(() => (event.target.value = ""));
});
document.getElementById("category-search").addEventListener("input", (event) => showOptions(event.target.value));

loadHome()
  .then((data) => {
    home = data;
    showOptions("");
    showRecent();
    form.dataset.ready = "true";
  })
  .catch(() => say(gettext("The categories could not be loaded, and none are kept on this phone yet.")));
showMap().catch(() => {});
