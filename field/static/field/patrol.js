// Patrol: start and end; the track is recorded with watchPosition and a screen wake lock while
// recording. The recorder (geo.js) drops inaccurate fixes and impossible jumps and ends the segment
// at a gap (the page hidden, or no fix for a while), so the stored track is a MultiLineString with no
// straight line across where nobody was seen. Check-ins at the inspection points within the server's
// distance, with a photo. The patrol, its check-ins, its track and its end go into the outbox in that
// order (each later one waits for the patrol's id).
import { gettext } from "../frontend/i18n.js";
import { createMap, loadLeaflet } from "../frontend/map.js";
import { config, element, loadHome } from "./data.js";
import { get, put } from "./db.js";
import { metresBetween, TrackRecorder } from "./geo.js";
import { preview, shrink } from "./photos.js";
import { enqueue } from "./queue.js";

const limits = { maxAccuracyM: config.maxAccuracyM, maxSpeedMps: config.maxSpeedMps, gapMs: config.gapSeconds * 1000 };
const stateText = document.getElementById("patrol-state");
let home = null;
let patrol = null; // {key, startedAt, track, checkedIn}
let recorder = null;
let watchId = null;
let gapTimer = null;
let wakeLock = null;
let map = null;
let lines = null;
let photo = null;

async function save() {
  if (patrol) patrol.track = recorder.state();
  await put("state", patrol, "patrol");
}

function showFigures() {
  document.getElementById("patrol-metres").textContent = `${Math.round(recorder ? recorder.metres() : 0)} m`;
  document.getElementById("patrol-segments").textContent = String(recorder ? recorder.segments.filter((s) => s.length >= 2).length : 0);
  const dropped = recorder ? recorder.dropped.accuracy + recorder.dropped.speed : 0;
  document.getElementById("patrol-dropped").textContent = String(dropped);
  if (lines) lines.setLatLngs(recorder ? recorder.segments.map((s) => s.map(([lon, lat]) => [lat, lon])) : []);
  document.getElementById("patrol-start").hidden = Boolean(patrol);
  document.getElementById("patrol-stop").hidden = !patrol;
}

async function lockScreen() {
  const wake = document.getElementById("wake-state");
  if (!("wakeLock" in navigator)) {
    wake.textContent = gettext("This phone cannot keep the screen on; keep it awake yourself.");
    return;
  }
  try {
    wakeLock = await navigator.wakeLock.request("screen");
    wake.textContent = gettext("The screen stays on while recording.");
  } catch {
    wake.textContent = gettext("The screen may turn off; the track then has a gap.");
  }
}

function armGapTimer() {
  clearTimeout(gapTimer);
  gapTimer = setTimeout(() => {
    recorder.gap();
    stateText.textContent = gettext("No position for a while: the next one starts a new segment.");
  }, limits.gapMs);
}

function onFix(fix) {
  const outcome = recorder.add({ lon: fix.coords.longitude, lat: fix.coords.latitude, accuracy: fix.coords.accuracy, time: Date.now() });
  if (outcome === "kept") {
    armGapTimer();
    stateText.textContent = gettext("Recording.");
  }
  document.body.dataset.fixes = String(Number(document.body.dataset.fixes || 0) + 1);
  showFigures();
  showPoints();
  save();
}

function record() {
  recorder = recorder || new TrackRecorder(limits, patrol.track);
  if (navigator.geolocation) {
    // An error (no position for now) is not a gap by itself: the gap timer decides, from the last kept fix.
    watchId = navigator.geolocation.watchPosition(onFix, () => {}, { enableHighAccuracy: true, maximumAge: 0 });
  }
  lockScreen();
  armGapTimer();
  stateText.textContent = gettext("Recording.");
  showFigures();
}

async function start() {
  if (!home || !home.me.person_id) {
    stateText.textContent = gettext("Your account has no officer record; ask the office.");
    return;
  }
  const startedAt = new Date().toISOString();
  const item = await enqueue({
    kind: "patrol",
    label: gettext("Patrol started"),
    request: { url: config.urls.patrols, json: { officer: home.me.person_id, started_at: startedAt } },
  });
  patrol = { key: item.key, startedAt, track: null, checkedIn: [] };
  recorder = new TrackRecorder(limits);
  await save();
  record();
}

async function stop() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  clearTimeout(gapTimer);
  if (wakeLock) wakeLock.release().catch(() => {});
  const track = recorder.multiLineString();
  if (track) {
    await enqueue({
      kind: "track",
      label: gettext("Patrol track"),
      dependsOn: patrol.key,
      request: { url: `${config.urls.patrols}{parent}/track/`, json: { track } },
    });
  }
  await enqueue({
    kind: "patrol-end",
    label: gettext("Patrol ended"),
    dependsOn: patrol.key,
    request: { method: "PATCH", url: `${config.urls.patrols}{parent}/`, json: { ended_at: new Date().toISOString() } },
  });
  stateText.textContent = `${gettext("Patrol ended:")} ${Math.round(recorder.metres())} m. ${gettext("It is in the outbox.")}`;
  patrol = null;
  await put("state", null, "patrol");
  showFigures();
}

async function checkIn(point) {
  const last = recorder && recorder.lastFix();
  if (!patrol || !last) return;
  const fields = { point: String(point.id), lon: last[0].toFixed(7), lat: last[1].toFixed(7), checked_at: new Date().toISOString(), note: "" };
  await enqueue({
    kind: "check-in",
    label: `${gettext("Check-in:")} ${point.name}`,
    dependsOn: patrol.key,
    request: { url: `${config.urls.patrols}{parent}/check-ins/`, fields, files: photo ? [{ field: "photo", blob: photo.blob, name: photo.name }] : [] },
  });
  patrol.checkedIn.push(point.id);
  photo = null;
  document.getElementById("checkin-photo").value = "";
  await save();
  showPoints();
}

function showPoints() {
  const last = recorder && recorder.lastFix();
  const list = document.getElementById("point-list");
  if (!home || !last || !patrol) {
    list.replaceChildren(element("li", { className: "muted", text: gettext("Start the patrol to check in at points near you.") }));
    return;
  }
  const near = home.points
    .map((p) => ({ ...p, metres: metresBetween([p.lon, p.lat], last) }))
    .filter((p) => p.metres <= config.checkinMaxDistanceM)
    .sort((a, b) => a.metres - b.metres);
  if (!near.length) {
    list.replaceChildren(element("li", { className: "muted", text: gettext("No inspection point within reach.") }));
    return;
  }
  list.replaceChildren(
    ...near.map((point) => {
      const done = patrol.checkedIn.includes(point.id);
      const button = element("button", {
        attrs: { type: "button", "aria-label": `${gettext("Check in at")} ${point.name}` },
        text: done ? gettext("Checked in") : gettext("Check in"),
      });
      button.disabled = done;
      button.addEventListener("click", () => checkIn(point));
      return element("li", { className: "point" }, [element("strong", { text: point.name }), element("span", { className: "muted", text: ` ${Math.round(point.metres)} m ` }), button]);
    }),
  );
}

document.addEventListener("visibilitychange", () => {
  if (!recorder || !patrol) return;
  if (document.visibilityState === "hidden") {
    recorder.gap();
    save();
  } else {
    lockScreen();
  }
});
document.getElementById("patrol-start").addEventListener("click", start);
document.getElementById("patrol-stop").addEventListener("click", stop);
document.getElementById("checkin-photo").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  photo = await shrink(file, config.photoMaxPixels);
  event.target.after(preview(photo.blob, gettext("Photo for the check-in")));
});

async function init() {
  home = await loadHome().catch(() => null);
  patrol = await get("state", "patrol");
  if (patrol) {
    recorder = new TrackRecorder(limits, patrol.track);
    recorder.gap(); // the page was closed or reloaded: whatever came before is its own segment
    record();
  }
  showFigures();
  showPoints();
  document.body.dataset.ready = "true";
  const L = await loadLeaflet();
  map = createMap("patrol-map", { zoom: 16, label: gettext("Map of the patrol track") });
  if (home) {
    L.geoJSON(home.grids.map((grid) => ({ type: "Feature", geometry: grid.boundary })), { style: { color: "#1d5c8f", weight: 2, fillOpacity: 0.04 } }).addTo(map);
    for (const point of home.points) L.circleMarker([point.lat, point.lon], { radius: 5, color: "#8a5a00" }).bindTooltip(point.name).addTo(map);
    if (home.grids.length) map.fitBounds(L.geoJSON(home.grids[0].boundary).getBounds());
  }
  lines = L.polyline([], { color: "#b3261e", weight: 4 }).addTo(map);
  showFigures();
}
init();
