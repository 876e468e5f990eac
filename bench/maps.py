"""Benchmarks of the map layer, each a function returning its figures as a dict (bench/run.py calls them).

- grids_bbox: the bbox GeoJSON of every unit grid of the city (5,399 at `seed_demo --scale city`)
  through the API (Django's full request stack), next to the same FeatureCollection built by one
  bare SQL statement from a cursor (the baseline). Target: ≤ 60 ms.
- grid_tiles / case_tiles: ms per vector tile at three zooms, over the tiles that cover the city
  (case tiles need the incidents app's cases; with none they say so instead of measuring).
  Target for case tiles: p95 ≤ 100 ms at every zoom with 2.2 million cases.
- map_pages_in_chromium: time until each page is usable in headless Chromium, gunicorn serving.
  Target: the supervisor map of a 20,000-micro-grid city within 2 s.

Run alone with `python -m bench.maps` against the dev database (after `seed_demo --scale city`).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
from django.apps import apps as _apps  # noqa: E402
from django.conf import settings  # noqa: E402

if not _apps.ready:  # run alone (python -m bench.maps); bench/run.py has set Django up already
    django.setup()

from django.contrib.gis.db.models import Extent  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from layers.grids.models import Grid, Level  # noqa: E402
from maps import sql, tiles  # noqa: E402
from maps.models import GridCaseCount  # noqa: E402

# Counts per street (11), counts per grid (14), and the first zoom of case points (16): the largest
# tiles that carry points, so the worst case for the point tiles.
ZOOMS = (11, 14, 16)


def _stats(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 2)

    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 2),
        "n": len(ordered),
    }


def _interleaved(first, second, runs: int) -> tuple[list[float], list[float]]:
    first()
    second()
    a, b = [], []
    for _ in range(runs):
        for fn, samples in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
    return a, b


def city_bbox() -> tuple[float, float, float, float] | None:
    return Grid.objects.active().filter(level=Level.GRID).aggregate(e=Extent("boundary"))["e"]


def _supervisor():
    """The demo supervisor (fixtures/demo/accounts.py): the maps answer staff only."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="supervisor")


def grids_bbox(runs: int = 50) -> dict:
    """The API's bbox GeoJSON of all unit grids vs one bare SQL statement building the same collection."""
    bbox = city_bbox()
    if bbox is None:
        return {"what": "grids bbox GeoJSON", "skipped": "no unit grids: run seed_demo --scale city"}
    client = Client()
    client.force_login(_supervisor())  # the map layers are for signed-in staff; a supervisor sees all
    params = {"bbox": ",".join(f"{v:.6f}" for v in bbox), "level": "grid", "limit": "10000"}
    body = client.get("/api/v1/map/grids/", params)
    assert body.status_code == 200, body.content[:200]
    returned = json.loads(body.content)["numberReturned"]

    def api():
        response = client.get("/api/v1/map/grids/", params)
        assert response.status_code == 200

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(
                sql.GRIDS_BBOX_BASELINE,
                {"levels": [int(Level.GRID)], "xmin": bbox[0], "ymin": bbox[1], "xmax": bbox[2], "ymax": bbox[3]},
            )
            cursor.fetchone()

    # Interleaved, so that both see the same load on a shared machine.
    api_samples, base_samples = _interleaved(api, baseline, runs)
    api_stats, base_stats = _stats(api_samples), _stats(base_samples)
    return {
        "what": "grids bbox GeoJSON (API vs one bare SQL statement)",
        "features": returned,
        "bytes": len(body.content),
        "api": api_stats,
        "baseline": base_stats,
        "ratio": round(api_stats["median_ms"] / base_stats["median_ms"], 2),
        "target_ms": 60,
    }


def _tiles_over(bbox, z: int, most: int) -> list[tuple[int, int, int]]:
    """Up to `most` tiles of zoom z over bbox, spread evenly over it (a fixed, repeatable sample)."""

    def tile(lon, lat):
        n = 1 << z
        return (int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))

    x0, y1 = tile(bbox[0], bbox[1])
    x1, y0 = tile(bbox[2], bbox[3])
    every = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    step = max(1, len(every) // most)
    return every[::step][:most]


def _busiest_tiles(z: int, most: int) -> list[tuple[int, int, int]]:
    """The tiles of zoom z holding the micro-grids with the most cases: the worst case for a tile."""
    seen = []
    anchors = GridCaseCount.objects.filter(level=Level.MICROGRID).order_by("-total").values_list("anchor", flat=True)
    for anchor in anchors[: most * 20]:
        n = 1 << z
        zxy = (
            z,
            int((anchor.x + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(anchor.y))) / math.pi) / 2 * n),
        )
        if zxy not in seen:
            seen.append(zxy)
        if len(seen) == most:
            break
    return seen


def _tile_figures(fetch, z: int, sample: list) -> dict:
    import mapbox_vector_tile

    samples, sizes, features = [], [], []
    for zxy in sample:
        fetch(*zxy)
    for zxy in sample:
        start = time.perf_counter()
        body = fetch(*zxy)
        samples.append((time.perf_counter() - start) * 1000)
        sizes.append(len(body))
        layers = mapbox_vector_tile.decode(body) if body else {}
        features.append(sum(len(layer["features"]) for layer in layers.values()))
    figures = _stats(samples)
    figures.update(
        {
            "zoom": z,
            "tiles": len(sample),
            "max_bytes": max(sizes),
            "median_bytes": int(statistics.median(sizes)),
            "max_features": max(features),
        }
    )
    return figures


def grid_tiles(per_zoom: int = 40) -> dict:
    """ms per grid boundary tile (layer "grids", level by zoom) at three zooms over the city."""
    bbox = city_bbox()
    if bbox is None:
        return {"what": "grid tiles", "skipped": "no unit grids"}
    return {
        "what": "grid vector tiles (ms per tile)",
        "zooms": [_tile_figures(tiles.grid_tile, z, _tiles_over(bbox, z, per_zoom)) for z in ZOOMS],
    }


def case_tiles(per_zoom: int = 40) -> dict:
    """ms per case tile at three zooms (counts per grid below zoom 16, merged points from it)."""
    source = tiles.case_source()
    bbox = city_bbox()
    start = time.perf_counter()
    rows = tiles.refresh_case_counts(source=source)
    refresh_s = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute(sql.CASE_COUNT_TOTAL.format(**source.identifiers()))
        cases = cursor.fetchone()[0]
    figures = []
    for z in ZOOMS:
        # Half the sample where the cases are densest, half spread evenly over the city.
        sample = _busiest_tiles(z, per_zoom // 2)
        sample += [t for t in _tiles_over(bbox, z, per_zoom - len(sample)) if t not in sample]
        figures.append(_tile_figures(lambda z, x, y: tiles.case_tile(z, x, y, source), z, sample))
    return {
        "what": "case vector tiles (ms per tile)",
        "cases": cases,
        "count_rows": rows,
        "refresh_counts_s": round(refresh_s, 2),
        "zooms": figures,
        "target_p95_ms": 100,
    }


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Page, layers that must have loaded, and optional views to move to (lat, lon, zoom) after opening.
PAGE_RUNS = [
    ("/map/supervisor/", ["tree", "heat"], [(28.8717, 105.4425, 13), (28.8717, 105.4425, 16)]),
    ("/map/officer/", ["grids", "open-cases"], [(28.8717, 105.4425, 16)]),
    ("/map/planner/", ["communities", "grids"], []),
]


def map_pages_in_chromium(repeat: int = 3) -> dict:
    """Time until each map page is usable in headless Chromium (Debian's), served by gunicorn.

    "Usable" = the page has loaded, every named layer has drawn the features of the view and nothing
    is pending; for the supervisor, also after zooming to a community and to the micro-grids.
    """
    from playwright.sync_api import sync_playwright

    from bench.common import live_server

    figures = []
    signed_in = Client()
    signed_in.force_login(_supervisor())  # a session in the database the server reads
    with live_server() as (port, _pid), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "url": f"http://127.0.0.1:{port}",
                    "value": signed_in.cookies[settings.SESSION_COOKIE_NAME].value,
                }
            ]
        )
        try:
            for url, keys, moves in PAGE_RUNS:
                ready = " && ".join(f"gridgis.loaded[{k!r}] === true" for k in keys)
                condition = f"() => window.gridgis && gridgis.pending === 0 && {ready}"
                opened, moved, drawn = [], [], {}
                for _ in range(repeat):
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}{url}")
                    try:
                        page.wait_for_function(condition, timeout=60000)
                    except Exception as exc:
                        state = page.evaluate("window.gridgis && [gridgis.pending, gridgis.loaded, gridgis.errors]")
                        raise RuntimeError(f"{url} never settled: {state}") from exc
                    opened.append((time.perf_counter() - started) * 1000)
                    drawn = page.evaluate("Object.assign({}, gridgis.drawn)")
                    for lat, lon, zoom in moves:
                        started = time.perf_counter()
                        page.evaluate(f"""() => new Promise(done => {{
                            gridgis.map.once('moveend', () => done());
                            gridgis.map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); }})""")
                        page.wait_for_function(condition, timeout=60000)
                        moved.append((time.perf_counter() - started) * 1000)
                        drawn.update({f"{k}@z{zoom}": v for k, v in page.evaluate("gridgis.drawn").items()})
                    page.close()
                figures.append(
                    {"page": url, "open": _stats(opened), "moves": _stats(moved) if moved else None, "drawn": drawn}
                )
        finally:
            browser.close()
    return {"what": "map pages usable in headless Chromium (ms)", "pages": figures, "target_ms": 2000}


def run() -> list[dict]:
    return [grids_bbox(), grid_tiles(), case_tiles(), map_pages_in_chromium()]


def suite(args=None) -> list:
    """The map benchmarks as rows of `make bench`'s table (bench.common.Result)."""
    from bench.common import Result

    rows = []
    grids = grids_bbox()
    if "skipped" not in grids:
        rows.append(
            Result(
                f"grids bbox GeoJSON via API ({grids['features']} unit grids)",
                grids["api"]["median_ms"],
                grids["api"]["p99_ms"],
                "same collection, one bare SQL statement",
                grids["baseline"]["median_ms"],
                target="≤ 60 ms",
                extra={"bytes": grids["bytes"], "baseline_p99_ms": grids["baseline"]["p99_ms"]},
            )
        )
    for name, figures in (("grid tile", grid_tiles()), ("case tile", case_tiles())):
        for zoom in figures.get("zooms", []):
            rows.append(
                Result(
                    f"{name} z{zoom['zoom']} (per tile)",
                    zoom["median_ms"],
                    zoom["p99_ms"],
                    target="p95 ≤ 100 ms" if name == "case tile" else "",
                    extra={k: zoom[k] for k in ("p95_ms", "max_bytes", "max_features", "tiles")}
                    | (
                        {"cases": figures["cases"], "refresh_counts_s": figures["refresh_counts_s"]}
                        if name == "case tile"
                        else {}
                    ),
                )
            )
    for page in map_pages_in_chromium()["pages"]:
        rows.append(
            Result(
                f"{page['page']} usable in Chromium",
                page["open"]["median_ms"],
                page["open"]["max_ms"],
                target="≤ 2000 ms",
                extra={"drawn": page["drawn"], "moves": page["moves"]},
            )
        )
    return rows


if __name__ == "__main__":
    for result in run():
        print(json.dumps(result, ensure_ascii=False))
