// The app's data: the officer's home document (tasks, grids, points, categories) from the server, kept
// on the phone for when there is no network, and the screens' shared helpers for it.
import { request } from "../frontend/net.js";
import { format, gettext, language } from "../frontend/i18n.js";
import { get, put } from "./db.js";

export const config = JSON.parse(document.getElementById("field-config").textContent);

/**
 * The home document: fresh from the server when it answers (then kept), else the one kept last time,
 * with `stale: true`. Rejects only when neither exists.
 */
export async function loadHome() {
  try {
    const fresh = await request(config.urls.data, { channel: "home", quiet: true, timeout: 10000 });
    await put("state", fresh, "home");
    keepPhotos(fresh);
    return { ...fresh, stale: false };
  } catch (error) {
    const kept = await get("state", "home");
    if (kept) return { ...kept, stale: true };
    throw error;
  }
}

/** Fetches the tasks' photos once so that the service worker keeps them for offline use. */
function keepPhotos(home) {
  const urls = home.tasks.flatMap((task) => task.photos.map((photo) => photo.url));
  const idle = globalThis.requestIdleCallback || ((work) => setTimeout(work, 500));
  idle(() => {
    for (const url of urls) fetch(url, { credentials: "same-origin" }).catch(() => {});
  });
}

/** A task's category name in the page's language. */
export function taskCategory(task) {
  return language === "en" && task.category_name_en ? task.category_name_en : task.category_name;
}

/** A category's name in the page's language. */
export function categoryName(category) {
  return language === "en" && category.name_en ? category.name_en : category.name;
}

const STATUS_TEXT = {
  reported: () => gettext("Reported"),
  confirming: () => gettext("To confirm on site"),
  confirmed: () => gettext("Confirmed on site"),
  registered: () => gettext("Registered"),
  rejected: () => gettext("Rejected"),
  dispatched: () => gettext("Dispatched"),
  handling: () => gettext("Being handled"),
  handled: () => gettext("Handled, to check"),
  verified: () => gettext("Checked"),
  closed: () => gettext("Closed"),
  duplicate: () => gettext("Joined another report"),
};

/** A case status as words in the page's language (never the raw code). */
export function statusText(status) {
  return STATUS_TEXT[status] ? STATUS_TEXT[status]() : gettext("Unknown status");
}

const ACTION_TEXT = {
  report: () => gettext("Reported"),
  me_too: () => gettext("Someone reported it too"),
  send_to_confirm: () => gettext("Sent to the officer to confirm"),
  confirm: () => gettext("Confirmed on site"),
  not_found: () => gettext("Nothing found on site"),
  register: () => gettext("Registered"),
  reject: () => gettext("Rejected"),
  dispatch: () => gettext("Dispatched"),
  accept: () => gettext("Accepted by the department"),
  return: () => gettext("Returned by the department"),
  handle: () => gettext("Handled"),
  verify: () => gettext("Check passed"),
  fail: () => gettext("Check failed: rework"),
  close: () => gettext("Closed"),
  escalate: () => gettext("Escalated (late)"),
  unlink: () => gettext("Unlinked"),
  reassign: () => gettext("Moved to another grid"),
};

export function actionText(action) {
  return ACTION_TEXT[action] ? ACTION_TEXT[action]() : action;
}

/**
 * The deadline of a task: {level: "late" | "soon" | "ok" | "none", text}. Soon: less than a quarter of
 * the stage's time (or under an hour) is left.
 */
export function deadline(task, now = Date.now()) {
  if (!task.due_at) return { level: "none", text: gettext("No time limit") };
  const due = Date.parse(task.due_at);
  const start = task.stage_started_at ? Date.parse(task.stage_started_at) : due;
  const left = due - now;
  const soon = left >= 0 && left < Math.max(3600000, (due - start) / 4);
  const level = left < 0 ? "late" : soon ? "soon" : "ok";
  if (task.due_clock === "working" && typeof task.time_left_hours === "number") {
    // A working-time limit: the server counted the working hours left on the official calendar when
    // it sent the task (the phone has no calendar); the colour still follows the deadline itself.
    const hours = Math.abs(task.time_left_hours).toFixed(1);
    const text = task.time_left_hours < 0 ? gettext("Late by %(h)s working hours") : gettext("Left: %(h)s working hours");
    return { level, text: format(text, { h: hours }) };
  }
  const minutes = Math.round(Math.abs(left) / 60000);
  const span = minutes >= 120 ? `${Math.round(minutes / 60)} ${gettext("h")}` : `${minutes} ${gettext("min")}`;
  return { level, text: `${level === "late" ? gettext("Late by") : gettext("Left:")} ${span}` };
}

/** Makes an element with text content (never HTML) and optional attributes. */
export function element(tag, { text, className, attrs = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

/* Shows in `done` (a status line, hidden until now) that the item is in the outbox: `message`, a link
   to the outbox and `next` ({ href, text }) for what to do after. */
export function showQueued(done, message, next) {
  done.hidden = false;
  done.replaceChildren(
    document.createTextNode(message + " "),
    element("a", { attrs: { href: config.urls.queue }, text: gettext("See the outbox") }),
    document.createTextNode(" · "),
    element("a", { attrs: { href: next.href }, text: next.text }),
  );
}
