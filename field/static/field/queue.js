// The outbox: every write the officer makes (reports, confirmations and checks, patrols, tracks and
// check-ins) is an item here first, with its photos as Blobs, and is sent from here, one at a time in
// the order made, when there is a network. Each item carries an Idempotency-Key made when it was
// created, so sending it again (a lost answer, a reload mid-send, a second press of "send now") gets
// the server's first answer and never a second row. Workflow actions carry the case version they were
// made against: a 409 shows the item as a conflict with the case's current state.
//
// States: waiting (not sent yet, or to be retried after a backoff), sent, refused (the server's
// reason shown), conflict (the case moved meanwhile). A 401, or a 403 while the session is gone,
// pauses the outbox and asks the officer to sign in again; nothing is dropped.
import { csrfToken, describeError, newKey } from "../frontend/net.js";
import { gettext } from "../frontend/i18n.js";
import { get, getAll, put, remove } from "./db.js";

export const WAITING = "waiting";
export const SENT = "sent";
export const REFUSED = "refused";
export const CONFLICT = "conflict";

const SEND_TIMEOUT_MS = 60000;
const MAX_BACKOFF_MS = 5 * 60 * 1000;
const config = JSON.parse(document.getElementById("field-config").textContent);
let sequence = 0;
let running = null;
let timer = null;

/** Tells every screen (and other tabs) that the outbox changed. */
function changed(detail = {}) {
  window.dispatchEvent(new CustomEvent("field-queue", { detail }));
}

/**
 * Puts a write in the outbox and starts sending. request: {method, url, fields, files, json}; files are
 * [{field, blob, name}]. caseId/version for workflow actions; dependsOn: the key of an item whose answer's
 * id fills "{parent}" in the url (a check-in after the patrol it belongs to).
 */
export async function enqueue({ kind, label, request, caseId = null, version = null, dependsOn = null }) {
  const item = {
    key: newKey(),
    seq: Date.now() * 1000 + (sequence++ % 1000),
    kind,
    label,
    createdAt: new Date().toISOString(),
    status: WAITING,
    attempts: 0,
    nextAt: 0,
    request: { method: "POST", fields: {}, files: [], ...request },
    caseId,
    version,
    dependsOn,
    reason: "",
    current: null,
    result: null,
  };
  await put("queue", item);
  changed({ added: item.key });
  sendAll();
  return item;
}

export async function items() {
  const all = await getAll("queue");
  return all.sort((a, b) => a.seq - b.seq);
}

export async function counts() {
  const tally = { waiting: 0, sent: 0, refused: 0, conflict: 0 };
  for (const item of await items()) tally[item.status] += 1;
  return tally;
}

/** Removes an item the officer has seen (a refused or conflicting one, or one sent). */
export async function discard(key) {
  await remove("queue", key);
  changed({ removed: key });
}

export async function signInNeeded() {
  return Boolean(await get("state", "signin-needed"));
}

async function setSignInNeeded(value) {
  await put("state", value, "signin-needed");
  changed({ signin: value });
}

function backoff(attempts) {
  const base = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.min(attempts, 10));
  return base / 2 + Math.random() * (base / 2);
}

/**
 * Sends the waiting items in order, one at a time; stops at the first that cannot go now (no network,
 * a server error to retry later, a sign-in needed). `force` ignores the backoff (the "send now" button,
 * the network coming back). Answers the counts afterwards.
 */
export function sendAll({ force = false } = {}) {
  if (!running) {
    running = drain(force).finally(() => {
      running = null;
      schedule();
    });
  }
  return running;
}

async function drain(force) {
  if (force && (await signInNeeded())) await setSignInNeeded(false);
  for (;;) {
    const next = (await items()).find((item) => item.status === WAITING);
    if (!next) break;
    if (!force && next.nextAt > Date.now()) break;
    const go = await sendOne(next);
    if (!go) break;
  }
  return counts();
}

function schedule() {
  clearTimeout(timer);
  items().then((all) => {
    const next = all.find((item) => item.status === WAITING);
    if (next) timer = setTimeout(() => sendAll(), Math.max(1000, next.nextAt - Date.now()));
  });
}

async function save(item, changes) {
  Object.assign(item, changes);
  await put("queue", item);
  changed({ updated: item.key });
}

function body(item, parentId) {
  const { fields, files, json } = item.request;
  if (json !== undefined) return { payload: JSON.stringify(json), type: "application/json" };
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== null && value !== undefined) form.append(name, value);
  for (const file of files) form.append(file.field, file.blob, file.name);
  return { payload: form, type: null, parentId };
}

/** Sends one item; answers whether the next one may be sent now. */
async function sendOne(item) {
  let parentId = null;
  if (item.dependsOn) {
    const parent = await get("queue", item.dependsOn);
    if (parent && parent.status !== SENT) {
      if (parent.status === WAITING) return false;
      await save(item, { status: REFUSED, reason: gettext("The patrol this belongs to was not accepted.") });
      return true;
    }
    parentId = parent ? parent.result && parent.result.id : null;
  }
  const url = item.request.url.replace("{parent}", String(parentId));
  const { payload, type } = body(item, parentId);
  const headers = { Accept: "application/json", "Idempotency-Key": item.key, "X-CSRFToken": csrfToken() };
  if (type) headers["Content-Type"] = type;
  const controller = new AbortController();
  const cut = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url, { method: item.request.method, headers, body: payload, credentials: "same-origin", signal: controller.signal });
  } catch {
    await save(item, { attempts: item.attempts + 1, nextAt: Date.now() + backoff(item.attempts), reason: gettext("No network.") });
    return false;
  } finally {
    clearTimeout(cut);
  }
  const answer = await readAnswer(response);
  if (response.ok) {
    const id = answer && (answer.id ?? (answer.properties && answer.properties.id));
    await save(item, {
      status: SENT,
      sentAt: new Date().toISOString(),
      reason: "",
      result: { id: id ?? null, status: response.status, replayed: response.headers.get("Idempotent-Replayed") === "true" },
    });
    return true;
  }
  if (response.status === 401 || (response.status === 403 && !(await stillSignedIn()))) {
    await save(item, { reason: gettext("Sign in again to send.") });
    await setSignInNeeded(true);
    return false;
  }
  if (response.status === 409 && item.caseId) {
    await save(item, { status: CONFLICT, reason: describeError(answer, 409), current: await currentCase(item.caseId) });
    return true;
  }
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    await save(item, { attempts: item.attempts + 1, nextAt: Date.now() + backoff(item.attempts), reason: describeError(answer, response.status) });
    return false;
  }
  await save(item, { status: REFUSED, reason: describeError(answer, response.status) });
  return true;
}

async function readAnswer(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text.slice(0, 300);
  }
}

async function stillSignedIn() {
  try {
    const response = await fetch(config.urls.me, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    return response.ok;
  } catch {
    return true;
  }
}

/** The case as the server has it now: {status, version} (null when it cannot be read). */
async function currentCase(caseId) {
  try {
    const response = await fetch(`${config.urls.incidents}${caseId}/`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return null;
    const feature = await response.json();
    return { status: feature.properties.status, version: feature.properties.version };
  } catch {
    return null;
  }
}
