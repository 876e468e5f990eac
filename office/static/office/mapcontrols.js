// Leaflet titles its zoom buttons in English and names them "+" and "−": give them names in the
// page's language, so every control of a screen has an accessible name a Chinese reader can use.
import { gettext } from "../frontend/i18n.js";

export function nameControls(map) {
  const container = map.getContainer();
  for (const [selector, name] of [
    [".leaflet-control-zoom-in", gettext("Zoom in")],
    [".leaflet-control-zoom-out", gettext("Zoom out")],
  ]) {
    for (const button of container.querySelectorAll(selector)) {
      button.setAttribute("aria-label", name);
      button.setAttribute("title", name);
    }
  }
  return map;
}
