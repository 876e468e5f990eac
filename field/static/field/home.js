// Home: my tasks by time left with the deadline colour (reports to confirm on site, handled cases to
// check), my grid on the map with my position.
import { format, gettext, formatDateTime } from "../frontend/i18n.js";
import { createMap, loadLeaflet } from "../frontend/map.js";
import { config, deadline, element, loadHome, taskCategory } from "./data.js";

const list = document.getElementById("task-list");
const state = document.getElementById("tasks-state");

function kindText(task) {
  return task.kind === "confirm" ? gettext("Confirm on site") : gettext("Check the fix");
}

function renderTasks(home) {
  const now = Date.now();
  const tasks = [...home.tasks].sort((a, b) => (Date.parse(a.due_at) || Infinity) - (Date.parse(b.due_at) || Infinity));
  list.replaceChildren(
    ...tasks.map((task) => {
      const due = deadline(task, now);
      const link = element("a", { className: "task-link", attrs: { href: `${config.urls.task}?case=${task.id}` } }, [
        element("span", { className: `due due-${due.level}`, text: due.text }),
        element("span", { className: "task-kind", text: kindText(task) }),
        element("strong", { className: "task-title", text: taskCategory(task) }),
        element("span", { className: "task-where muted", text: task.address || task.description || `#${task.id}` }),
      ]);
      return element("li", { className: `task task-${task.kind}`, attrs: { "data-case": String(task.id) } }, [link]);
    }),
  );
  const confirm = tasks.filter((t) => t.kind === "confirm").length;
  const check = tasks.length - confirm;
  let text = tasks.length
    ? `${gettext("To confirm:")} ${confirm} · ${gettext("To check:")} ${check}`
    : gettext("No tasks now.");
  if (home.stale) text += ` · ${gettext("Offline copy from")} ${formatDateTime(home.generated_at)}`;
  state.textContent = text;
  const missing = home.calendar_missing_years || [];
  const notice = document.getElementById("calendar-notice");
  notice.hidden = !missing.length;
  notice.textContent = missing.length
    ? format(
        gettext(
          "The official calendar of %(years)s is not entered yet: deadlines there count Monday to Friday only, without holidays or adjusted working days.",
        ),
        { years: missing.join(", ") },
      )
    : "";
  list.dataset.ready = "true";
}

async function renderMap(home) {
  const L = await loadLeaflet();
  const map = createMap("home-map", { label: gettext("Map of my grid") });
  const grids = L.geoJSON(
    home.grids.map((grid) => ({ type: "Feature", geometry: grid.boundary, properties: { name: grid.name } })),
    { style: { color: "#1d5c8f", weight: 3, fillOpacity: 0.06 } },
  ).addTo(map);
  if (grids.getBounds().isValid()) map.fitBounds(grids.getBounds(), { padding: [8, 8] });
  for (const task of home.tasks) {
    L.circleMarker([task.lat, task.lon], { radius: 6, color: task.kind === "confirm" ? "#8a5a00" : "#1e6b34" })
      .bindTooltip(taskCategory(task))
      .addTo(map);
  }
  const position = document.getElementById("position-state");
  if (!navigator.geolocation) return;
  let me = null;
  navigator.geolocation.getCurrentPosition(
    (fix) => {
      const where = [fix.coords.latitude, fix.coords.longitude];
      me = me || L.circleMarker(where, { radius: 8, color: "#b3261e", fillOpacity: 0.8 }).addTo(map);
      me.setLatLng(where);
      position.textContent = `${gettext("My position, accurate to")} ${Math.round(fix.coords.accuracy)} m`;
    },
    () => {
      position.textContent = gettext("My position is not available.");
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

loadHome()
  .then((home) => {
    renderTasks(home);
    renderMap(home).catch(() => {});
  })
  .catch(() => {
    state.textContent = gettext("Your tasks could not be loaded, and none are kept on this phone yet.");
    list.dataset.ready = "true";
  });
