"""Benchmarks of the officer app (/field/), in headless Chromium (Debian's) on a phone-sized context,
gunicorn serving (bench.common.live_server), signed in as the demo's `officer`:

- shell_bytes: bytes transferred (as sent, compressed) to open the home screen the first time, every
  response counted, map tiles excluded (the demo has no basemap). Target ≤ 250 KB. Baseline: the
  same load with compression refused (Accept-Encoding: identity).
- home_on_slow_3g: time until the home screen is usable (tasks listed, buttons live) on an emulated
  slow 3G link (CDP Network.emulateNetworkConditions: 400 kbit/s each way, 400 ms round trip: the
  "3G Slow" profile of WebPageTest), first visit with nothing cached. Target ≤ 3 s. Baseline: the same
  on the unthrottled loopback; also the second visit, when the service worker serves the shell.
- queue_sync: 20 reports with 3 photos each (2,048 x 1,536 JPEG made on the phone's canvas) queued
  offline, then the time from the network coming back until the outbox has sent them all. Target
  ≤ 30 s. Baseline: the same 20 multipart POSTs sent back to back from Python over loopback.

The reports the benchmark makes are deleted again afterwards. Run alone: `python -m bench.field`.
"""

from __future__ import annotations

import base64
import http.client
import os
import statistics
import time
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
# Playwright's sync API keeps an asyncio loop in this thread; the sessions and the clean-up query the
# database between browser steps, outside any coroutine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
from django.apps import apps as _apps  # noqa: E402

if not _apps.ready:
    django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from bench.common import live_server  # noqa: E402
from layers.grids.models import Duty, DutyKind  # noqa: E402
from layers.incidents.models import Case  # noqa: E402
from tests.browser import launch_chromium  # noqa: E402

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
MARKER = "bench field sync"
REPORTS, PHOTOS_PER_REPORT = 20, 3

# Makes `count` reports with `photos` street-like 2048 x 1536 JPEGs each and puts them in the outbox
# through the app's own queue module, as the report screen does.
QUEUE_REPORTS_JS = """async ([count, photos, lon, lat, marker]) => {
    const queue = await import('/static/field/queue.js');
    const canvas = document.createElement('canvas');
    canvas.width = 2048; canvas.height = 1536;
    const g = canvas.getContext('2d');
    const made = [];
    for (let n = 0; n < count; n++) {
        const files = [];
        for (let p = 0; p < photos; p++) {
            // A street-like picture: a sky-to-ground gradient, blocks of "buildings" and a little
            // sensor noise, so that the JPEG weighs what a phone's 2,048 px photo does (a few hundred KB).
            const sky = g.createLinearGradient(0, 0, 0, 1536);
            sky.addColorStop(0, `rgb(${120 + n * 3}, 170, 220)`);
            sky.addColorStop(1, `rgb(90, ${100 + p * 20}, 80)`);
            g.fillStyle = sky;
            g.fillRect(0, 0, 2048, 1536);
            for (let b = 0; b < 120; b++) {
                const x = (b * 173 * (n + 1)) % 2048, y = 400 + (b * 97 * (p + 1)) % 1000;
                g.fillStyle = `rgb(${(b * 37) % 256}, ${(b * 59 + n) % 256}, ${(b * 83 + p) % 256})`;
                g.fillRect(x, y, 40 + (b * 13) % 200, 30 + (b * 7) % 300);
            }
            const noise = g.getImageData(0, 0, 2048, 1536);
            for (let i = 0; i < noise.data.length; i += 4) {
                const d = ((i * 2654435761 + n * 97 + p * 13) >>> 27) - 16;
                noise.data[i] += d; noise.data[i + 1] += d; noise.data[i + 2] += d;
            }
            g.putImageData(noise, 0, 0);
            const blob = await new Promise(done => canvas.toBlob(done, 'image/jpeg', 0.85));
            files.push({field: 'photos', blob, name: `bench-${n}-${p}.jpg`});
        }
        await queue.enqueue({kind: 'report', label: `bench ${n}`, request: {url: '/api/v1/incidents/', files,
            fields: {category: '0101', lon: String(lon + n * 0.0005), lat: String(lat), source: 'officer',
                     description: `${marker} ${n}`}}});
        made.push(files.reduce((sum, f) => sum + f.blob.size, 0));
    }
    return made;
}"""


PHOTO_AS_BASE64_JS = """async ([n, p]) => {
    const db = await import('/static/field/db.js');
    const items = (await db.getAll('queue')).filter(i => i.kind === 'report').sort((a, b) => a.seq - b.seq);
    const blob = items[n].request.files[p].blob;
    const url = await new Promise(done => { const r = new FileReader(); r.onload = () => done(r.result); r.readAsDataURL(blob); });
    return url.slice(url.indexOf(',') + 1);
}"""


def _officer():
    user = get_user_model().objects.get(username="officer")
    duty = Duty.objects.filter(kind=DutyKind.OFFICER, person__user=user).select_related("grid").first()
    return user, duty.grid


def _session(user, port: int) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": f"http://127.0.0.1:{port}",
    }


def _home_ready(page) -> None:
    page.wait_for_selector("#task-list[data-ready=true]", state="attached", timeout=60000)


def _first_load(browser, port: int, cookie: dict, *, conditions=None, identity=False) -> dict:
    """One first visit of /field/ in a fresh context: bytes transferred and ms until usable."""
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(**PHONE, locale="zh-CN")
    context.add_cookies([cookie])
    if identity:
        context.set_extra_http_headers({"Accept-Encoding": "identity"})
    # Every response the context receives, the service worker's own fetches included (it keeps the
    # shell for offline use, which belongs to the first load); sizes as transferred (compressed).
    transferred: list[tuple[str, int]] = []

    def finished(request):
        try:
            sizes = request.sizes()
        except PlaywrightError:  # the context closed while the event was on its way
            return
        transferred.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))

    context.on("requestfinished", finished)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if conditions:
        cdp.send("Network.emulateNetworkConditions", conditions)
    started = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/field/")
    _home_ready(page)
    usable_ms = (time.perf_counter() - started) * 1000
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60000)
    page.wait_for_load_state("networkidle")
    context.remove_listener("requestfinished", finished)
    first_visit = [(url, size) for url, size in transferred if "/tiles/" not in url and "tile." not in url]
    # The second visit: the service worker now serves the shell.
    started = time.perf_counter()
    page.reload()
    _home_ready(page)
    again_ms = (time.perf_counter() - started) * 1000
    context.close()
    return {
        "usable_ms": usable_ms,
        "again_ms": again_ms,
        "bytes": sum(size for _url, size in first_visit),
        "requests": len(first_visit),
    }


def shell_and_slow_3g(repeat: int = 3) -> dict:
    """The first-load figures: bytes (compressed and not) and time until usable (slow 3G and loopback)."""
    from playwright.sync_api import sync_playwright

    user, _grid = _officer()
    with live_server() as (port, _pid), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            cookie = _session(user, port)
            _first_load(browser, port, cookie)  # warm the server (imports, connections)
            slow = [_first_load(browser, port, cookie, conditions=SLOW_3G) for _ in range(repeat)]
            fast = [_first_load(browser, port, cookie) for _ in range(repeat)]
            identity = _first_load(browser, port, cookie, identity=True)
        finally:
            browser.close()
    return {
        "bytes": statistics.median(r["bytes"] for r in fast),
        "requests": fast[0]["requests"],
        "bytes_uncompressed": identity["bytes"],
        "slow_3g_ms": statistics.median(r["usable_ms"] for r in slow),
        "slow_3g_again_ms": statistics.median(r["again_ms"] for r in slow),
        "loopback_ms": statistics.median(r["usable_ms"] for r in fast),
    }


def _python_posts(port: int, user, bodies: list[list[bytes]], lon: float, lat: float) -> float:
    """The baseline: the same reports as multipart POSTs, one after the other, from Python."""
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    started = time.perf_counter()
    for n, photos in enumerate(bodies):
        boundary = uuid.uuid4().hex
        fields = {"category": "0101", "lon": str(lon + n * 0.0005), "lat": str(lat + 0.002), "source": "officer"}
        fields["description"] = f"{MARKER} baseline {n}"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        ]
        for p, photo in enumerate(photos):
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="b{n}-{p}.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            )
            parts.append(head.encode() + photo + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # A signed-in API write needs the CSRF pair, as the browser sends it.
        connection.request(
            "POST",
            "/api/v1/incidents/",
            body,
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": f"{cookie}; csrftoken=benchbenchbenchbenchbenchbench12",
                "X-CSRFToken": "benchbenchbenchbenchbenchbench12",
                "Referer": f"http://127.0.0.1:{port}/field/",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        answer = connection.getresponse()
        answer.read()
        connection.close()
        if answer.status != 201:
            raise RuntimeError(f"baseline POST answered {answer.status}")
    return (time.perf_counter() - started) * 1000


def queue_sync(reports: int = REPORTS) -> dict:
    """`reports` reports x 3 photos queued offline, then sent by the outbox once the network is back."""
    from playwright.sync_api import sync_playwright

    user, grid = _officer()
    spot = grid.boundary.point_on_surface
    try:
        with live_server() as (port, _pid), sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                context = browser.new_context(**PHONE, locale="zh-CN")
                context.add_cookies([_session(user, port)])
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/field/queue/")
                page.wait_for_selector("#queue-list[data-ready=true]", state="attached")
                cut = lambda route: route.abort("internetdisconnected")  # noqa: E731
                context.set_offline(True)
                context.route("**/*", cut)
                sizes = page.evaluate(QUEUE_REPORTS_JS, [reports, PHOTOS_PER_REPORT, spot.x, spot.y, MARKER])
                started = time.perf_counter()
                context.unroute("**/*", cut)
                context.set_offline(False)
                page.wait_for_function(
                    f"() => document.querySelectorAll('#queue-list [data-status=sent]').length === {reports}",
                    timeout=300000,
                    polling=100,
                )
                sync_ms = (time.perf_counter() - started) * 1000
                # The same photo bytes for the baseline, one photo per call (as base64, a few hundred KB each).
                bodies = [
                    [base64.b64decode(page.evaluate(PHOTO_AS_BASE64_JS, [n, p])) for p in range(PHOTOS_PER_REPORT)]
                    for n in range(reports)
                ]
                context.close()
            finally:
                browser.close()
            baseline_ms = _python_posts(port, user, bodies, spot.x, spot.y)
        stored = Case.objects.filter(description__startswith=f"{MARKER} ", source="officer").count()
    finally:
        Case.objects.filter(description__startswith=MARKER).delete()
    return {
        "sync_ms": sync_ms,
        "baseline_ms": baseline_ms,
        "stored": stored,
        "photo_bytes": sum(sizes),
    }


def suite(args=None) -> list:
    """The officer app's rows of `make bench`'s table."""
    from bench.common import Result

    # The smoke run on the demo city (tests/test_bench_smoke.py) measures once, with 5 reports.
    smoke = args is not None and getattr(args, "scale", "city") == "demo"
    reports = 5 if smoke else REPORTS
    first = shell_and_slow_3g(repeat=1 if smoke else 3)
    print(f"bench: field first load {first}", flush=True)
    sync = queue_sync(reports)
    print(f"bench: field outbox sync {sync}", flush=True)
    if sync["stored"] != 2 * reports:
        raise RuntimeError(f"the sync stored {sync['stored']} of {2 * reports} reports")
    return [
        Result(
            "field app shell, first load: KB transferred (compressed; value in the ms column)",
            first["bytes"] / 1024,
            None,
            "same load, compression refused",
            first["bytes_uncompressed"] / 1024,
            target="≤ 250 KB",
            extra={"requests": first["requests"], "bytes": first["bytes"]},
        ),
        Result(
            "field app home usable, first visit, slow 3G (400 kbit/s, 400 ms RTT)",
            first["slow_3g_ms"],
            None,
            "same, unthrottled loopback",
            first["loopback_ms"],
            target="≤ 3 s",
            extra={"second_visit_slow_3g_ms": first["slow_3g_again_ms"]},
        ),
        Result(
            f"field outbox sync, {reports} reports x {PHOTOS_PER_REPORT} photos, loopback",
            sync["sync_ms"],
            None,
            "same POSTs back to back from Python",
            sync["baseline_ms"],
            target="≤ 30 s",
            extra={
                "photo_bytes": sync["photo_bytes"],
                "mean_photo_kb": round(sync["photo_bytes"] / (reports * PHOTOS_PER_REPORT) / 1024),
            },
        ),
    ]


if __name__ == "__main__":
    for row in suite():
        print(row.as_dict())
