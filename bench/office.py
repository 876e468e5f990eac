"""Benchmarks of the office screens, each beside a baseline measured in the same run.

- queue_pages: the dispatcher's console usable in headless Chromium (Debian's), gunicorn serving: the
  page loaded, its first page of cases listed and drawn on the map (body[data-list-loads="1"]), for
  the whole queue of open cases, beside the same page for one unit grid's queue (a handful of cases):
  a queue of 10,000 should cost what a queue of 10 does. Then a filter change (time left → overdue)
  until the new list is drawn, beside the bare ?part=list request of the same filter.
  Targets at city scale (2.2 M cases): page ≤ 1.5 s, filter change ≤ 300 ms.
- queue_pages_deep: the work-list selector's first page beside its 20th page (keyset: no growth).
- dashboard: a supervisor's dashboard of a district through Django's full request stack, beside the
  same for one community. Target ≤ 1 s for a district.

Run alone with `python -m bench.office` against the dev database.
"""

from __future__ import annotations

import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
from django.apps import apps as _apps  # noqa: E402
from django.conf import settings  # noqa: E402

if not _apps.ready:
    django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from bench.common import Result, percentile  # noqa: E402
from layers.accounts.roles import scope_for  # noqa: E402
from layers.grids.models import Grid, Level  # noqa: E402
from layers.incidents import worklist  # noqa: E402
from layers.incidents.models import OPEN_STATUSES, Case  # noqa: E402
from tests.browser import launch_chromium  # noqa: E402

ALL_OPEN = "&".join(f"status={status}" for status in OPEN_STATUSES)


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _ms(samples: list[float]) -> tuple[float, float]:
    ms = [s * 1000 for s in samples]
    return round(statistics.median(ms), 1), round(percentile(ms, 99), 1)


def _small_queue_grid() -> Grid:
    """The unit grid with the fewest open cases but at least one: the "queue of 10" of the baseline."""
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES, grid__isnull=False)
    code = (open_cases.values("grid__code").order_by().annotate(n=Count("id")).order_by("n", "grid__code")).first()[
        "grid__code"
    ]
    return Grid.objects.defer("boundary").get(code=code[:15])


def queue_pages(repeat: int = 3) -> dict:
    from playwright.sync_api import sync_playwright

    from bench.common import live_server

    session = Client()
    session.force_login(_user("dispatcher"))
    small = _small_queue_grid()
    pages = {
        "whole queue": f"/office/dispatch/?{ALL_OPEN}",
        "one grid's queue": f"/office/dispatch/?{ALL_OPEN}&grid={small.code}",
    }
    opened: dict[str, list[float]] = {name: [] for name in pages}
    filtered: list[float] = []
    with live_server() as (port, _pid), sync_playwright() as playwright:
        origin = f"http://127.0.0.1:{port}"
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "url": origin,
                    "value": session.cookies[settings.SESSION_COOKIE_NAME].value,
                }
            ]
        )
        try:
            for _ in range(repeat):
                for name, path in pages.items():
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(origin + path)
                    page.wait_for_function("document.body.dataset.listLoads === '1'", timeout=60000)
                    opened[name].append(time.perf_counter() - started)
                    if name == "whole queue":
                        started = time.perf_counter()
                        page.select_option("#f-time-left", "overdue")
                        page.wait_for_function("document.body.dataset.listLoads === '2'", timeout=60000)
                        filtered.append(time.perf_counter() - started)
                    page.close()
        finally:
            browser.close()
    bare = []
    for _ in range(repeat * 3):
        started = time.perf_counter()
        assert session.get(f"{pages['whole queue']}&time_left=overdue&part=list").status_code == 200
        bare.append(time.perf_counter() - started)
    open_count = Case.objects.filter(status__in=OPEN_STATUSES).count()
    return {
        "open_cases": open_count,
        "small_grid": small.code,
        "whole": _ms(opened["whole queue"]),
        "small": _ms(opened["one grid's queue"]),
        "filter": _ms(filtered),
        "bare_part": _ms(bare),
    }


def queue_pages_deep(pages: int = 20, repeat: int = 5) -> dict:
    """The selector's first page and its `pages`-th page (walking the cursors), timed alone."""
    scope = scope_for(_user("dispatcher"))
    filters = worklist.WorkFilter()
    cursor, reached = None, 1
    while reached < pages:
        page = worklist.work_page(scope, filters, after=cursor)
        if page.next is None:
            break
        cursor, reached = page.next, reached + 1
    first, deep = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        worklist.work_page(scope, filters)
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        worklist.work_page(scope, filters, after=cursor)
        deep.append(time.perf_counter() - started)
    return {"first": _ms(first), "deep": _ms(deep), "reached": reached}


def dashboard(repeat: int = 5) -> dict:
    client = Client()
    client.force_login(_user("supervisor"))
    district = Grid.objects.defer("boundary").filter(level=Level.DISTRICT).order_by("code").first()
    community = (
        Grid.objects.defer("boundary")
        .filter(level=Level.COMMUNITY, code__startswith=district.code)
        .order_by("code")
        .first()
    )
    timings = {}
    for name, grid in (("district", district), ("community", community)):
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert client.get(f"/office/dashboard/?grid={grid.code}").status_code == 200
            samples.append(time.perf_counter() - started)
        timings[name] = _ms(samples)
    return {"district": district.code, "community": community.code, "timings": timings}


def suite(args=None) -> list[Result]:
    """The office benchmarks as rows of `make bench`'s table."""
    queue = queue_pages()
    deep = queue_pages_deep()
    board = dashboard()
    return [
        Result(
            f"office: dispatcher queue usable in Chromium ({queue['open_cases']} open cases)",
            queue["whole"][0],
            queue["whole"][1],
            f"one grid's queue ({queue['small_grid']})",
            queue["small"][0],
            target="≤ 1.5 s at 2.2 M cases",
        ),
        Result(
            "office: filter change to overdue, list redrawn in Chromium",
            queue["filter"][0],
            queue["filter"][1],
            "bare ?part=list request of the same filter",
            queue["bare_part"][0],
            target="≤ 300 ms",
        ),
        Result(
            f"office: work-list page {deep['reached']} by keyset",
            deep["deep"][0],
            deep["deep"][1],
            "first page",
            deep["first"][0],
            target="ratio ≈ 1",
        ),
        Result(
            f"office: leader dashboard of district {board['district']}",
            board["timings"]["district"][0],
            board["timings"]["district"][1],
            f"dashboard of community {board['community']}",
            board["timings"]["community"][0],
            target="≤ 1 s",
        ),
    ]


if __name__ == "__main__":
    for row in suite():
        print(row.as_dict())
