"""Locate at city scale: through HTTP and in-process, against one raw SQL statement."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.gis.geos import Point
from django.db import connection

from bench.common import HttpClient, Result, live_server, resident_mb, sample_points, summarise, timed
from layers.grids.selectors import responsibility_at

# The baseline: the same "deepest covering grid, lowest code on ties" answer as one hand-written
# statement, with nothing around it (no chain, no duties, no serialisation).
RAW_SMALLEST_COVERING_SQL = """
SELECT id, code FROM grids_grid
WHERE is_active AND ST_Covers(boundary, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
ORDER BY level DESC, code LIMIT 1
"""


def bench_locate(requests: int = 2000) -> list[Result]:
    points = sample_points(requests)
    with connection.cursor() as cursor:
        iterator = iter(points * 2)

        def raw_lookup():
            cursor.execute(RAW_SMALLEST_COVERING_SQL, next(iterator))
            cursor.fetchone()

        timed(raw_lookup, min(200, requests))  # warm the cache
        raw_p50, raw_p99 = summarise(timed(raw_lookup, requests))

    in_process = iter(points)
    selector_p50, selector_p99 = summarise(
        timed(lambda: responsibility_at(Point(*next(in_process), srid=4326)), requests)
    )

    with live_server(workers=2, threads=4) as (port, pid):
        client = HttpClient(port)
        paths = iter([f"/api/v1/locate/?{urlencode({'lon': lon, 'lat': lat})}" for lon, lat in points * 2])
        status_codes = set()

        def http_lookup():
            status, _ = client.get(next(paths))
            status_codes.add(status)

        timed(http_lookup, min(200, requests))
        http_p50, http_p99 = summarise(timed(http_lookup, requests))
        worker_mb, total_mb = resident_mb(pid)
        client.close()
    if status_codes != {200}:
        raise RuntimeError(f"locate answered {status_codes}")
    return [
        Result(
            "locate via HTTP (chain + duties, JSON)",
            http_p50,
            http_p99,
            "raw SQL smallest covering grid",
            raw_p50,
            target="p50 ≤ 3 ms, p99 ≤ 10 ms",
            extra={
                "requests": requests,
                "worker_rss_mb": round(worker_mb, 1),
                "server_rss_mb_all_processes": round(total_mb, 1),
                "raw_p99_ms": raw_p99,
            },
        ),
        Result(
            "locate ORM selector in-process (3 queries)",
            selector_p50,
            selector_p99,
            "raw SQL smallest covering grid",
            raw_p50,
        ),
    ]
