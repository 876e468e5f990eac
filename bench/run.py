"""`make bench`: build (or reuse) the city-scale database, run every benchmark, print one table.

The database is gridgis_bench in the project's local cluster (or DATABASE_URL), so the demo database
is left alone. Results also go to bench/results/<timestamp>.json with the machine's core count and
the data sizes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GRIDGIS_DB_NAME", "gridgis_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
# Benchmarks send thousands of requests from one address on purpose: the abuse throttles would answer 429.
os.environ.setdefault("GRIDGIS_THROTTLE", "off")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="calls per latency benchmark")
    parser.add_argument(
        "--cases", type=int, default=2_200_000, help="cases in the benchmark database (2,000 a day for three years)"
    )
    parser.add_argument("--only", nargs="*", help="run only benchmarks whose name contains one of these")
    parser.add_argument(
        "--scale", default="city", choices=["city", "demo"], help="demo runs a quick smoke pass on the small tree"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path(__file__).parent / "results",
        help="where the JSON record of the run goes",
    )
    args = parser.parse_args(argv)

    from gridgis import localdb

    if not os.environ.get("DATABASE_URL"):
        localdb.start()
    import django

    django.setup()
    from django.core.management import call_command

    from bench.common import Result
    from bench.suites import SUITES
    from common.models import DemoSeed
    from layers.grids.models import Grid

    call_command("migrate", verbosity=0)
    existing = DemoSeed.objects.first()
    if existing is None or existing.scale != args.scale:
        print(f"bench: building the {args.scale}-scale database (once; reused by later runs)", flush=True)
    # seed_demo skips the steps already loaded and adds those of layers that landed since.
    call_command("seed_demo", scale=args.scale, reset=existing is not None and existing.scale != args.scale)
    results: list[Result] = []
    for name, suite in SUITES:
        if args.only and not any(word in name for word in args.only):
            continue
        started = time.monotonic()
        print(f"bench: {name} ...", flush=True)
        results += suite(args)
        print(f"bench: {name} done in {time.monotonic() - started:.1f} s", flush=True)

    print_table(results)
    sizes = {
        "grids_by_level": {
            str(level): n
            for level, n in Grid.objects.filter(is_active=True)
            .values_list("level")
            .order_by("level")
            .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        }
    }
    record = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "scale": args.scale,
        "data": sizes,
        "results": [r.as_dict() for r in results],
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{record['when'].replace(':', '')}.json"
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2))
    print(f"bench: results written to {out}")
    return 0


def print_table(results) -> None:
    def fmt(value, digits=2):
        return "" if value is None else f"{value:.{digits}f}"

    header = ("what", "median ms", "p99 ms", "baseline (same run)", "baseline ms", "ratio", "target")
    rows = [
        (
            r.what,
            fmt(r.median_ms),
            fmt(r.p99_ms),
            r.baseline,
            fmt(r.baseline_median_ms),
            fmt(r.ratio, 1) + ("×" if r.ratio else ""),
            r.target,
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    for r in results:
        if r.extra:
            print(f"  {r.what}: {json.dumps(r.extra, ensure_ascii=False)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
