// What every screen of the officer app does: registers the service worker (offline shell and data),
// shows whether there is a network, keeps the outbox badge up to date, asks to sign in again when the
// session has ended, and sends the outbox when the network comes back.
import { gettext } from "../frontend/i18n.js";
import { config } from "./data.js";
import { counts, sendAll, signInNeeded } from "./queue.js";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(config.urls.serviceWorker, { scope: config.scope }).catch(() => {});
}

const connection = document.getElementById("connection");
function showConnection() {
  connection.hidden = navigator.onLine;
  connection.textContent = navigator.onLine ? "" : gettext("Offline: your work is kept in the outbox and sent later.");
}

async function showQueue() {
  const tally = await counts();
  const badge = document.getElementById("queue-count");
  const pending = tally.waiting + tally.refused + tally.conflict;
  badge.hidden = pending === 0;
  badge.textContent = String(pending);
  badge.setAttribute("aria-label", `${pending} ${gettext("items need attention or are waiting")}`);
  document.getElementById("signin-needed").hidden = !(await signInNeeded());
}

window.addEventListener("online", () => {
  showConnection();
  sendAll({ force: true });
});
window.addEventListener("offline", showConnection);
window.addEventListener("field-queue", showQueue);
showConnection();
showQueue();
sendAll();
