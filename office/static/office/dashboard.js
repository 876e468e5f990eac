// The leader's dashboard: the area map (drill down by clicking a grid, open a case by its dot).
import { areaMap, drawArea } from "./areamap.js";

if (document.getElementById("area-map")) drawArea(areaMap(), null);
