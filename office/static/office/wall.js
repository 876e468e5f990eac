// The command-centre wall: the figures refresh by themselves (every data-refresh-seconds) without
// reloading the page, and the map redraws with them; an answer that fails keeps the last figures.
import { request } from "../frontend/net.js";
import { areaMap, drawArea } from "./areamap.js";

const figures = document.getElementById("wall-figures");
if (figures) {
  const map = areaMap();
  let layer = drawArea(map, null, { link: false });
  const seconds = Number(figures.dataset.refreshSeconds) || 60;
  setInterval(async () => {
    const params = new URLSearchParams(location.search);
    params.set("part", "figures");
    try {
      const html = await request(`${location.pathname}?${params}`, { channel: "wall", quiet: true, headers: { Accept: "text/html" } });
      const parsed = new DOMParser().parseFromString(html, "text/html");
      figures.replaceChildren(...Array.from(parsed.body.childNodes, (node) => document.importNode(node, true)));
      layer = drawArea(map, layer, { link: false });
    } catch {
      // Keep showing the last figures; the next tick tries again.
    }
  }, seconds * 1000);
}
