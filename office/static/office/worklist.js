// The office work list (dispatcher's console, department inbox): list + map + detail, one selection.
// The URL is the state: filters and the selected case live in its query, every change is a
// history.pushState and the back button restores it. The server renders each half (?part=list,
// ?part=detail); this module swaps them in, keeps the map's markers in step with the list, and sends
// workflow steps to the API (each with the case's version, so a stale screen is refused, not obeyed).
import { announce, isSuperseded, newKey, request, showError } from "../frontend/net.js";
import { createMap } from "../frontend/map.js";
import { nameControls } from "./mapcontrols.js";
import { format, gettext } from "../frontend/i18n.js";

const L = globalThis.L;
const listPart = document.getElementById("list-part");
const detailPart = document.getElementById("detail-part");
const filters = document.getElementById("filters");
const COLOURS = { overdue: "#b3261e", due_soon: "#8a5a00", on_time: "#1e6b34", "": "#4f5a66" };

const map = nameControls(createMap("work-map", { label: gettext("Map of the listed cases") }));
const markers = L.layerGroup().addTo(map);
const markerById = new Map();

/** Server-rendered HTML (autoescaped by Django's templates) put in place of `target`'s children. */
function swap(target, html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  target.replaceChildren(...Array.from(parsed.body.childNodes, (node) => document.importNode(node, true)));
}

function selectedId() {
  return new URLSearchParams(location.search).get("case") || "";
}

function urlWith(changes) {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === "") params.delete(key);
    else params.set(key, value);
  }
  params.delete("part");
  const query = params.toString();
  return query ? `?${query}` : location.pathname;
}

function partUrl(part) {
  const params = new URLSearchParams(location.search);
  params.set("part", part);
  return `${location.pathname}?${params}`;
}

function drawMarkers({ fit = false } = {}) {
  markers.clearLayers();
  markerById.clear();
  const data = document.getElementById("list-cases");
  if (!data) return;
  const collection = JSON.parse(data.textContent);
  for (const feature of collection.features) {
    const [lon, lat] = feature.geometry.coordinates;
    const marker = L.circleMarker([lat, lon], {
      radius: 7,
      weight: 2,
      color: "#ffffff",
      fillColor: COLOURS[feature.properties.time_left] || COLOURS[""],
      fillOpacity: 0.9,
    });
    marker.bindTooltip(`#${feature.id}`);
    marker.on("click", () => select(String(feature.id)));
    marker.addTo(markers);
    markerById.set(String(feature.id), marker);
  }
  if (fit && markerById.size) map.fitBounds(L.featureGroup([...markerById.values()]).getBounds(), { padding: [24, 24], maxZoom: 16 });
  highlight(selectedId());
}

function highlight(id) {
  for (const [key, marker] of markerById) {
    const on = key === id;
    marker.setStyle({ radius: on ? 11 : 7, color: on ? "#000000" : "#ffffff", weight: on ? 3 : 2 });
    if (on) marker.bringToFront();
  }
  for (const row of listPart.querySelectorAll("#case-list > li[data-case-id]")) {
    const on = row.dataset.caseId === id;
    row.classList.toggle("selected", on);
    const link = row.querySelector(".case-link");
    if (on) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

// How many times the list has been drawn (1 once the page is usable): tests and bench/office.py wait on it.
// A filter change is timed inside the page, from the change to the new list drawn (a performance
// measure "list-drawn", its duration also on body[data-list-drawn-ms]): what the reader waits for,
// without a test driver's round trips around it.
function listDrawn() {
  document.body.dataset.listLoads = String(Number(document.body.dataset.listLoads || 0) + 1);
  if (performance.getEntriesByName("filter-change", "mark").length) {
    const drawn = performance.measure("list-drawn", "filter-change");
    performance.clearMarks("filter-change");
    document.body.dataset.listDrawnMs = drawn.duration.toFixed(1);
  }
}

async function loadList({ fit = false } = {}) {
  try {
    swap(listPart, await request(partUrl("list"), { channel: "list", quiet: true, headers: { Accept: "text/html" } }));
    drawMarkers({ fit });
    bindList();
    listDrawn();
  } catch (error) {
    if (!isSuperseded(error) && error.body && typeof error.body === "string") swap(listPart, error.body);
  }
}

async function loadDetail() {
  try {
    swap(detailPart, await request(partUrl("detail"), { channel: "detail", headers: { Accept: "text/html" } }));
    bindDetail();
    const article = detailPart.querySelector(".case-detail");
    if (article) {
      const point = [Number(article.dataset.lat), Number(article.dataset.lon)];
      if (!map.getBounds().pad(-0.1).contains(point)) map.panTo(point);
    }
  } catch (error) {
    if (!isSuperseded(error)) showError(error.message);
  }
}

/** Selects case `id` on both sides: URL, list row, marker, detail. */
function select(id, { push = true } = {}) {
  if (push) history.pushState({}, "", urlWith({ case: id }));
  highlight(id);
  loadDetail();
}

function rows() {
  return Array.from(listPart.querySelectorAll("#case-list > li[data-case-id]"));
}

/** The next (step 1) or previous (step -1) case of the list after the selected one. */
function step(direction) {
  const all = rows();
  if (!all.length) return;
  const at = all.findIndex((row) => row.dataset.caseId === selectedId());
  const next = all[Math.min(all.length - 1, Math.max(0, at + direction))] || all[0];
  select(next.dataset.caseId);
  next.querySelector(".case-link").focus({ preventScroll: false });
}

function bindList() {
  for (const link of listPart.querySelectorAll(".case-link, .request-link")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      select(link.closest("li").dataset.caseId);
    });
  }
  for (const link of listPart.querySelectorAll("a.button")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      history.pushState({}, "", new URL(link.href, location.href).search + (selectedId() ? `&case=${selectedId()}` : ""));
      loadList({ fit: true });
    });
  }
  const bulk = listPart.querySelector("#bulk");
  if (bulk) {
    bulk.addEventListener("submit", (event) => {
      event.preventDefault();
      runBulk(bulk);
    });
    listPart.querySelector("#select-all").addEventListener("click", () => {
      const boxes = listPart.querySelectorAll(".pick");
      const all = Array.from(boxes).every((box) => box.checked);
      for (const box of boxes) box.checked = !all;
    });
  }
  bindPhrases(listPart);
}

function bindPhrases(root) {
  for (const picker of root.querySelectorAll("select[data-phrase-for]")) {
    picker.addEventListener("change", () => {
      const target = document.getElementById(picker.dataset.phraseFor);
      if (target && picker.value) target.value = target.value ? `${target.value}；${picker.value}` : picker.value;
    });
  }
}

async function runBulk(form) {
  const action = form.elements.action.value;
  const picked = rows().filter((row) => row.querySelector(".pick").checked);
  const results = form.querySelector("#bulk-results");
  results.replaceChildren();
  if (!picked.length) {
    showError(gettext("Select at least one case first."));
    return;
  }
  const body = {
    cases: picked.map((row) => ({ id: Number(row.dataset.caseId), version: Number(row.dataset.version) })),
    note: form.elements.note.value,
  };
  try {
    const answer = await request(`/api/v1/incidents/bulk/${action}/`, { method: "POST", json: body });
    let done = 0;
    for (const outcome of answer.results) {
      const item = document.createElement("li");
      item.className = outcome.ok ? "ok" : "refused";
      item.textContent = outcome.ok
        ? format(gettext("#%(id)s: done"), { id: outcome.id })
        : format(gettext("#%(id)s: refused: %(why)s"), { id: outcome.id, why: outcome.error });
      results.append(item);
      if (outcome.ok) done += 1;
    }
    announce(format(gettext("%(done)s of %(all)s cases done"), { done, all: answer.results.length }));
    const kept = Array.from(results.children, (item) => item.cloneNode(true));
    await loadList();
    listPart.querySelector("#bulk-results")?.replaceChildren(...kept);
    if (selectedId()) loadDetail();
  } catch (error) {
    if (!isSuperseded(error)) showError(error.message);
  }
}

function bindDetail() {
  detailPart.querySelector("[data-next]")?.addEventListener("click", () => step(1));
  bindPhrases(detailPart);
  detailPart.querySelector("form.regrid")?.addEventListener("submit", (event) => {
    event.preventDefault();
    changeGrid(event.target);
  });
  for (const form of detailPart.querySelectorAll("form.step")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      takeStep(form);
    });
  }
  for (const form of detailPart.querySelectorAll("form.ask, form.decide, form.resume")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendRequestForm(form);
    });
  }
}

/** The form's filled fields as a JSON body, with the case's version (as a number). */
function formBody(form) {
  const body = { version: Number(form.dataset.version) };
  for (const [key, value] of new FormData(form).entries()) if (value !== "") body[key] = value;
  return body;
}

// The requests that change a clock (layers/incidents/requests.py through the API): a handler asks for
// an extension, a return or a suspension, a dispatcher for a void; the decider approves or refuses;
// a dispatcher resumes a suspended case. Each send carries its own Idempotency-Key.
function requestTarget(form) {
  const { case: caseId, request: requestId, decision } = form.dataset;
  if (form.classList.contains("ask")) return `/api/v1/incidents/${caseId}/requests/`;
  if (form.classList.contains("decide")) return `/api/v1/incidents/requests/${requestId}/${decision}/`;
  return `/api/v1/incidents/${caseId}/resume/`;
}

async function sendRequestForm(form) {
  const body = formBody(form);
  if (form.classList.contains("ask")) body.kind = form.dataset.kind;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await request(requestTarget(form), { method: "POST", json: body, idempotencyKey: newKey() });
    announce(format(gettext("%(what)s: sent"), { what: button.textContent.trim() }));
    await Promise.all([loadList(), loadDetail()]);
  } catch (error) {
    button.disabled = false;
    if (!isSuperseded(error)) showError(error.message);
  }
}

async function changeGrid(form) {
  const { case: caseId, version } = form.dataset;
  const body = { version: Number(version), grid: form.elements.grid.value, note: form.elements.note.value };
  try {
    await request(`/api/v1/incidents/${caseId}/grid/`, { method: "POST", json: body });
    announce(format(gettext("Case %(id)s moved to grid %(grid)s"), { id: caseId, grid: body.grid }));
    await Promise.all([loadList(), loadDetail()]);
  } catch (error) {
    if (!isSuperseded(error)) showError(error.message);
  }
}

async function takeStep(form) {
  const { action, case: caseId, version } = form.dataset;
  const body = new FormData(form);
  body.set("version", version);
  if (action === "dispatch" && form.elements.department) {
    // The suggested department is the assignment's own: send none, so the rule's choice stands.
    if (form.elements.department.value === form.elements.department.dataset.suggested) body.delete("department");
  }
  for (const [key, value] of [...body.entries()]) if (value === "" || (value instanceof File && !value.name)) body.delete(key);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await request(`/api/v1/incidents/${caseId}/${action}/`, { method: "POST", body });
    announce(format(gettext("Case %(id)s: %(step)s done"), { id: caseId, step: button.textContent.trim() }));
    await Promise.all([loadList(), loadDetail()]);
  } catch (error) {
    button.disabled = false;
    if (!isSuperseded(error)) showError(error.message);
  }
}

filters.addEventListener("submit", (event) => {
  event.preventDefault();
  const params = new URLSearchParams(new FormData(filters));
  for (const [key, value] of [...params.entries()]) if (!value) params.delete(key);
  if (selectedId()) params.set("case", selectedId());
  history.pushState({}, "", `?${params}`);
  loadList({ fit: true });
});
for (const control of filters.querySelectorAll("select, input[type=checkbox]")) {
  control.addEventListener("change", () => {
    performance.clearMarks("filter-change");
    performance.mark("filter-change");
    filters.requestSubmit();
  });
}

window.addEventListener("popstate", () => {
  const params = new URLSearchParams(location.search);
  for (const box of filters.querySelectorAll("input[name=status]")) box.checked = params.getAll("status").includes(box.value);
  for (const name of ["time_left", "category", "grid", "department", "text"]) {
    if (filters.elements[name]) filters.elements[name].value = params.get(name) || "";
  }
  loadList();
  loadDetail();
});

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key === "j" || event.key === "n") {
    event.preventDefault();
    step(1);
  } else if (event.key === "k") {
    event.preventDefault();
    step(-1);
  }
});

// The queue refreshes itself (answers arrive: an officer confirms, a department hands back), unless
// the reader is in the middle of something: a selection made, or typing in a form.
const REFRESH_MS = 60000;
setInterval(async () => {
  if (document.visibilityState !== "visible") return;
  if (listPart.querySelector(".pick:checked") || document.activeElement?.closest("form")) return;
  await loadList();
  const article = detailPart.querySelector(".case-detail");
  const row = article && listPart.querySelector(`#case-list li[data-case-id="${article.dataset.caseId}"]`);
  if (row && row.dataset.version !== article.dataset.version) loadDetail();
}, REFRESH_MS);

drawMarkers({ fit: true });
bindList();
bindDetail();
listDrawn();
