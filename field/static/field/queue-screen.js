// The outbox as the officer sees it: each item waiting, sent, refused (with the server's reason) or in
// conflict (with the case's state now), a button to send now, and removing what has been dealt with.
import { formatDateTime, gettext } from "../frontend/i18n.js";
import { element, statusText } from "./data.js";
import { CONFLICT, REFUSED, SENT, WAITING, discard, items, sendAll } from "./queue.js";

const STATE_TEXT = {
  [WAITING]: () => gettext("Waiting"),
  [SENT]: () => gettext("Sent"),
  [REFUSED]: () => gettext("Refused"),
  [CONFLICT]: () => gettext("Conflict"),
};

function row(item) {
  const parts = [
    element("span", { className: `state state-${item.status}`, text: STATE_TEXT[item.status]() }),
    element("strong", { className: "item-label", text: item.label }),
    element("span", { className: "muted", text: ` ${formatDateTime(item.createdAt)}` }),
  ];
  if (item.status === SENT && item.result && item.result.id) parts.push(element("span", { className: "muted", text: ` · #${item.result.id}` }));
  if (item.reason && item.status !== SENT) parts.push(element("p", { className: "reason", text: item.reason }));
  if (item.status === CONFLICT) {
    const now = item.current
      ? `${gettext("The case changed meanwhile; it is now:")} ${statusText(item.current.status)} (${gettext("version")} ${item.current.version}).`
      : gettext("The case changed meanwhile.");
    parts.push(element("p", { className: "conflict", text: `${now} ${gettext("Nothing was overwritten.")}` }));
  }
  if (item.status !== WAITING) {
    const button = element("button", { attrs: { type: "button", "aria-label": `${gettext("Remove from the outbox:")} ${item.label}` }, text: gettext("Remove") });
    button.addEventListener("click", () => discard(item.key));
    parts.push(button);
  }
  return element("li", { className: `queue-item queue-${item.status}`, attrs: { "data-kind": item.kind, "data-status": item.status } }, parts);
}

async function render() {
  const all = await items();
  document.getElementById("queue-list").replaceChildren(...all.map(row));
  const waiting = all.filter((item) => item.status === WAITING).length;
  document.getElementById("queue-summary").textContent = all.length
    ? `${gettext("Waiting:")} ${waiting} · ${gettext("Sent:")} ${all.filter((i) => i.status === SENT).length} · ${gettext("Refused:")} ${all.filter((i) => i.status === REFUSED).length} · ${gettext("Conflicts:")} ${all.filter((i) => i.status === CONFLICT).length}`
    : gettext("The outbox is empty.");
  document.getElementById("queue-list").dataset.ready = "true";
}

document.getElementById("send-now").addEventListener("click", () => sendAll({ force: true }));
window.addEventListener("field-queue", render);
render();
