// One way to talk to the app's API from every screen: a timeout, superseded requests aborted (so a stale
// answer never overwrites a newer one), the CSRF token from its cookie, an Idempotency-Key when asked,
// and errors shown in the page's shared error region (#app-errors, role=alert).
import { gettext } from "./i18n.js";

const DEFAULT_TIMEOUT_MS = 15000;
const channels = new Map();

/** An HTTP answer other than 2xx: `status`, the parsed `body` (JSON or text) and a readable message. */
export class HttpError extends Error {
  constructor(status, body, message) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.body = body;
  }
}

/** The request was cut by its timeout or had no network: `offline` tells which. */
export class NetworkError extends Error {
  constructor(message, { timedOut = false } = {}) {
    super(message);
    this.name = "NetworkError";
    this.timedOut = timedOut;
  }
}

/** The value of the csrftoken cookie (Django's CSRF_COOKIE_NAME default). */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** A new random key (UUID v4) for an Idempotency-Key, made once when the user creates the item. */
export function newKey() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A DRF error body ({"detail": ...} or {"field": ["message", ...]}) as one readable line. */
export function describeError(body, status) {
  if (body == null || body === "") return statusText(status);
  if (typeof body === "string") return body.slice(0, 300);
  if (Array.isArray(body)) return body.map((item) => describeError(item, status)).join("; ");
  if (typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    return Object.entries(body)
      .map(([field, value]) => (field === "non_field_errors" ? "" : `${field}: `) + describeError(value, status))
      .join("; ");
  }
  return String(body);
}

function statusText(status) {
  if (status === 401 || status === 403) return gettext("Please sign in again.");
  if (status === 404) return gettext("Not found.");
  if (status >= 500) return gettext("The server had a problem; please try again.");
  return gettext("The request was refused.");
}

/** Shows `message` in the shared error region (as text); an empty message hides it. */
export function showError(message) {
  const region = document.getElementById("app-errors");
  if (!region) return;
  region.textContent = message || "";
  region.hidden = !message;
}

/** Announces `message` to assistive technology through the polite status region. */
export function announce(message) {
  const region = document.getElementById("app-status");
  if (region) region.textContent = message;
}

/**
 * Sends a request to the app and answers the parsed JSON body (null for 204).
 * options: method, json (sent as JSON), body (FormData/Blob sent as is), headers,
 *   idempotencyKey (sent as Idempotency-Key), timeout (ms), channel (a name: a newer request on the
 *   same channel aborts this one, which then rejects with an AbortError that callers ignore),
 *   signal, quiet (true: do not show errors in the error region).
 * Rejects with HttpError (non-2xx), NetworkError (offline or timed out) or an AbortError.
 */
export async function request(url, options = {}) {
  const { method = "GET", json, body, headers = {}, idempotencyKey, timeout = DEFAULT_TIMEOUT_MS, channel, signal, quiet } =
    options;
  const controller = new AbortController();
  if (channel) {
    channels.get(channel)?.abort();
    channels.set(channel, controller);
  }
  if (signal) signal.addEventListener("abort", () => controller.abort(), { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const sent = { Accept: "application/json", ...headers };
  if (!["GET", "HEAD"].includes(method)) sent["X-CSRFToken"] = csrfToken();
  if (idempotencyKey) sent["Idempotency-Key"] = idempotencyKey;
  let payload = body;
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  try {
    let response;
    try {
      response = await fetch(url, { method, headers: sent, body: payload, credentials: "same-origin", signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError" && !timedOut) throw error;
      const failure = new NetworkError(timedOut ? gettext("The server did not answer in time.") : gettext("No network."), { timedOut });
      if (!quiet) showError(failure.message);
      throw failure;
    }
    const text = await response.text();
    let parsed = text;
    if ((response.headers.get("Content-Type") || "").includes("json") && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) {
      const failure = new HttpError(response.status, parsed, describeError(parsed, response.status));
      if (!quiet) showError(failure.message);
      throw failure;
    }
    if (!quiet) showError("");
    return response.status === 204 || text === "" ? null : parsed;
  } finally {
    clearTimeout(timer);
    if (channel && channels.get(channel) === controller) channels.delete(channel);
  }
}

/** True for the AbortError of a superseded request (nothing to show). */
export function isSuperseded(error) {
  return error && error.name === "AbortError";
}
