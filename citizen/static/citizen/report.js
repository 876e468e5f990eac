// The citizen's report page (/report/): where (GPS, the pin, a place search), who receives it, what is
// already reported there, then category, photos, description, contact and send. User text and server
// answers reach the page through textContent only.
import { announce, isSuperseded, newKey, request, showError } from "../frontend/net.js";
import { createMap } from "../frontend/map.js";
import { format, formatDateTime, gettext, language } from "../frontend/i18n.js";
import { shrinkPhoto } from "./photos.js";

const data = JSON.parse(document.getElementById("report-data").textContent);
const $ = (id) => document.getElementById(id);
const form = $("report-form");
const category = $("category");

const state = {
  point: null, // {lon, lat}
  meTooOf: null, // {id, category}
  photos: [], // {blob, width, height, url}
  key: newKey(), // Idempotency-Key of this report: a retry after a lost answer is the same report
};

// --- where ----------------------------------------------------------------------------------------

const map = createMap("report-map", { label: gettext("Map: tap it or drag the pin to the exact spot") });
const L = globalThis.L;
let pin = null;

function setPoint(lon, lat, how, { zoom } = {}) {
  state.point = { lon: Number(lon.toFixed(7)), lat: Number(lat.toFixed(7)) };
  const latlng = [state.point.lat, state.point.lon];
  if (!pin) {
    pin = L.marker(latlng, { draggable: true, keyboard: true, title: gettext("The spot of the problem"), alt: gettext("The spot of the problem") });
    pin.addTo(map);
    pin.on("dragend", () => {
      const moved = pin.getLatLng();
      setPoint(moved.lng, moved.lat, gettext("pin moved"));
    });
  } else {
    pin.setLatLng(latlng);
  }
  if (zoom) map.setView(latlng, zoom);
  $("where-text").textContent = format(gettext("Chosen (%(how)s): %(lat)s, %(lon)s"), {
    how,
    lat: state.point.lat.toFixed(5),
    lon: state.point.lon.toFixed(5),
  });
  refreshAround();
}

map.on("click", (event) => setPoint(event.latlng.lng, event.latlng.lat, gettext("tapped on the map")));

$("use-gps").addEventListener("click", () => {
  if (!navigator.geolocation) {
    showError(gettext("This browser cannot tell your location; search a place or tap the map."));
    return;
  }
  announce(gettext("Finding your location…"));
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { longitude, latitude, accuracy } = position.coords;
      setPoint(longitude, latitude, format(gettext("your location, ±%(metres)s m"), { metres: Math.round(accuracy) }), { zoom: 18 });
    },
    () => showError(gettext("Your location is not available; search a place or tap the map.")),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
});

// Place search: names of streets, communities, grids, estates and public places (GET /api/v1/places/).
const query = $("place-query");
const results = $("place-results");
let searchTimer = null;

query.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(searchPlaces, 250);
});
query.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault(); // Enter searches; it must not send the report
    clearTimeout(searchTimer);
    searchPlaces();
  }
});

async function searchPlaces() {
  const text = query.value.trim();
  if (!text) {
    results.replaceChildren();
    return;
  }
  let places;
  try {
    places = await request(`/api/v1/places/?${new URLSearchParams({ q: text, limit: 8 })}`, { channel: "places" });
  } catch (error) {
    if (!isSuperseded(error)) results.replaceChildren();
    return;
  }
  results.replaceChildren(
    ...places.map((place) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "place";
      const name = document.createElement("strong");
      name.textContent = place.name;
      const where = document.createElement("span");
      where.className = "muted";
      where.textContent = [data.kinds[place.kind] || "", place.context].filter(Boolean).join(" · ");
      button.append(name, " ", where);
      button.addEventListener("click", () => {
        query.value = place.name;
        results.replaceChildren();
        setPoint(place.lon, place.lat, place.name, { zoom: 17 });
      });
      item.append(button);
      return item;
    }),
  );
  announce(places.length ? format(gettext("%(count)s places found"), { count: places.length }) : gettext("No place found by that name"));
  if (!places.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = gettext("No place found by that name; try fewer characters, or tap the map.");
    results.append(none);
  }
}

// --- who receives it, and what is already reported around the point -----------------------------

function pointParams({ withCategory = true } = {}) {
  const params = { lon: state.point.lon, lat: state.point.lat };
  if (withCategory && category.value) params.category = category.value;
  return new URLSearchParams(params);
}

async function refreshAround() {
  if (!state.point) return;
  await Promise.all([showReceiver(), showNearby()]);
}

async function showReceiver() {
  let answer;
  try {
    answer = await request(`/api/v1/incidents/receiver/?${pointParams()}`, { channel: "receiver" });
  } catch (error) {
    return;
  }
  const department = answer.department;
  const office = department ? (language === "en" && department.name_en) || department.name : gettext("the district's office");
  let text;
  if (answer.dead_corner) {
    text = format(gettext("No grid covers this spot. It is accepted all the same: %(office)s, the district's office, will handle it."), { office });
  } else if (answer.department_known) {
    text = format(gettext("Grid: %(grid)s. Department: %(department)s."), { grid: answer.grid.name, department: office });
  } else {
    text = format(gettext("Grid: %(grid)s. Choose a category to see the department; until then %(office)s routes it."), {
      grid: answer.grid.name,
      office,
    });
  }
  $("receiver-text").textContent = text;
  $("receiver-card").hidden = false;
}

async function showNearby() {
  let cases;
  try {
    // Every category: a citizen who picked a neighbouring category should still see the same problem.
    cases = await request(`/api/v1/incidents/nearby/?${pointParams({ withCategory: false })}`, { channel: "nearby" });
  } catch (error) {
    return;
  }
  const list = $("nearby-list");
  const template = $("nearby-item");
  list.replaceChildren(
    ...cases.map((found) => {
      const item = template.content.firstElementChild.cloneNode(true);
      const field = (name) => item.querySelector(`[data-field="${name}"]`);
      const name = data.names[found.category] || found.category_name_zh;
      field("category").textContent = name;
      field("status").textContent = data.statuses[found.status] || "";
      field("distance").textContent = format(gettext("%(metres)s m away"), { metres: Math.round(found.distance_m) });
      field("reported").textContent = formatDateTime(found.reported_at);
      field("reference").textContent = format(gettext("No. %(reference)s"), { reference: found.reference });
      field("description").textContent = found.description;
      const meToo = item.querySelector('[data-action="me-too"]');
      meToo.textContent = gettext("Me too");
      meToo.setAttribute("aria-label", format(gettext("Me too: add my report to No. %(reference)s"), { reference: found.reference }));
      meToo.setAttribute("aria-pressed", String(state.meTooOf?.id === found.id));
      meToo.addEventListener("click", () => chooseMeToo(found, name, meToo));
      const follow = item.querySelector('[data-action="follow"]');
      follow.textContent = gettext("Follow this one instead");
      follow.setAttribute("aria-label", format(gettext("Follow No. %(reference)s instead of reporting"), { reference: found.reference }));
      follow.addEventListener("click", () => followInstead(found));
      return item;
    }),
  );
  $("nearby-card").hidden = cases.length === 0 && !state.meTooOf;
}

function chooseMeToo(found, name, button) {
  const again = state.meTooOf?.id === found.id;
  state.meTooOf = again ? null : { id: found.id, category: found.category };
  if (!again) {
    category.value = found.category;
    showDescription();
  }
  for (const other of document.querySelectorAll('[data-action="me-too"]')) other.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-pressed", String(!again));
  const banner = $("me-too-banner");
  banner.hidden = again;
  banner.textContent = again
    ? ""
    : format(gettext("Your report will be added to No. %(reference)s (%(category)s). Add a photo or a line if you can."), {
        reference: found.reference,
        category: name,
      });
  if (!again) announce(banner.textContent);
  showReceiver(); // the department follows the category just chosen
}

async function followInstead(found) {
  let answer;
  try {
    answer = await request("/api/v1/follow/", { method: "POST", json: { case: found.id, ...state.point } });
  } catch (error) {
    return;
  }
  showSent(answer.reference, answer.follow_token, format(gettext("You are following No. %(reference)s; nothing new was reported."), { reference: answer.reference }));
}

// --- what: category, photos ---------------------------------------------------------------------

function showDescription() {
  $("category-description").textContent = data.descriptions[category.value] || "";
}

category.addEventListener("change", () => {
  showDescription();
  if (state.meTooOf && state.meTooOf.category !== category.value) {
    state.meTooOf = null;
    $("me-too-banner").hidden = true;
  }
  refreshAround();
});

$("photos").addEventListener("change", async (event) => {
  const files = Array.from(event.target.files || []);
  event.target.value = "";
  for (const file of files) {
    if (state.photos.length >= data.max_photos) {
      showError(format(gettext("At most %(count)s photos."), { count: data.max_photos }));
      break;
    }
    try {
      const shrunk = await shrinkPhoto(file);
      state.photos.push({ ...shrunk, url: URL.createObjectURL(shrunk.blob) });
    } catch (error) {
      showError(format(gettext("%(name)s is not a photo this page can read."), { name: file.name }));
    }
  }
  showPhotos();
});

function showPhotos() {
  const list = $("photo-list");
  list.replaceChildren(
    ...state.photos.map((photo, index) => {
      const item = document.createElement("li");
      const image = document.createElement("img");
      image.src = photo.url;
      image.alt = format(gettext("Photo %(number)s"), { number: index + 1 });
      image.width = 96;
      image.height = Math.round((96 * photo.height) / photo.width);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = gettext("Remove");
      remove.setAttribute("aria-label", format(gettext("Remove photo %(number)s"), { number: index + 1 }));
      remove.addEventListener("click", () => {
        URL.revokeObjectURL(photo.url);
        state.photos.splice(index, 1);
        showPhotos();
      });
      item.append(image, remove);
      return item;
    }),
  );
}

// --- send -----------------------------------------------------------------------------------------

function problem(message, focus) {
  const box = $("form-problem");
  box.textContent = message;
  box.hidden = !message;
  if (focus) focus.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.point) return problem(gettext("Choose where the problem is first."), $("use-gps"));
  if (!category.value) return problem(gettext("Choose a category."), category);
  problem("");
  const body = new FormData();
  body.append("category", category.value);
  body.append("lon", String(state.point.lon));
  body.append("lat", String(state.point.lat));
  body.append("source", "citizen");
  for (const name of ["description", "reporter_phone", "reporter_email"]) {
    const value = form.elements[name].value.trim();
    if (value) body.append(name, value);
  }
  if (state.meTooOf) body.append("me_too_of", String(state.meTooOf.id));
  state.photos.forEach((photo, index) => body.append("photos", photo.blob, `photo-${index + 1}.jpg`));
  const send = $("send");
  send.disabled = true;
  send.textContent = gettext("Sending…");
  try {
    const answer = await request("/api/v1/incidents/", { method: "POST", body, idempotencyKey: state.key, timeout: 60000 });
    const joined = answer.properties.duplicate_of;
    showSent(
      String(answer.id),
      answer.properties.follow_token,
      joined ? format(gettext("It joins the earlier report No. %(reference)s about the same problem."), { reference: joined }) : "",
    );
  } catch (error) {
    problem(error.message || gettext("The report was not sent; please try again."));
  } finally {
    send.disabled = false;
    send.textContent = gettext("Send the report");
  }
});

function showSent(reference, token, note) {
  const url = new URL(data.follow_url.replace("TOKEN", encodeURIComponent(token)), location.origin).href;
  $("sent-reference").textContent = reference;
  const link = $("sent-link");
  link.href = url;
  link.textContent = url;
  const joined = $("sent-joined");
  joined.textContent = note;
  joined.hidden = !note;
  form.hidden = true;
  const card = $("sent-card");
  card.hidden = false;
  card.focus();
  announce(format(gettext("Received. Reference number %(reference)s."), { reference }));
}

$("copy-link").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("sent-link").href);
    announce(gettext("The link was copied."));
  } catch (error) {
    showError(gettext("Copying is not allowed here; press and hold the link to copy it."));
  }
});
