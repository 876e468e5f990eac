// One task: a report to confirm on site (核实: confirmed with a photo, or nothing there) or a handled
// case to check (核查: pass, or fail with a reason, which sends it back for rework). The case's photos
// before and after and its trail come from the home data kept on the phone, so the screen works
// offline; the answer goes into the outbox with the case version it was made against.
import { formatDateTime, gettext } from "../frontend/i18n.js";
import { actionText, config, deadline, element, loadHome, showQueued, statusText, taskCategory } from "./data.js";
import { preview, shrink } from "./photos.js";
import { enqueue } from "./queue.js";

const caseId = Number(new URLSearchParams(location.search).get("case"));
const problem = document.getElementById("task-problem");
let photo = null;

const KINDS = {
  confirm: {
    title: () => gettext("Confirm on site"),
    yes: { action: "confirm", text: () => gettext("Confirmed: it is there"), needsPhoto: true, needsNote: false },
    no: { action: "not_found", text: () => gettext("Nothing there"), needsPhoto: false, needsNote: false },
    noteLabel: () => gettext("Note (optional)"),
  },
  check: {
    title: () => gettext("Check the fix"),
    yes: { action: "verify", text: () => gettext("Pass"), needsPhoto: false, needsNote: false },
    no: { action: "fail", text: () => gettext("Fail: send back for rework"), needsPhoto: false, needsNote: true },
    noteLabel: () => gettext("Reason (needed to fail)"),
  },
};

function say(text) {
  problem.textContent = text;
  problem.hidden = !text;
}

function photoGroup(title, list) {
  if (!list.length) return null;
  return element("figure", { className: "photo-group" }, [
    element("figcaption", { text: title }),
    ...list.map((p, i) => element("img", { className: "photo", attrs: { src: p.url, alt: `${title} ${i + 1}`, loading: "lazy" } })),
  ]);
}

function render(task) {
  const kind = KINDS[task.kind];
  const due = deadline(task);
  document.getElementById("task-title").textContent = `${kind.title()}: ${taskCategory(task)}`;
  document.getElementById("task-meta").replaceChildren(
    element("span", { className: `due due-${due.level}`, text: due.text }),
    document.createTextNode(` ${statusText(task.status)} · #${task.id} · ${task.address || ""}`),
  );
  document.getElementById("task-description").textContent = task.description;
  const before = task.photos.filter((p) => p.kind === "report" || p.kind === "confirm");
  const after = task.photos.filter((p) => p.kind === "after");
  const groups = [photoGroup(gettext("Before"), before), photoGroup(gettext("After the fix"), after)].filter(Boolean);
  document.getElementById("task-photos").replaceChildren(...(groups.length ? groups : [element("p", { className: "muted", text: gettext("No photos.") })]));
  document.getElementById("task-trail").replaceChildren(
    ...task.trail.map((entry) =>
      element("li", {}, [
        element("strong", { text: actionText(entry.action) }),
        element("span", { className: "muted", text: ` ${formatDateTime(entry.when)} · ${entry.who || ""}` }),
        entry.note ? element("p", { text: entry.note }) : null,
      ]),
    ),
  );
  const form = document.getElementById("task-form");
  form.hidden = false;
  document.getElementById("action-title").textContent = kind.title();
  document.getElementById("task-note-label").textContent = kind.noteLabel();
  document.getElementById("task-photo-label").textContent = kind.yes.needsPhoto ? gettext("Photo (needed to confirm)") : gettext("Photo (optional)");
  for (const [id, step] of [["action-yes", kind.yes], ["action-no", kind.no]]) {
    const button = document.getElementById(id);
    button.textContent = step.text();
    button.addEventListener("click", () => answer(task, step));
  }
  form.dataset.ready = "true";
}

async function answer(task, step) {
  const note = document.getElementById("task-note").value.trim();
  if (step.needsPhoto && !photo) return say(gettext("Take a photo first."));
  if (step.needsNote && !note) return say(gettext("Say why it fails."));
  say("");
  for (const button of document.querySelectorAll("#task-form button")) button.disabled = true;
  await enqueue({
    kind: "action",
    label: `${step.text()}: ${taskCategory(task)} #${task.id}`,
    caseId: task.id,
    version: task.version,
    request: {
      url: `${config.urls.incidents}${task.id}/${step.action}/`,
      fields: { version: String(task.version), note },
      files: photo ? [{ field: "photo", blob: photo.blob, name: photo.name }] : [],
    },
  });
  document.getElementById("task-form").hidden = true;
  showQueued(document.getElementById("task-done"), gettext("Your answer is in the outbox."), {
    href: config.urls.home,
    text: gettext("Back to my tasks"),
  });
}

document.getElementById("task-photo").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    photo = await shrink(file, config.photoMaxPixels);
    document.getElementById("task-photo-preview").replaceChildren(preview(photo.blob, gettext("Photo taken")));
  } catch {
    say(gettext("That file is not a photo this phone can read."));
  }
});

loadHome()
  .then((home) => {
    const task = home.tasks.find((t) => t.id === caseId);
    if (!task) {
      document.getElementById("task-title").textContent = gettext("This task is not among your tasks (any more).");
      return;
    }
    render(task);
  })
  .catch(() => say(gettext("The task could not be loaded, and it is not kept on this phone yet.")));
